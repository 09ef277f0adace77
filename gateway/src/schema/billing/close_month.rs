//! The month close (SPEC §6): fixing every bill of a past month (operators), once.

use crate::errors::gql;
use crate::schema::{common::RequestState, scalars::Month};
use async_graphql::{Context, SimpleObject};
use ecl_proto::billing::CloseMonth;

#[derive(SimpleObject)]
pub struct CloseMonthResult {
    pub month: Month,
    pub bills: u64,
    pub already_closed: bool,
    pub closed_at: crate::schema::scalars::DateTime,
}

/// `closeMonth(month)`.
pub(super) async fn close_month(
    ctx: &Context<'_>,
    month: Month,
) -> async_graphql::Result<CloseMonthResult> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
    let month = ecl_kernel::Month::try_from(month).map_err(gql)?;
    let r = s.call(&CloseMonth { month }).await?;
    Ok(CloseMonthResult {
        month: r.month.into(),
        bills: r.bills,
        already_closed: r.already_closed,
        closed_at: r.closed_at.into(),
    })
}
