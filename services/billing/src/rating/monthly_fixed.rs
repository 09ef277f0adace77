//! Monthly fixed (seed 003 2.4): one charge per start-and-termination, priced per the menu's
//! special rule (monitoring's free basic plan, the Windows guest image flat price, SQL Server's
//! largest flavor or vCPU count).

use rust_decimal::Decimal;

use super::RatingError;
use super::charge::{ChargeLine, amount6};
use super::menu::{Menu, PlanPrice, SpecialRule, SqlServerBasis, Unit};
use super::spans::{Span, plan_of, runs};
use super::special_rules::GUEST_IMAGE_FLAT_FROM_VMS;

/// Monthly fixed: one charge per start-and-termination (run), priced per the menu's rule, with
/// runs of the same plan and explanation merged into one line of quantity n.
pub(super) fn fixed_lines(menu: &Menu, spans: &[Span]) -> Result<Vec<ChargeLine>, RatingError> {
    let mut lines: Vec<ChargeLine> = Vec::new();
    let mut push = |price: &PlanPrice, amount: Decimal, description: String| {
        let existing = lines.iter_mut().find(|l| {
            l.plan.as_deref() == Some(price.plan.as_str()) && l.description == description
        });
        match existing {
            Some(l) => {
                l.quantity += Decimal::ONE;
                l.amount = amount6(l.amount + amount);
            }
            None => {
                let mut l = ChargeLine::usage(
                    Some((&price.plan, price.tier_label.as_deref())),
                    Unit::Month,
                );
                l.quantity = Decimal::ONE;
                l.amount = amount6(amount);
                l.description = description;
                lines.push(l);
            }
        }
    };

    let (free_spans, paid_spans): (Vec<Span>, Vec<Span>) = match &menu.rule {
        SpecialRule::Monitoring { basic_plan } => {
            spans.iter().cloned().partition(|s| &s.plan == basic_plan)
        }
        _ => (Vec::new(), spans.to_vec()),
    };
    for _ in runs(&free_spans) {
        let price = plan_of(menu, &free_spans[0].plan)?;
        push(price, Decimal::ZERO, "Basic plan: free".to_owned());
    }

    for run in runs(&paid_spans) {
        let (price, amount, description) = match &menu.rule {
            SpecialRule::WindowsGuestImage { flat_8_plus } => {
                let vms = run.iter().map(|s| s.qty).max().unwrap_or(Decimal::ONE);
                let price = most_expensive_plan(menu, &run)?;
                if vms >= Decimal::from(GUEST_IMAGE_FLAT_FROM_VMS) {
                    (
                        price,
                        *flat_8_plus,
                        format!("{vms} VMs: flat price for 8 VMs or more"),
                    )
                } else {
                    (
                        price,
                        price.unit_price * vms,
                        format!("{vms} VMs × price per VM"),
                    )
                }
            }
            SpecialRule::SqlServer {
                basis: SqlServerBasis::VirtualServer,
            } => {
                let mut best: Option<(u32, &PlanPrice)> = None;
                for s in &run {
                    let p = plan_of(menu, &s.plan)?;
                    let vcpus = p.vcpus.ok_or_else(|| RatingError::MissingVcpus {
                        menu: menu.info.code.clone(),
                        plan: p.plan.clone(),
                    })?;
                    let better =
                        best.is_none_or(|(bv, bp)| (vcpus, p.unit_price) > (bv, bp.unit_price));
                    if better {
                        best = Some((vcpus, p));
                    }
                }
                let (vcpus, p) = best.expect("a run has spans");
                (
                    p,
                    p.unit_price,
                    format!("Priced by the largest flavor of the month ({vcpus} vCPUs)"),
                )
            }
            SpecialRule::SqlServer {
                basis: SqlServerBasis::DedicatedHypervisor,
            } => {
                let (p, amount, vcpus) = largest_price_times_quantity(menu, &run)?;
                (
                    p,
                    amount,
                    format!("Priced by the largest vCPU count of the month ({vcpus} vCPUs)"),
                )
            }
            _ => {
                let (p, amount, _) = largest_price_times_quantity(menu, &run)?;
                (p, amount, "Monthly fixed".to_owned())
            }
        };
        push(price, amount, description);
    }
    Ok(lines)
}

fn most_expensive_plan<'m>(menu: &'m Menu, run: &[&Span]) -> Result<&'m PlanPrice, RatingError> {
    let mut best: Option<&PlanPrice> = None;
    for s in run {
        let p = plan_of(menu, &s.plan)?;
        if best.is_none_or(|b| p.unit_price > b.unit_price) {
            best = Some(p);
        }
    }
    Ok(best.expect("a run has spans"))
}

/// The run's most expensive (plan price × quantity): a monthly fixed charge is for the largest
/// configuration held during the run.
fn largest_price_times_quantity<'m>(
    menu: &'m Menu,
    run: &[&Span],
) -> Result<(&'m PlanPrice, Decimal, Decimal), RatingError> {
    let mut best: Option<(&PlanPrice, Decimal, Decimal)> = None;
    for s in run {
        let p = plan_of(menu, &s.plan)?;
        let amount = p.unit_price * s.qty;
        if best.is_none_or(|(_, a, _)| amount > a) {
            best = Some((p, amount, s.qty));
        }
    }
    Ok(best.expect("a run has spans"))
}
