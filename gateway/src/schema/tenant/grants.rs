//! Access rights (SPEC §3): a user's grant to work in a tenant, with its global id.

use super::{Tenant, tenant_link};
use async_graphql::{Context, ID, Object};
use ecl_proto::tenant::GrantView;

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
    ) -> async_graphql::Result<Option<crate::schema::identity::User>> {
        crate::schema::identity::user_link(ctx, &self.0.user_id).await
    }
    async fn created_at(&self) -> crate::schema::scalars::DateTime {
        self.0.created_at.into()
    }
}
