//! Tenants of a contract.

use super::common::RequestState;
use crate::errors::gql;
use async_graphql::{
    Context, ID, InputObject, Object,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::{
    Page, PageArgs,
    tenant::{CreateTenant, DeleteTenant, ListTenants, TenantView},
};
use std::collections::HashMap;

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
}

#[derive(InputObject)]
pub struct TenantInput {
    pub name: String,
    pub region: String,
    /// Defaults to the contract's default workspace.
    pub workspace_id: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TenantsKey {
    pub contract_id: String,
    pub page: PageArgs,
}

/// Batches `Contract.tenants` of every contract at one level into one `ListTenants` request.
pub struct TenantLoader(pub RequestState);

impl Loader<TenantsKey> for TenantLoader {
    type Value = Page<TenantView>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[TenantsKey],
    ) -> Result<HashMap<TenantsKey, Self::Value>, AppError> {
        let mut groups: HashMap<PageArgs, Vec<String>> = HashMap::new();
        for k in keys {
            groups
                .entry(k.page.clone())
                .or_default()
                .push(k.contract_id.clone());
        }
        let mut out = HashMap::new();
        for (page, contract_ids) in groups {
            for (contract_id, p) in self
                .0
                .bus
                .call(
                    &self.0.call,
                    &ListTenants {
                        contract_ids,
                        page: page.clone(),
                    },
                )
                .await?
            {
                out.insert(
                    TenantsKey {
                        contract_id,
                        page: page.clone(),
                    },
                    p,
                );
            }
        }
        Ok(out)
    }
}

/// `Contract.tenants`, resolved through the loader.
pub async fn tenants_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<TenantConnection> {
    let key = TenantsKey {
        contract_id: contract_id.to_string(),
        page,
    };
    let page = ctx
        .data_unchecked::<DataLoader<TenantLoader>>()
        .load_one(key)
        .await
        .map_err(gql)?;
    Ok(TenantConnection::from_page(
        page.unwrap_or_else(Page::empty),
        Tenant,
    ))
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
