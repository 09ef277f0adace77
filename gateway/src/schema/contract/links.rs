//! Walking the tree (SPEC §9): contracts by id (`Contract.parent`, `Tenant.contract`,
//! `User.contract`), batched into one bus request per query level, and the children filter.
//! `Contract.children` pages through `common`'s `FilteredLoader`, as every other list does.

use crate::errors::gql;
use crate::schema::common::RequestState;
use async_graphql::{
    Context, InputObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::contract::{ContractFilter as ProtoFilter, ContractView};
use std::collections::HashMap;

use super::{Contract, ContractKind, ContractStatus};

#[derive(InputObject, Default, Clone)]
pub struct ContractFilter {
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub status: Option<ContractStatus>,
    pub kind: Option<ContractKind>,
    pub created_from: Option<crate::schema::scalars::DateTime>,
    pub created_to: Option<crate::schema::scalars::DateTime>,
}

impl From<ContractFilter> for ProtoFilter {
    fn from(f: ContractFilter) -> Self {
        ProtoFilter {
            name: f.name,
            external_id: f.external_id,
            status: f.status.map(Into::into),
            kind: f.kind.map(Into::into),
            created_from: f.created_from.map(Into::into),
            created_to: f.created_to.map(Into::into),
        }
    }
}

/// Contracts by id — `Contract.parent`, `Tenant.contract`, `User.contract` — one `GetContracts`
/// per query level. Ids the caller may not see are absent (the link is null).
pub struct ContractLoader(pub RequestState);

impl Loader<String> for ContractLoader {
    type Value = ContractView;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, ContractView>, AppError> {
        let req = ecl_proto::contract::GetContracts { ids: ids.to_vec() };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect())
    }
}

/// The contract `id` through the request's loader: null when absent or not visible.
pub async fn contract_link(
    ctx: &Context<'_>,
    id: Option<&str>,
) -> async_graphql::Result<Option<Contract>> {
    let Some(id) = id else { return Ok(None) };
    RequestState::of(ctx).require_auth()?;
    Ok(ctx
        .data_unchecked::<DataLoader<ContractLoader>>()
        .load_one(id.to_string())
        .await
        .map_err(gql)?
        .map(Contract))
}
