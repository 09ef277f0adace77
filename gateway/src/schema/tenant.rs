//! Tenants of a contract.

use super::common::RequestState;
use async_graphql::{Context, ID, InputObject, Object};
use ecl_proto::{
    PageArgs,
    tenant::{CreateTenant, DeleteTenant, ListTenants, TenantView},
};

pub struct Tenant(pub TenantView);

crate::connection!(TenantConnection, TenantEdge, Tenant);

#[Object]
impl Tenant {
    async fn id(&self) -> ID {
        self.0.id.clone().into()
    }
    async fn contract_id(&self) -> ID {
        self.0.contract_id.clone().into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// `jp1`, `jp2`, `us1`, …
    async fn region(&self) -> &str {
        &self.0.region
    }
    async fn workspace_id(&self) -> &str {
        &self.0.workspace_id
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// The tenant's charges of a month (`YYYY-MM`).
    async fn usage(
        &self,
        ctx: &Context<'_>,
        month: String,
    ) -> async_graphql::Result<Option<super::billing::TenantUsage>> {
        super::billing::usage_of(ctx, &self.0.id, month).await
    }
}

#[derive(InputObject)]
pub struct TenantInput {
    pub name: String,
    pub region: String,
    /// Defaults to the contract's default workspace.
    pub workspace_id: Option<String>,
}

/// `Contract.tenants`, resolved through the request's batching loader.
pub async fn tenants_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<TenantConnection> {
    let page = super::common::load_page::<ListTenants>(ctx, contract_id, page).await?;
    Ok(TenantConnection::from_page(page, Tenant))
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
            workspace_id: input.workspace_id,
        };
        Ok(Tenant(s.call(&req).await?))
    }

    async fn delete_tenant(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Tenant> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(Tenant(s.call(&DeleteTenant { id: id.to_string() }).await?))
    }
}
