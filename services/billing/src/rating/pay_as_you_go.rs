//! Pay as you go, capped pay as you go, and the two-phase cap on plan change (seed 003 2.1–2.3):
//! exact usage × price per line, then the caps the pattern asks for.

use rust_decimal::Decimal;

use super::RatingError;
use super::charge::{ChargeLine, LineKind, amount6};
use super::menu::{ChargePattern, Menu, SpecialRule};
use super::spans::{Span, cap_of, plan_of, plans_in_order};

/// Usage lines per (plan, status): exact usage × price, rounded down to 6 places once per line.
fn metered_lines(menu: &Menu, spans: &[Span]) -> Result<Vec<ChargeLine>, RatingError> {
    let mut lines: Vec<ChargeLine> = Vec::new();
    // per line: Σ quantity × seconds (time units) or Σ volume
    let mut raw: Vec<Decimal> = Vec::new();
    for s in spans {
        let idx = match lines
            .iter()
            .position(|l| l.plan.as_deref() == Some(&s.plan) && l.status == s.status)
        {
            Some(i) => i,
            None => {
                let price = plan_of(menu, &s.plan)?;
                let mut l =
                    ChargeLine::usage(Some((&price.plan, price.tier_label.as_deref())), menu.unit);
                l.status = s.status.clone();
                lines.push(l);
                raw.push(Decimal::ZERO);
                lines.len() - 1
            }
        };
        raw[idx] += match menu.unit.seconds() {
            Some(_) => s.qty * Decimal::from(s.seconds()),
            None => s.qty,
        };
    }
    for (l, raw) in lines.iter_mut().zip(raw) {
        let price = plan_of(menu, l.plan.as_deref().unwrap_or_default())?.unit_price;
        let per = Decimal::from(menu.unit.seconds().unwrap_or(1));
        l.quantity = (raw / per)
            .round_dp_with_strategy(6, rust_decimal::RoundingStrategy::ToZero)
            .normalize();
        l.amount = amount6(raw * price / per);
    }
    Ok(lines)
}

/// Metered lines plus the caps the pattern asks for (phase I per plan, phase II for plan change).
pub(super) fn metered_with_caps(
    menu: &Menu,
    spans: &[Span],
) -> Result<Vec<ChargeLine>, RatingError> {
    let usage = metered_lines(menu, spans)?;
    let capped = match menu.pattern {
        ChargePattern::CappedPayg => menu.rule != SpecialRule::CloudFoundryShared,
        ChargePattern::CappedPaygPlanChange => true,
        _ => false,
    };
    if !capped {
        return Ok(usage);
    }
    let scale_by_quantity = menu.unit.seconds().is_some();
    let mut out = Vec::with_capacity(usage.len() + 2);
    let mut phase1_total = Decimal::ZERO;
    let mut max_cap: Option<Decimal> = None;
    for plan in plans_in_order(spans) {
        let price = plan_of(menu, plan)?;
        let max_qty = if scale_by_quantity {
            spans
                .iter()
                .filter(|s| s.plan == plan)
                .map(|s| s.qty)
                .max()
                .unwrap_or(Decimal::ONE)
        } else {
            Decimal::ONE
        };
        let cap = cap_of(menu, price)? * max_qty;
        let plan_lines: Vec<&ChargeLine> = usage
            .iter()
            .filter(|l| l.plan.as_deref() == Some(plan))
            .collect();
        let gross: Decimal = plan_lines.iter().map(|l| l.amount).sum();
        out.extend(plan_lines.into_iter().cloned());
        if gross > cap {
            let mut l =
                ChargeLine::usage(Some((&price.plan, price.tier_label.as_deref())), menu.unit);
            l.kind = LineKind::Cap;
            l.amount = amount6(cap - gross);
            l.description = format!("Monthly cap of plan {plan}: {}", cap.normalize());
            out.push(l);
        }
        phase1_total += gross.min(cap);
        max_cap = Some(max_cap.map_or(cap, |m| m.max(cap)));
    }
    if menu.pattern == ChargePattern::CappedPaygPlanChange
        && let Some(max_cap) = max_cap.filter(|m| phase1_total > *m)
    {
        let mut l = ChargeLine::usage(None, menu.unit);
        l.kind = LineKind::Cap;
        l.amount = amount6(max_cap - phase1_total);
        l.description = format!(
            "Two-phase cap: largest cap among the month's plans: {}",
            max_cap.normalize()
        );
        out.push(l);
    }
    Ok(out)
}
