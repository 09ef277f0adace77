//! The special rules that reach beyond one resource's charge pattern (seed 003 2.5): the free
//! logical networks and 1 Gbps CIC link of a tenant, Cloud Foundry shared's 500-hour cap and the
//! free first days of a tenant's second Virtual Private CF environment.

use chrono::Duration;
use rust_decimal::Decimal;

use super::RatingError;
use super::charge::{ChargeLine, FreeReason, LineKind, ResourceCharge, TenantLine, amount6};
use super::menu::{CicSpeed, Menu, SpecialRule, Unit};
use super::pay_as_you_go::metered_with_caps;
use super::spans::{Span, plan_of};
use super::usage::Resource;

/// Logical networks per tenant whose charge is free (seed 003 2.5.1).
pub const FREE_LOGICAL_NETWORKS: u32 = 5;
/// Instance-hours per tenant and month after which Cloud Foundry shared is free (2.5.7).
pub const CF_SHARED_CAP_HOURS: i64 = 500;
/// Days a tenant's second Virtual Private CF environment is free (2.5.7).
pub const VPCF_FREE_DAYS: i64 = 30;
/// VM count from which the Windows guest image flat price applies (2.5.3).
pub const GUEST_IMAGE_FLAT_FROM_VMS: u32 = 8;

/// Logical networks: the charge of up to [`FREE_LOGICAL_NETWORKS`] networks of the tenant is
/// free (the allowance per network is the menu's cap).
pub(super) fn logical_network_allowance(
    menu: &Menu,
    charges: &[&ResourceCharge],
) -> Result<Option<ChargeLine>, RatingError> {
    let gross: Decimal = charges.iter().map(|c| c.total()).sum();
    let allowance_per_network = menu.max_cap().ok_or_else(|| RatingError::MissingCap {
        menu: menu.info.code.clone(),
        plan: menu
            .plans
            .first()
            .map(|p| p.plan.clone())
            .unwrap_or_default(),
    })?;
    let free = gross.min(allowance_per_network * Decimal::from(FREE_LOGICAL_NETWORKS));
    if free <= Decimal::ZERO {
        return Ok(None);
    }
    let mut line = ChargeLine::usage(None, menu.unit);
    line.kind = LineKind::Free(FreeReason::LogicalNetworkAllowance);
    line.amount = amount6(-free);
    line.description =
        format!("Free usage: the charge of up to {FREE_LOGICAL_NETWORKS} logical networks");
    Ok(Some(line))
}

/// One 1 Gbps CIC link per tenant is free: the largest single-link month among 1 Gbps links.
/// `charges[i]` was rated with `menus[i]`.
pub(super) fn free_cic_link(menus: &[&Menu], charges: &[ResourceCharge]) -> Option<TenantLine> {
    let mut best: Option<(Decimal, usize)> = None;
    for (i, c) in charges.iter().enumerate() {
        if menus[i].rule
            != (SpecialRule::Cic {
                speed: CicSpeed::OneGbps,
            })
        {
            continue;
        }
        for l in c
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Usage && l.quantity > Decimal::ZERO)
        {
            let one_link_month = l.amount / l.quantity;
            if best.is_none_or(|(b, _)| one_link_month > b) {
                best = Some((one_link_month, i));
            }
        }
    }
    let (free, i) = best.filter(|(f, _)| *f > Decimal::ZERO)?;
    let mut line = ChargeLine::usage(None, Unit::Month);
    line.kind = LineKind::Free(FreeReason::CicOneGbpsLink);
    line.amount = amount6(-free);
    line.description = "Free usage: one 1 Gbps colocation interconnect link per tenant".to_owned();
    Some(TenantLine {
        menu: menus[i].info.clone(),
        line,
    })
}

/// The second VPCF environment's first 30 days are free: the free line is what the month costs
/// minus what it would cost without the usage inside the window, so caps stay consistent.
pub(super) fn vpcf_free_line(
    menu: &Menu,
    resource: &Resource,
    spans: &[Span],
    lines: &[ChargeLine],
) -> Result<Option<ChargeLine>, RatingError> {
    let Some(from) = resource.effective_created_at() else {
        return Ok(None);
    };
    let until = from + Duration::days(VPCF_FREE_DAYS);
    let mut outside = Vec::new();
    for s in spans {
        if s.start < from {
            outside.push(Span {
                end: s.end.min(from),
                ..s.clone()
            });
        }
        if s.end > until {
            outside.push(Span {
                start: s.start.max(until),
                ..s.clone()
            });
        }
    }
    outside.retain(|s| s.end > s.start);
    let full: Decimal = lines.iter().map(|l| l.amount).sum();
    let rest: Decimal = metered_with_caps(menu, &outside)?
        .iter()
        .map(|l| l.amount)
        .sum();
    let free = full - rest;
    if free <= Decimal::ZERO {
        return Ok(None);
    }
    let mut l = ChargeLine::usage(None, menu.unit);
    l.kind = LineKind::Free(FreeReason::VirtualPrivateCfSecondEnvironment);
    l.amount = amount6(-free);
    l.description = format!(
        "Free usage: second environment of the tenant, first {VPCF_FREE_DAYS} days (until {})",
        until.format("%Y-%m-%d %H:%M:%S UTC")
    );
    Ok(Some(l))
}

/// Cloud Foundry shared: per plan, the tenant's instance usage is charged up to 500
/// instance-hours' worth (the plan's cap if set, else 500 h × the per-second price).
pub(super) fn cf_shared_cap_lines(
    menu: &Menu,
    charges: &[&ResourceCharge],
) -> Result<Vec<ChargeLine>, RatingError> {
    let mut plans: Vec<&str> = Vec::new();
    for c in charges {
        for l in &c.lines {
            if let Some(p) = l.plan.as_deref()
                && !plans.contains(&p)
            {
                plans.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for plan in plans {
        let price = plan_of(menu, plan)?;
        let hours_in_units =
            Decimal::from(CF_SHARED_CAP_HOURS * 3600 / menu.unit.seconds().unwrap_or(3600));
        let cap = price.cap.unwrap_or(price.unit_price * hours_in_units);
        let lines = charges
            .iter()
            .flat_map(|c| c.lines.iter())
            .filter(|l| l.plan.as_deref() == Some(plan));
        let gross: Decimal = lines.map(|l| l.amount).sum();
        if gross > cap {
            let mut l =
                ChargeLine::usage(Some((&price.plan, price.tier_label.as_deref())), menu.unit);
            l.kind = LineKind::Cap;
            l.amount = amount6(cap - gross);
            l.description = format!(
                "Cloud Foundry shared: capped at {CF_SHARED_CAP_HOURS} instance-hours per tenant ({})",
                cap.normalize()
            );
            out.push(l);
        }
    }
    Ok(out)
}
