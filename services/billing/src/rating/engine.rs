//! The rating functions: usage intervals + priced menu → charge lines.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::charge::{
    ChargeLine, FreeReason, LineKind, ResourceCharge, TenantCharges, TenantLine, amount6,
};
use super::menu::{ChargePattern, CicSpeed, Menu, PlanPrice, SpecialRule, SqlServerBasis, Unit};
use super::month::Period;
use super::usage::Resource;

/// Logical networks per tenant whose charge is free (seed 003 2.5.1).
pub const FREE_LOGICAL_NETWORKS: u32 = 5;
/// Instance-hours per tenant and month after which Cloud Foundry shared is free (2.5.7).
pub const CF_SHARED_CAP_HOURS: i64 = 500;
/// Days a tenant's second Virtual Private CF environment is free (2.5.7).
pub const VPCF_FREE_DAYS: i64 = 30;
/// VM count from which the Windows guest image flat price applies (2.5.3).
pub const GUEST_IMAGE_FLAT_FROM_VMS: u32 = 8;

/// Why usage could not be rated. Rating refuses rather than guesses: a wrong bill is worse
/// than a late one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("resource {resource}: menu {menu} is not in the price list")]
    UnknownMenu { resource: String, menu: String },
    #[error("resource {resource} belongs to menu {found}, not {expected}")]
    MenuMismatch {
        resource: String,
        expected: String,
        found: String,
    },
    #[error("menu {menu} has no plan {plan}")]
    UnknownPlan { menu: String, plan: String },
    #[error("menu {menu}, plan {plan}: a capped pattern needs a cap")]
    MissingCap { menu: String, plan: String },
    #[error("menu {menu}, plan {plan}: SQL Server on virtual servers needs the flavor's vCPUs")]
    MissingVcpus { menu: String, plan: String },
    #[error("menu {menu}: its special rule does not go with its charge pattern")]
    RuleNotAllowed { menu: String },
    #[error("resource {resource}: an interval ends before it starts or has a negative quantity")]
    InvalidInterval { resource: String },
}

/// A usage interval cut to the rated period.
#[derive(Debug, Clone)]
struct Span {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    plan: String,
    status: Option<String>,
    qty: Decimal,
}

impl Span {
    fn seconds(&self) -> i64 {
        (self.end - self.start).num_seconds()
    }
}

/// Rates one resource for a period.
///
/// Applies the menu's charge pattern and those special rules that concern the resource alone.
/// Rules that span a tenant's resources (five free logical networks, the free 1 Gbps CIC link,
/// the Cloud Foundry shared 500-hour cap, the ranking of Virtual Private CF environments) need
/// [`rate_tenant`]; here a VPCF resource is the free second environment only if its
/// `environment_ordinal` says 2.
pub fn rate_resource(
    menu: &Menu,
    resource: &Resource,
    period: &Period,
) -> Result<ResourceCharge, RatingError> {
    rate_with_ordinal(menu, resource, resource.environment_ordinal, period)
}

fn rate_with_ordinal(
    menu: &Menu,
    resource: &Resource,
    ordinal: Option<u32>,
    period: &Period,
) -> Result<ResourceCharge, RatingError> {
    if resource.menu_code != menu.info.code {
        return Err(RatingError::MenuMismatch {
            resource: resource.id.clone(),
            expected: menu.info.code.clone(),
            found: resource.menu_code.clone(),
        });
    }
    if !menu.rule.allows(menu.pattern) {
        return Err(RatingError::RuleNotAllowed {
            menu: menu.info.code.clone(),
        });
    }
    for i in &resource.intervals {
        if i.end.is_some_and(|e| e < i.start) || i.quantity.is_sign_negative() {
            return Err(RatingError::InvalidInterval {
                resource: resource.id.clone(),
            });
        }
        plan_of(menu, &i.plan)?;
    }
    let spans = clip(resource, period);
    let quantity = spans.iter().map(|s| s.qty).max().unwrap_or(Decimal::ONE);

    let mut lines = match menu.pattern {
        ChargePattern::MonthlyFixed => fixed_lines(menu, &spans)?,
        ChargePattern::ProratedDaily => daily_lines(menu, &spans)?,
        ChargePattern::Payg | ChargePattern::CappedPayg | ChargePattern::CappedPaygPlanChange => {
            let mut lines = metered_with_caps(menu, &spans)?;
            if let SpecialRule::Oracle {
                windows_monthly_fee: Some(fee),
            } = &menu.rule
            {
                let n = runs(&spans).len();
                if n > 0 {
                    let mut l = ChargeLine::usage(None, Unit::Month);
                    l.quantity = Decimal::from(n as u64);
                    l.amount = amount6(*fee * Decimal::from(n as u64));
                    l.description = "Windows monthly fixed fee".to_owned();
                    lines.push(l);
                }
            }
            if menu.rule == SpecialRule::VirtualPrivateCf
                && ordinal == Some(2)
                && let Some(free) = vpcf_free_line(menu, resource, &spans, &lines)?
            {
                lines.push(free);
            }
            lines
        }
    };
    lines.retain(|l| l.kind == LineKind::Usage || !l.amount.is_zero());

    Ok(ResourceCharge {
        menu: menu.info.clone(),
        resource_id: resource.id.clone(),
        resource_name: resource.name.clone(),
        quantity,
        lines,
    })
}

/// Rates all resources of one tenant for a period, then adds the tenant-wide lines:
/// the logical-network allowance, the free 1 Gbps CIC link and the Cloud Foundry shared cap.
/// Resources are rated in the given order, which is the order of the bill.
pub fn rate_tenant(
    menus: &[Menu],
    resources: &[Resource],
    period: &Period,
) -> Result<TenantCharges, RatingError> {
    let by_code: HashMap<&str, &Menu> = menus.iter().map(|m| (m.info.code.as_str(), m)).collect();
    let mut resolved = Vec::with_capacity(resources.len());
    for r in resources {
        let menu = by_code
            .get(r.menu_code.as_str())
            .ok_or_else(|| RatingError::UnknownMenu {
                resource: r.id.clone(),
                menu: r.menu_code.clone(),
            })?;
        resolved.push((*menu, r));
    }

    // Rank the tenant's Virtual Private CF environments by creation.
    let mut vpcf: Vec<usize> = (0..resolved.len())
        .filter(|&i| resolved[i].0.rule == SpecialRule::VirtualPrivateCf)
        .collect();
    vpcf.sort_by_key(|&i| {
        (
            resolved[i].1.effective_created_at(),
            resolved[i].1.id.clone(),
        )
    });
    let mut ordinals = vec![None; resolved.len()];
    for (rank, &i) in vpcf.iter().enumerate() {
        ordinals[i] = Some(resolved[i].1.environment_ordinal.unwrap_or(rank as u32 + 1));
    }

    let mut out = TenantCharges::default();
    for (i, (menu, r)) in resolved.iter().enumerate() {
        out.resources
            .push(rate_with_ordinal(menu, r, ordinals[i], period)?);
    }

    // Tenant-wide rules, menu by menu in order of first appearance.
    let mut seen: Vec<&Menu> = Vec::new();
    for (menu, _) in &resolved {
        if !seen.iter().any(|m| m.info.code == menu.info.code) {
            seen.push(menu);
        }
    }
    for menu in &seen {
        let charges: Vec<&ResourceCharge> = out
            .resources
            .iter()
            .filter(|c| c.menu.code == menu.info.code)
            .collect();
        match &menu.rule {
            SpecialRule::CloudFoundryShared => {
                for line in cf_shared_cap_lines(menu, &charges)? {
                    out.tenant_lines.push(TenantLine {
                        menu: menu.info.clone(),
                        line,
                    });
                }
            }
            SpecialRule::LogicalNetwork => {
                let gross: Decimal = charges.iter().map(|c| c.total()).sum();
                let allowance_per_network =
                    menu.max_cap().ok_or_else(|| RatingError::MissingCap {
                        menu: menu.info.code.clone(),
                        plan: menu
                            .plans
                            .first()
                            .map(|p| p.plan.clone())
                            .unwrap_or_default(),
                    })?;
                let free = gross.min(allowance_per_network * Decimal::from(FREE_LOGICAL_NETWORKS));
                if free > Decimal::ZERO {
                    let mut line = ChargeLine::usage(None, menu.unit);
                    line.kind = LineKind::Free(FreeReason::LogicalNetworkAllowance);
                    line.amount = amount6(-free);
                    line.description = format!(
                        "Free usage: the charge of up to {FREE_LOGICAL_NETWORKS} logical networks"
                    );
                    out.tenant_lines.push(TenantLine {
                        menu: menu.info.clone(),
                        line,
                    });
                }
            }
            _ => {}
        }
    }

    // One 1 Gbps CIC link per tenant is free: the largest single-link month among 1 Gbps links.
    let mut best: Option<(Decimal, usize)> = None;
    for (i, c) in out.resources.iter().enumerate() {
        if resolved[i].0.rule
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
    if let Some((free, i)) = best.filter(|(f, _)| *f > Decimal::ZERO) {
        let mut line = ChargeLine::usage(None, Unit::Month);
        line.kind = LineKind::Free(FreeReason::CicOneGbpsLink);
        line.amount = amount6(-free);
        line.description =
            "Free usage: one 1 Gbps colocation interconnect link per tenant".to_owned();
        out.tenant_lines.push(TenantLine {
            menu: resolved[i].0.info.clone(),
            line,
        });
    }
    Ok(out)
}

fn plan_of<'m>(menu: &'m Menu, plan: &str) -> Result<&'m PlanPrice, RatingError> {
    menu.plan(plan).ok_or_else(|| RatingError::UnknownPlan {
        menu: menu.info.code.clone(),
        plan: plan.to_owned(),
    })
}

fn cap_of(menu: &Menu, plan: &PlanPrice) -> Result<Decimal, RatingError> {
    plan.cap.ok_or_else(|| RatingError::MissingCap {
        menu: menu.info.code.clone(),
        plan: plan.plan.clone(),
    })
}

/// Cuts the intervals to the period; drops empty ones. Volume usage is kept when reported
/// (its start) inside the period.
fn clip(resource: &Resource, period: &Period) -> Vec<Span> {
    let mut spans: Vec<Span> = resource
        .intervals
        .iter()
        .filter_map(|i| {
            let end = i.end.unwrap_or(period.end()).min(period.end());
            let start = i.start.max(period.start());
            let volume_report = i.start >= period.start() && i.start < period.end();
            (end > start || (volume_report && i.end.is_none_or(|e| e == i.start))).then(|| Span {
                start,
                end: end.max(start),
                plan: i.plan.clone(),
                status: i.status.clone(),
                qty: i.quantity,
            })
        })
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

/// Maximal runs of contiguous or overlapping spans: each run is one start-and-termination.
fn runs(spans: &[Span]) -> Vec<Vec<&Span>> {
    let mut sorted: Vec<&Span> = spans.iter().collect();
    sorted.sort_by_key(|s| s.start);
    let mut out: Vec<Vec<&Span>> = Vec::new();
    let mut run_end: Option<DateTime<Utc>> = None;
    for s in sorted {
        match run_end {
            Some(e) if s.start <= e => {
                out.last_mut().expect("open run").push(s);
                run_end = Some(e.max(s.end));
            }
            _ => {
                out.push(vec![s]);
                run_end = Some(s.end);
            }
        }
    }
    out
}

/// Plans in order of first appearance.
fn plans_in_order(spans: &[Span]) -> Vec<&str> {
    let mut plans: Vec<&str> = Vec::new();
    for s in spans {
        if !plans.contains(&s.plan.as_str()) {
            plans.push(&s.plan);
        }
    }
    plans
}

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
fn metered_with_caps(menu: &Menu, spans: &[Span]) -> Result<Vec<ChargeLine>, RatingError> {
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

/// Monthly fixed: one charge per start-and-termination (run), priced per the menu's rule, with
/// runs of the same plan and explanation merged into one line of quantity n.
fn fixed_lines(menu: &Menu, spans: &[Span]) -> Result<Vec<ChargeLine>, RatingError> {
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

/// Prorated daily: per plan, daily rate × UTC calendar days touched × largest quantity; capped
/// per plan when the plan has a cap.
fn daily_lines(menu: &Menu, spans: &[Span]) -> Result<Vec<ChargeLine>, RatingError> {
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

/// The second VPCF environment's first 30 days are free: the free line is what the month costs
/// minus what it would cost without the usage inside the window, so caps stay consistent.
fn vpcf_free_line(
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
fn cf_shared_cap_lines(
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
