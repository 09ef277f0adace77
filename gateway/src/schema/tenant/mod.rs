//! Tenants of a contract, their workspaces and access rights. [`node`] is the `Tenant` type and
//! its lookups, [`workspaces`] the `Workspace` type, [`grants`] the `TenantGrant`; the roots below
//! route tenant, workspace and grant changes to the tenant service.

mod grants;
mod node;
mod workspaces;

pub use grants::*;
pub use node::*;
pub use workspaces::*;

use crate::errors::gql;
use crate::schema::common::RequestState;
use async_graphql::{Context, ID, Object, dataloader::DataLoader};
use ecl_kernel::AppError;
use ecl_proto::tenant::{
    CreateTenant, CreateWorkspace, DeleteTenant, SetTenantAccess, UpdateTenant, UpdateWorkspace,
};

/// The loaders of this file, put into every request.
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    let tenants = DataLoader::new(TenantLoader(state.clone()), state.gate.spawner())
        .delay(state.gate.delay());
    let workspaces = DataLoader::new(WorkspaceLoader(state.clone()), state.gate.spawner())
        .delay(state.gate.delay());
    req.data(tenants).data(workspaces)
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
    ) -> async_graphql::Result<crate::schema::common::DeletePayload> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let t = s.call(&DeleteTenant { id: id.to_string() }).await?;
        Ok(crate::schema::common::DeletePayload::of(t.id))
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
    ) -> async_graphql::Result<crate::schema::common::DeletePayload> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SetTenantAccess {
            tenant_id: tenant_id.to_string(),
            user_id: user_id.to_string(),
            granted: false,
        };
        s.call(&req).await?;
        Ok(crate::schema::common::DeletePayload::of(grant_id(
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
