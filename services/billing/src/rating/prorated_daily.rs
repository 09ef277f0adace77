//! Prorated daily: the daily rate × the UTC calendar days a plan was used, capped per plan.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use super::RatingError;
use super::charge::{ChargeLine, LineKind, amount6};
use super::menu::{Menu, Unit};
use super::spans::{Span, plan_of, plans_in_order};

/// Prorated daily: per plan, daily rate × UTC calendar days touched × largest quantity; capped
/// per plan when the plan has a cap.
pub(super) fn daily_lines(menu: &Menu, spans: &[Span]) -> Result<Vec<ChargeLine>, RatingError> {
    let mut lines = Vec::new();
    for plan in plans_in_order(spans) {
        let price = plan_of(menu, plan)?;
        let mut days: BTreeSet<NaiveDate> = BTreeSet::new();
        let mut qty = Decimal::ZERO;
        for s in spans.iter().filter(|s| s.plan == plan && s.end > s.start) {
            qty = qty.max(s.qty);
            let last = (s.end - Duration::nanoseconds(1)).date_naive();
            let mut d = s.start.date_naive();
            while d <= last {
                days.insert(d);
                d = d.succ_opt().expect("date in range");
            }
        }
        let n = Decimal::from(days.len() as u64);
        let gross = amount6(n * price.unit_price * qty);
        let mut l = ChargeLine::usage(Some((&price.plan, price.tier_label.as_deref())), Unit::Day);
        l.quantity = n;
        l.amount = gross;
        lines.push(l);
        if let Some(cap) = price.cap.map(|c| c * qty).filter(|c| gross > *c) {
            let mut c =
                ChargeLine::usage(Some((&price.plan, price.tier_label.as_deref())), Unit::Day);
            c.kind = LineKind::Cap;
            c.amount = amount6(cap - gross);
            c.description = format!("Monthly cap of plan {plan}: {}", cap.normalize());
            lines.push(c);
        }
    }
    Ok(lines)
}
