//! Tenants of a contract.

use super::common::RequestState;
use async_graphql::{Context, ID, InputObject, Object};
use ecl_proto::{
    PageArgs,
    tenant::{
        CreateTenant, CreateWorkspace, DeleteTenant, GrantView, ListTenantUsers, ListTenants,
        ListUserTenants, ListWorkspaces, SetTenantAccess, TenantView, WorkspaceView,
    },
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
    /// The tenant's contract (null when the caller may not see it: a partner user granted a
    /// child's tenant). Loaded for every tenant on the page in one bus request.
    async fn contract(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::contract::Contract>> {
        super::contract::contract_link(ctx, Some(&self.0.contract_id)).await
    }
    /// The workspace the tenant is placed in (for the contract's managers), found among the
    /// contract's first 100 workspaces: one bus request per query level.
    async fn workspace(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Workspace>> {
        let page = PageArgs {
            first: Some(100),
            after: None,
        };
        let page =
            super::common::load_page::<ListWorkspaces>(ctx, &self.0.contract_id, page).await?;
        Ok(page
            .edges
            .into_iter()
            .map(|(_, w)| w)
            .find(|w| w.id == self.0.workspace_id)
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
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
    ) -> async_graphql::Result<super::users::UserConnection> {
        let page =
            super::common::load_page::<ListTenantUsers>(ctx, &self.0.id, PageArgs { first, after })
                .await?;
        Ok(super::users::UserConnection::from_page(
            page,
            super::identity::User,
        ))
    }
    /// Incidents recorded for this tenant.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
    ) -> async_graphql::Result<super::sla::IncidentConnection> {
        super::sla::incidents_of(ctx, &self.0.id, PageArgs { first, after }).await
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
#[derive(async_graphql::SimpleObject)]
pub struct TenantGrant {
    pub tenant_id: ID,
    pub user_id: ID,
    pub created_at: super::scalars::DateTime,
}

impl From<GrantView> for TenantGrant {
    fn from(g: GrantView) -> Self {
        TenantGrant {
            tenant_id: g.tenant_id.into(),
            user_id: g.user_id.into(),
            created_at: g.created_at.into(),
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
) -> async_graphql::Result<TenantConnection> {
    let page = super::common::load_page::<ListUserTenants>(ctx, user_id, page).await?;
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
            workspace_id: input.workspace_id.map(|w| w.0),
        };
        Ok(Tenant(s.call(&req).await?))
    }

    /// Deletes a tenant and its access rights.
    async fn delete_tenant(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Tenant> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(Tenant(s.call(&DeleteTenant { id: id.to_string() }).await?))
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
            .map(TenantGrant::from)
            .ok_or_else(|| async_graphql::Error::new("grant vanished"))
    }

    /// Takes a user's access to a tenant away (idempotent; true once it is gone).
    async fn revoke_tenant_access(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<bool> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SetTenantAccess {
            tenant_id: tenant_id.to_string(),
            user_id: user_id.to_string(),
            granted: false,
        };
        s.call(&req).await?;
        Ok(true)
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
}
