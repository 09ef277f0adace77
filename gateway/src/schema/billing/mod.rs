//! Billing and metering: the price list, usage recording, bills (`Contract.bill`, `Contract.bills`,
//! `Tenant.usage`), month close, and the CSV export route. Bills and usage fan out through
//! DataLoaders, so a walk over many contracts or tenants costs one bus request per level.
//!
//! The roots below only route; each use case is in the file named after it:
//! [`price_list`] (menus and their prices), [`record_usage`] (usage events), [`bills`]
//! (`Contract.bill`/`bills`, the bill tree), [`tenant_usage`] (`Tenant.usage`), [`close_month`]
//! (fixing a month's bills) and [`exports`] (the CSV route).

mod bills;
mod close_month;
mod exports;
mod price_list;
mod record_usage;
mod tenant_usage;

pub use bills::*;
pub use close_month::CloseMonthResult;
pub use exports::{ExportQuery, export};
pub use price_list::*;
pub use record_usage::*;
pub use tenant_usage::*;

use super::{
    common::{PagedLoader, RequestState},
    scalars::Month,
};
use async_graphql::{Context, Object, dataloader::DataLoader};
use ecl_proto::billing::ListBills;

/// Adds this domain's loaders to a request (called by the HTTP handler).
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    let d = state.gate.delay();
    let req = req
        .data(
            DataLoader::new(
                PagedLoader::<ListBills>::new(state.clone()),
                state.gate.spawner(),
            )
            .delay(d),
        )
        .data(DataLoader::new(BillLoader(state.clone()), state.gate.spawner()).delay(d))
        .data(DataLoader::new(UsageLoader(state.clone()), state.gate.spawner()).delay(d));
    super::commercial::with_loaders(req, state)
}

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The price list in force in a month.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn menus(
        &self,
        ctx: &Context<'_>,
        filter: Option<MenuFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<MenuConnection> {
        let page = crate::schema::common::page_args(ctx, first, after, last, before);
        price_list::menus(ctx, filter.unwrap_or_default(), page).await
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Creates or replaces a menu's prices from `effectiveFrom` on (operators).
    async fn upsert_menu(
        &self,
        ctx: &Context<'_>,
        input: MenuInput,
    ) -> async_graphql::Result<Menu> {
        price_list::upsert_menu(ctx, input).await
    }

    /// Records a batch of usage events (operators and resource controllers); one result per
    /// event, in order. Rejected events store nothing.
    async fn record_usage(
        &self,
        ctx: &Context<'_>,
        events: Vec<UsageEventInput>,
    ) -> async_graphql::Result<Vec<UsageResult>> {
        record_usage::record_usage(ctx, events).await
    }

    /// Fixes every bill of a past month (operators). Idempotent.
    async fn close_month(
        &self,
        ctx: &Context<'_>,
        month: Month,
    ) -> async_graphql::Result<CloseMonthResult> {
        close_month::close_month(ctx, month).await
    }
}
