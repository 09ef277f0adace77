//! Partner API keys: created and revoked by a contract's owner/admins, sent as `X-Api-Key`.

use super::common::RequestState;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use ecl_kernel::{Area, Level, Scope};
use ecl_proto::{
    PageArgs,
    identity::{ApiKeyView, CreateApiKey, ListApiKeys, RevokeApiKey},
};

/// What a key may do: read-only or read-write, per area. Write includes read. Every key may read
/// the contract tree it acts in (its contract and children, without customer information);
/// `CONTRACTS_READ` adds customer information, `CONTRACTS_WRITE` creating and changing children.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ApiScope {
    ContractsRead,
    ContractsWrite,
    TenantsRead,
    TenantsWrite,
    UsersRead,
    UsersWrite,
    BillingRead,
    BillingWrite,
    NotificationsRead,
    NotificationsWrite,
    SlaRead,
    SlaWrite,
}

const SCOPES: [(ApiScope, Area, Level); 12] = [
    (ApiScope::ContractsRead, Area::Contracts, Level::Read),
    (ApiScope::ContractsWrite, Area::Contracts, Level::Write),
    (ApiScope::TenantsRead, Area::Tenants, Level::Read),
    (ApiScope::TenantsWrite, Area::Tenants, Level::Write),
    (ApiScope::UsersRead, Area::Users, Level::Read),
    (ApiScope::UsersWrite, Area::Users, Level::Write),
    (ApiScope::BillingRead, Area::Billing, Level::Read),
    (ApiScope::BillingWrite, Area::Billing, Level::Write),
    (
        ApiScope::NotificationsRead,
        Area::Notifications,
        Level::Read,
    ),
    (
        ApiScope::NotificationsWrite,
        Area::Notifications,
        Level::Write,
    ),
    (ApiScope::SlaRead, Area::Sla, Level::Read),
    (ApiScope::SlaWrite, Area::Sla, Level::Write),
];

impl From<ApiScope> for Scope {
    fn from(s: ApiScope) -> Scope {
        SCOPES
            .iter()
            .find(|(g, _, _)| *g == s)
            .map(|&(_, area, level)| Scope { area, level })
            .expect("every ApiScope is in SCOPES")
    }
}

fn gql_scope(s: Scope) -> Option<ApiScope> {
    SCOPES
        .iter()
        .find(|(_, area, level)| *area == s.area && *level == s.level)
        .map(|(g, _, _)| *g)
}

pub struct ApiKey(pub ApiKeyView);

crate::connection!(ApiKeyConnection, ApiKeyEdge, ApiKey);

#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        self.0.id.clone().into()
    }
    async fn contract_id(&self) -> ID {
        self.0.contract_id.clone().into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The first characters of the secret (`ecl_` + 8), to recognise the key by.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn scopes(&self) -> Vec<ApiScope> {
        self.0.scopes.iter().filter_map(|s| gql_scope(*s)).collect()
    }
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
    async fn expires_at(&self) -> Option<super::scalars::DateTime> {
        self.0.expires_at.map(Into::into)
    }
    /// Updated at most once a minute.
    async fn last_used_at(&self) -> Option<super::scalars::DateTime> {
        self.0.last_used_at.map(Into::into)
    }
    async fn revoked_at(&self) -> Option<super::scalars::DateTime> {
        self.0.revoked_at.map(Into::into)
    }
}

#[derive(InputObject)]
pub struct ApiKeyInput {
    pub name: String,
    pub scopes: Vec<ApiScope>,
    /// Never expires when absent.
    pub expires_at: Option<super::scalars::DateTime>,
    /// The operator names the contract; everyone else gets a key for their own contract.
    pub contract_id: Option<ID>,
}

/// The new key's secret — shown this once, never again.
#[derive(SimpleObject)]
pub struct ApiKeyCreated {
    pub secret: String,
    pub api_key: ApiKey,
}

/// `Contract.apiKeys`, resolved through the request's batching loader.
pub async fn api_keys_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<ApiKeyConnection> {
    let page = super::common::load_page::<ListApiKeys>(ctx, contract_id, page).await?;
    Ok(ApiKeyConnection::from_page(page, ApiKey))
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// A key for a partner integration (owner and admins of the contract, or the operator).
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: ApiKeyInput,
    ) -> async_graphql::Result<ApiKeyCreated> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let created = s
            .call(&CreateApiKey {
                contract_id: input.contract_id.map(|c| c.to_string()),
                name: input.name,
                scopes: input.scopes.into_iter().map(Scope::from).collect(),
                expires_at: input.expires_at.map(Into::into),
            })
            .await?;
        Ok(ApiKeyCreated {
            secret: created.secret,
            api_key: ApiKey(created.api_key),
        })
    }

    /// Stops a key at once (idempotent).
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ApiKey> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(ApiKey(s.call(&RevokeApiKey { id: id.to_string() }).await?))
    }
}
