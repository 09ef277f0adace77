//! Rating a resource and a tenant: the menu's charge pattern picks the lines, then the special
//! rules that span a tenant's resources add theirs.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::RatingError;
use super::charge::{ChargeLine, LineKind, ResourceCharge, TenantCharges, TenantLine, amount6};
use super::menu::{ChargePattern, Menu, SpecialRule, Unit};
use super::month::Period;
use super::monthly_fixed::fixed_lines;
use super::pay_as_you_go::metered_with_caps;
use super::prorated_daily::daily_lines;
use super::spans::{Span, clip, plan_of, runs};
use super::special_rules::{
    cf_shared_cap_lines, free_cic_link, logical_network_allowance, vpcf_free_line,
};
use super::usage::Resource;

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
    check(menu, resource)?;
    let spans = clip(resource, period);
    resource_lines(menu, resource, resource.environment_ordinal, &spans)
}

/// What rating a resource at `menu` may assume: the menu is the resource's, its special rule
/// suits its pattern, every interval is well formed and names a plan of the menu.
fn check(menu: &Menu, resource: &Resource) -> Result<(), RatingError> {
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
    Ok(())
}

/// The lines of one checked resource from its spans, at `menu`'s prices.
fn resource_lines(
    menu: &Menu,
    resource: &Resource,
    ordinal: Option<u32>,
    spans: &[Span],
) -> Result<ResourceCharge, RatingError> {
    let quantity = spans.iter().map(|s| s.qty).max().unwrap_or(Decimal::ONE);

    let mut lines = match menu.pattern {
        ChargePattern::MonthlyFixed => fixed_lines(menu, spans)?,
        ChargePattern::ProratedDaily => daily_lines(menu, spans)?,
        ChargePattern::Payg | ChargePattern::CappedPayg | ChargePattern::CappedPaygPlanChange => {
            let mut lines = metered_with_caps(menu, spans)?;
            if let SpecialRule::Oracle {
                windows_monthly_fee: Some(fee),
            } = &menu.rule
            {
                let n = runs(spans).len();
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
                && let Some(free) = vpcf_free_line(menu, resource, spans, &lines)?
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
    prepare(menus, resources, period)?.rate(menus)
}

/// A tenant's resources checked against a price list and cut to the period: the part of rating
/// that does not depend on prices. A child's end-user bill rates the same usage again at its
/// partner's prices ([`Prepared::rate`] with the re-priced list), so this is done once for both.
pub struct Prepared<'r> {
    /// Per resource, in order: the index of its menu in the price list, the resource, its rank
    /// among the tenant's Virtual Private CF environments, its spans.
    resources: Vec<(usize, &'r Resource, Option<u32>, Vec<Span>)>,
}

/// Prepares a tenant's resources for rating at `menus` (or at any list of the same menus in the
/// same order at other prices: see [`Prepared::rate`]).
pub fn prepare<'r>(
    menus: &[Menu],
    resources: &'r [Resource],
    period: &Period,
) -> Result<Prepared<'r>, RatingError> {
    let by_code: HashMap<&str, usize> = menus
        .iter()
        .enumerate()
        .map(|(i, m)| (m.info.code.as_str(), i))
        .collect();
    let mut resolved = Vec::with_capacity(resources.len());
    for r in resources {
        let i = *by_code
            .get(r.menu_code.as_str())
            .ok_or_else(|| RatingError::UnknownMenu {
                resource: r.id.clone(),
                menu: r.menu_code.clone(),
            })?;
        check(&menus[i], r)?;
        resolved.push((i, r));
    }

    // Rank the tenant's Virtual Private CF environments by creation.
    let mut vpcf: Vec<usize> = (0..resolved.len())
        .filter(|&i| menus[resolved[i].0].rule == SpecialRule::VirtualPrivateCf)
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
    Ok(Prepared {
        resources: resolved
            .into_iter()
            .zip(ordinals)
            .map(|((i, r), ordinal)| (i, r, ordinal, clip(r, period)))
            .collect(),
    })
}

impl Prepared<'_> {
    /// Rates the prepared resources at `menus`: the list they were prepared with, or one with
    /// the same menus (codes, plans, patterns and rules) in the same order at other prices.
    pub fn rate(&self, menus: &[Menu]) -> Result<TenantCharges, RatingError> {
        let mut out = TenantCharges::default();
        for (i, r, ordinal, spans) in &self.resources {
            let menu = menus
                .get(*i)
                .filter(|m| m.info.code == r.menu_code)
                .ok_or_else(|| RatingError::UnknownMenu {
                    resource: r.id.clone(),
                    menu: r.menu_code.clone(),
                })?;
            out.resources
                .push(resource_lines(menu, r, *ordinal, spans)?);
        }

        // Tenant-wide rules, menu by menu in order of first appearance.
        let mut seen: Vec<&Menu> = Vec::new();
        for (i, ..) in &self.resources {
            let menu = &menus[*i];
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
                    if let Some(line) = logical_network_allowance(menu, &charges)? {
                        out.tenant_lines.push(TenantLine {
                            menu: menu.info.clone(),
                            line,
                        });
                    }
                }
                _ => {}
            }
        }

        let menus_of: Vec<&Menu> = self.resources.iter().map(|(i, ..)| &menus[*i]).collect();
        out.tenant_lines
            .extend(free_cic_link(&menus_of, &out.resources));
        Ok(out)
    }
}
