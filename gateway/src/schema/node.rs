//! Relay's `Node` interface and `node(id)`: refetch any object a client cached by its id.
//!
//! Ids are globally unique already: contracts are `econ` + 10 digits, users `usr_…`, tenants
//! `ten_…`, workspaces `wsp_…`; a bill is `bil_<contract>@<month>`, a tenant's usage `usg_<tenant>@<month>`, a
//! grant `grt_<tenant>@<user>`. So `node(id)` reads the
//! type from the id and asks the service that owns it, with the same visibility as the typed
//! lookups (`NOT_FOUND` for what the caller may not see).

use super::{
    billing::{Bill, TenantUsage},
    common::RequestState,
    contract::Contract,
    identity::User,
    scalars::Month,
    tenant::{Tenant, Workspace},
};
use async_graphql::{Context, ID, Interface, Object};
use ecl_kernel::AppError;

/// An object with a global id, refetchable with `node(id)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Contract(Contract),
    User(User),
    Tenant(Tenant),
    Bill(Bill),
    TenantUsage(TenantUsage),
    Workspace(Workspace),
}

fn not_found(id: &str) -> async_graphql::Error {
    crate::errors::gql(AppError::not_found(format!("node {id}")))
}

/// `(owner id, month)` of a `bil_…@YYYY-MM` / `usg_…@YYYY-MM` id.
fn owner_and_month<'a>(rest: &'a str, id: &str) -> async_graphql::Result<(&'a str, Month)> {
    let (owner, month) = rest.rsplit_once('@').ok_or_else(|| not_found(id))?;
    Ok((owner, Month(month.to_string())))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id (`Contract`, `User`, `Tenant`, `Workspace`, `Bill`,
    /// `TenantUsage`).
    /// `NOT_FOUND` for unknown ids and for objects the caller may not see.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Node> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let id = id.as_str();
        if id.starts_with(ecl_kernel::ContractId::PREFIX) {
            let c = s
                .call(&ecl_proto::contract::GetContract { id: id.to_string() })
                .await?;
            return Ok(Node::Contract(Contract(c)));
        }
        if id.starts_with("usr_") {
            return Ok(Node::User(super::identity::user_by_id(ctx, id).await?));
        }
        if id.starts_with("ten_") {
            return Ok(Node::Tenant(super::tenant::tenant_by_id(ctx, id).await?));
        }
        if id.starts_with("wsp_") {
            let w = super::tenant::workspace_by_id(ctx, id).await?;
            return Ok(Node::Workspace(w));
        }
        if let Some(rest) = id.strip_prefix("bil_") {
            let (contract, month) = owner_and_month(rest, id)?;
            return super::billing::bill_of(ctx, contract, month, None)
                .await?
                .map(Node::Bill)
                .ok_or_else(|| not_found(id));
        }
        if let Some(rest) = id.strip_prefix("usg_") {
            let (tenant, month) = owner_and_month(rest, id)?;
            return super::billing::usage_of(ctx, tenant, month)
                .await?
                .map(Node::TenantUsage)
                .ok_or_else(|| not_found(id));
        }
        Err(not_found(id))
    }
}
