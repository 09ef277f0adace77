//! Contracts: the partner tree's root objects. [`node`] is the `Contract` type and its links,
//! [`links`] the batched lookups that walk the tree, [`lifecycle`] creating, updating and
//! abolishing contracts; the query roots below look contracts up.

mod lifecycle;
mod links;
mod node;

pub use lifecycle::*;
pub use links::*;
pub use node::*;

use crate::schema::common::RequestState;
use async_graphql::{Context, Object};
use ecl_proto::contract::{GetContract, SearchContracts};

#[derive(Default)]
pub struct ContractQuery;

#[Object]
impl ContractQuery {
    /// One contract. `NOT_FOUND` also for contracts outside the caller's tree.
    async fn contract(
        &self,
        ctx: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<Contract> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(Contract(s.call(&GetContract { id: id.to_string() }).await?))
    }

    /// Contracts the caller may see: all for the operator; one's own and, for partner owners and
    /// admins, its children.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContractFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<ContractConnection> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let page = s
            .call(&SearchContracts {
                filter: filter.unwrap_or_default().into(),
                page: crate::schema::common::page_args(ctx, first, after, last, before),
            })
            .await?;
        Ok(ContractConnection::from_page(page, Contract))
    }
}
