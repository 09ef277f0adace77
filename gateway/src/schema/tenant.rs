//! Tenants of a contract, their workspaces and access rights.

use super::common::RequestState;
use crate::errors::gql;
use async_graphql::{
    Context, ID, InputObject, Object,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    tenant::{
        CreateTenant, CreateWorkspace, DeleteTenant, GetTenants, GetWorkspaces, GrantView,
        ListTenantUsers, ListTenants, ListUserTenants, ListWorkspaces, SetTenantAccess,
        TenantFilter as ProtoFilter, TenantView, UpdateTenant, UpdateWorkspace, WorkspaceView,
    },
};
use std::collections::HashMap;

pub struct Tenant(pub TenantView);

crate::connection!(TenantConnection, TenantEdge, Tenant);

#[Object]
impl Tenant {
    pub async fn id(&self) -> ID {
        self.0.id.clone().into()
    }
    async fn contract_id(&self) -> ID {
        self.0.contract_id.clone().into()
    }
    /// The tenant's contract (null when the caller may not see it: a partner user granted a
    /// child's tenant). Loaded for every tenant on the page in one bus request.
    async fn contract(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::contract::Contract>> {
        super::contract::contract_link(ctx, Some(&self.0.contract_id)).await
    }
    /// The workspace the tenant is placed in (null unless the caller manages the contract).
    /// Loaded for every tenant on the page in one bus request.
    async fn workspace(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Workspace>> {
        RequestState::of(ctx).require_auth()?;
        Ok(ctx
            .data_unchecked::<DataLoader<WorkspaceLoader>>()
            .load_one(self.0.workspace_id.clone())
            .await
            .map_err(gql)?
            .map(Workspace))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// `jp1`, `jp2`, `us1`, …
    async fn region(&self) -> &str {
        &self.0.region
    }
    async fn workspace_id(&self) -> ID {
        self.0.workspace_id.clone().into()
    }
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
    /// Users with access to this tenant (all for its managers; a general user sees their own
    /// grant), loaded for every tenant on the page in one bus request.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<super::users::UserConnection> {
        let page = super::common::load_page::<ListTenantUsers>(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await?;
        Ok(super::users::UserConnection::from_page(
            page,
            super::identity::User,
        ))
    }
    /// Incidents recorded for this tenant.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<super::sla::IncidentConnection> {
        super::sla::incidents_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }
    /// The tenant's charges of a month.
    async fn usage(
        &self,
        ctx: &Context<'_>,
        month: super::scalars::Month,
    ) -> async_graphql::Result<Option<super::billing::TenantUsage>> {
        super::billing::usage_of(ctx, &self.0.id, month).await
    }
}

/// A workspace groups a contract's tenants (the summary bill is per workspace).
pub struct Workspace(pub WorkspaceView);

crate::connection!(WorkspaceConnection, WorkspaceEdge, Workspace);

#[Object]
impl Workspace {
    async fn id(&self) -> ID {
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
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
}

/// A user's access right to a tenant.
pub struct TenantGrant(pub GrantView);

/// A grant's global id: `grt_<tenant id>@<user id>` (one grant per tenant and user).
pub fn grant_id(tenant_id: &str, user_id: &str) -> String {
    format!("grt_{tenant_id}@{user_id}")
}

#[Object]
impl TenantGrant {
    async fn id(&self) -> ID {
        grant_id(&self.0.tenant_id, &self.0.user_id).into()
    }
    async fn tenant_id(&self) -> ID {
        self.0.tenant_id.clone().into()
    }
    async fn user_id(&self) -> ID {
        self.0.user_id.clone().into()
    }
    /// The tenant (null when the caller no longer sees it).
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tenant>> {
        tenant_link(ctx, &self.0.tenant_id).await
    }
    /// The user granted (null when the caller may not see them).
    async fn user(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::identity::User>> {
        super::identity::user_link(ctx, &self.0.user_id).await
    }
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
}

/// Tenants by id — `tenant(id)`, `node(id)`, `TenantGrant.tenant` — one `GetTenants` per query
/// level. Ids the caller may not see (as when walking to them) are absent.
pub struct TenantLoader(pub RequestState);

impl Loader<String> for TenantLoader {
    type Value = TenantView;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, TenantView>, AppError> {
        let req = GetTenants { ids: ids.to_vec() };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect())
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

/// The loaders of this file, put into every request.
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    let tenants = DataLoader::new(TenantLoader(state.clone()), state.gate.spawner())
        .delay(state.gate.delay());
    let workspaces = DataLoader::new(WorkspaceLoader(state.clone()), state.gate.spawner())
        .delay(state.gate.delay());
    req.data(tenants).data(workspaces)
}

/// The tenant `id` through the request's loader: null when absent or not visible.
pub async fn tenant_link(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<Tenant>> {
    RequestState::of(ctx).require_auth()?;
    Ok(ctx
        .data_unchecked::<DataLoader<TenantLoader>>()
        .load_one(id.to_string())
        .await
        .map_err(gql)?
        .map(Tenant))
}

/// The tenant `id`, or `NOT_FOUND` — for unknown ids and for tenants outside the caller's tree
/// alike, as when walking to it.
pub async fn tenant_by_id(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Tenant> {
    tenant_link(ctx, id)
        .await?
        .ok_or_else(|| gql(AppError::not_found(format!("tenant {id}"))))
}

/// Which tenants a list shows; every given field narrows it (all must match). Applied by the
/// tenant service before pagination: pages and `totalCount` are those of the filtered list.
#[derive(InputObject, Default, Clone)]
pub struct TenantFilter {
    /// A case-insensitive part of the name.
    pub name: Option<String>,
    /// Exactly this region (`jp1`).
    pub region: Option<String>,
    pub workspace_id: Option<ID>,
}

impl From<TenantFilter> for ProtoFilter {
    fn from(f: TenantFilter) -> Self {
        ProtoFilter {
            name: f.name,
            region: f.region,
            workspace_id: f.workspace_id.map(|w| w.0),
        }
    }
}

/// `Contract.workspaces`, through the batching loader.
pub async fn workspaces_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<WorkspaceConnection> {
    let page = super::common::load_page::<ListWorkspaces>(ctx, contract_id, page).await?;
    Ok(WorkspaceConnection::from_page(page, Workspace))
}

/// `User.tenants`, through the batching loader.
pub async fn tenants_of_user(
    ctx: &Context<'_>,
    user_id: &str,
    page: PageArgs,
    filter: Option<TenantFilter>,
) -> async_graphql::Result<TenantConnection> {
    let filter = filter.unwrap_or_default().into();
    let page =
        super::common::load_filtered_page::<ListUserTenants>(ctx, user_id, page, filter).await?;
    Ok(TenantConnection::from_page(page, Tenant))
}

#[derive(InputObject)]
pub struct TenantInput {
    pub name: String,
    pub region: String,
    /// Defaults to the contract's default workspace.
    pub workspace_id: Option<ID>,
}

/// `Contract.tenants`, resolved through the request's batching loader.
pub async fn tenants_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
    filter: Option<TenantFilter>,
) -> async_graphql::Result<TenantConnection> {
    let filter = filter.unwrap_or_default().into();
    let page =
        super::common::load_filtered_page::<ListTenants>(ctx, contract_id, page, filter).await?;
    Ok(TenantConnection::from_page(page, Tenant))
}

/// A change to a tenant: only the given fields change.
#[derive(InputObject, Default)]
pub struct UpdateTenantInput {
    pub name: Option<String>,
    /// Moves the tenant into another workspace of its contract.
    pub workspace_id: Option<ID>,
}

/// A change to a workspace: only the given fields change.
#[derive(InputObject, Default)]
pub struct UpdateWorkspaceInput {
    /// Unique among the contract's workspaces.
    pub name: Option<String>,
}

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// One tenant. `NOT_FOUND` also for tenants the caller could not walk to (outside their
    /// tree, or a general user's tenant they are not granted).
    async fn tenant(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Tenant> {
        tenant_by_id(ctx, id.as_str()).await
    }
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// A tenant in a contract: its owner/admins, or the partner's owner/admins for a child.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        input: TenantInput,
    ) -> async_graphql::Result<Tenant> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = CreateTenant {
            contract_id: contract_id.to_string(),
            name: input.name,
            region: input.region,
            workspace_id: input.workspace_id.map(|w| w.0),
        };
        Ok(Tenant(s.call(&req).await?))
    }

    /// Changes a tenant's name or workspace (those who may create it). Every bad field is
    /// reported at once (`extensions.fields`) and nothing changes.
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTenantInput,
    ) -> async_graphql::Result<Tenant> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = UpdateTenant {
            id: id.to_string(),
            name: input.name,
            workspace_id: input.workspace_id.map(|w| w.0),
        };
        Ok(Tenant(s.call(&req).await?))
    }

    /// Deletes a tenant and its access rights.
    async fn delete_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<super::common::DeletePayload> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let t = s.call(&DeleteTenant { id: id.to_string() }).await?;
        Ok(super::common::DeletePayload::of(t.id))
    }

    /// Lets a user work in a tenant (idempotent). The user belongs to the tenant's contract or to
    /// its partner; the caller manages the tenant's contract.
    async fn grant_tenant_access(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<TenantGrant> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SetTenantAccess {
            tenant_id: tenant_id.to_string(),
            user_id: user_id.to_string(),
            granted: true,
        };
        s.call(&req)
            .await?
            .map(TenantGrant)
            .ok_or_else(|| gql(AppError::internal("a grant vanished as it was made")))
    }

    /// Takes a user's access to a tenant away (idempotent): the payload names the grant that is
    /// gone (`TenantGrant.id`).
    async fn revoke_tenant_access(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<super::common::DeletePayload> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SetTenantAccess {
            tenant_id: tenant_id.to_string(),
            user_id: user_id.to_string(),
            granted: false,
        };
        s.call(&req).await?;
        Ok(super::common::DeletePayload::of(grant_id(
            &tenant_id, &user_id,
        )))
    }

    /// A workspace in a contract (its managers).
    async fn create_workspace(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        name: String,
    ) -> async_graphql::Result<Workspace> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = CreateWorkspace {
            contract_id: contract_id.to_string(),
            name,
        };
        Ok(Workspace(s.call(&req).await?))
    }

    /// Renames a workspace (the contract's managers); names stay unique within the contract.
    async fn update_workspace(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWorkspaceInput,
    ) -> async_graphql::Result<Workspace> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = UpdateWorkspace {
            id: id.to_string(),
            name: input.name,
        };
        Ok(Workspace(s.call(&req).await?))
    }
}
