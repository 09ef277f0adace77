//! Workspaces (SPEC §3): a contract's groups of tenants (the summary bill is per workspace),
//! looked up by id for `Tenant.workspace` and `node(id)` and listed per contract.

use crate::errors::gql;
use crate::schema::common::RequestState;
use async_graphql::{
    Context, ID, InputObject, Object,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    tenant::{GetWorkspaces, ListWorkspaces, WorkspaceView},
};
use std::collections::HashMap;

/// A workspace groups a contract's tenants (the summary bill is per workspace).
pub struct Workspace(pub WorkspaceView);

crate::connection!(WorkspaceConnection, WorkspaceEdge, Workspace);

#[Object]
impl Workspace {
    /// `wsp_…`: refetchable with `node(id)`.
    pub async fn id(&self) -> ID {
        self.0.id.clone().into()
    }
    async fn contract_id(&self) -> ID {
        self.0.contract_id.clone().into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Every contract has one; tenants go there unless placed elsewhere.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    async fn created_at(&self) -> crate::schema::scalars::DateTime {
        self.0.created_at.into()
    }
}

/// Workspaces by id (`Tenant.workspace`), one `GetWorkspaces` per query level; absent unless
/// the caller manages their contract.
pub struct WorkspaceLoader(pub RequestState);

impl Loader<String> for WorkspaceLoader {
    type Value = WorkspaceView;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, WorkspaceView>, AppError> {
        let req = GetWorkspaces { ids: ids.to_vec() };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .map(|w| (w.id.clone(), w))
            .collect())
    }
}
/// `Contract.workspaces`, through the batching loader.
pub async fn workspaces_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<WorkspaceConnection> {
    let page = crate::schema::common::load_page::<ListWorkspaces>(ctx, contract_id, page).await?;
    Ok(WorkspaceConnection::from_page(page, Workspace))
}

/// A change to a workspace: only the given fields change.
#[derive(InputObject, Default)]
pub struct UpdateWorkspaceInput {
    /// Unique among the contract's workspaces.
    pub name: Option<String>,
}
/// The workspace `id`, or `NOT_FOUND` — for unknown ids and for workspaces of contracts the
/// caller does not manage alike (`node(id)`).
pub async fn workspace_by_id(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Workspace> {
    RequestState::of(ctx).require_auth()?;
    ctx.data_unchecked::<DataLoader<WorkspaceLoader>>()
        .load_one(id.to_string())
        .await
        .map_err(gql)?
        .map(Workspace)
        .ok_or_else(|| gql(AppError::not_found(format!("workspace {id}"))))
}
