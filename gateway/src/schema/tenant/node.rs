//! A tenant as the schema shows it (SPEC §3): its fields and links (contract, workspace, users,
//! incidents, usage), looked up by id in one request per query level, and listed per contract
//! or per user with a filter applied before pagination.

use super::{Workspace, WorkspaceLoader};
use crate::errors::gql;
use crate::schema::common::RequestState;
use async_graphql::{
    Context, ID, InputObject, Object,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    tenant::{
        GetTenants, ListTenantUsers, ListTenants, ListUserTenants, TenantFilter as ProtoFilter,
        TenantView,
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
    ) -> async_graphql::Result<Option<crate::schema::contract::Contract>> {
        crate::schema::contract::contract_link(ctx, Some(&self.0.contract_id)).await
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
    async fn created_at(&self) -> crate::schema::scalars::DateTime {
        self.0.created_at.into()
    }
    /// Users with access to this tenant (all for its managers; a general user sees their own
    /// grant), narrowed by `filter` as `Contract.users` is, loaded for every tenant on the page
    /// in one bus request.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::schema::identity::UserFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::users::UserConnection> {
        let page = crate::schema::common::load_filtered_page::<ListTenantUsers>(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
            filter.unwrap_or_default().into(),
        )
        .await?;
        Ok(crate::schema::users::UserConnection::from_page(
            page,
            crate::schema::identity::User,
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
    ) -> async_graphql::Result<crate::schema::sla::IncidentConnection> {
        crate::schema::sla::incidents_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
        )
        .await
    }
    /// The tenant's charges of a month.
    async fn usage(
        &self,
        ctx: &Context<'_>,
        month: crate::schema::scalars::Month,
    ) -> async_graphql::Result<Option<crate::schema::billing::TenantUsage>> {
        crate::schema::billing::usage_of(ctx, &self.0.id, month).await
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
/// `User.tenants`, through the batching loader.
pub async fn tenants_of_user(
    ctx: &Context<'_>,
    user_id: &str,
    page: PageArgs,
    filter: Option<TenantFilter>,
) -> async_graphql::Result<TenantConnection> {
    let filter = filter.unwrap_or_default().into();
    let page =
        crate::schema::common::load_filtered_page::<ListUserTenants>(ctx, user_id, page, filter)
            .await?;
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
        crate::schema::common::load_filtered_page::<ListTenants>(ctx, contract_id, page, filter)
            .await?;
    Ok(TenantConnection::from_page(page, Tenant))
}

/// A change to a tenant: only the given fields change.
#[derive(InputObject, Default)]
pub struct UpdateTenantInput {
    pub name: Option<String>,
    /// Moves the tenant into another workspace of its contract.
    pub workspace_id: Option<ID>,
}
