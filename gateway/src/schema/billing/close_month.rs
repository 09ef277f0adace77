//! The month close (SPEC §6): fixing every bill of a past month (operators), once.

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
    let r = s.call(&CloseMonth { month: month.0 }).await?;
    Ok(CloseMonthResult {
        month: r.month.into(),
        bills: r.bills,
        already_closed: r.already_closed,
        closed_at: r.closed_at.into(),
    })
}
