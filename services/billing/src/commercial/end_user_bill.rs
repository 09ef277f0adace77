//! End-user bills: a child's month re-rated at its partner's prices, with provenance.
//!
//! The provider bills the partner wholesale for its own usage and its children's (seed 000/001
//! "Billing for the Partner"); the partner bills each end user at prices it decides ("Billing for
//! the end-user"). An end-user bill is the same usage rated by the same engine with the menus
//! re-priced by the partner's rules ([`EndUserPrices`]), so the tree, the charge patterns, the caps
//! and the special rules are those of the wholesale bill, at end-user prices. Every line records
//! the rule that priced it and the wholesale amount of the same line ([`LineProvenance`]).

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::price_rules::{PriceRule, Repriced, RuleRef, reprice};
use crate::bill::{Bill, ResourceNode};
use crate::rating::{ChargeLine, LineKind, Menu, amount6};

/// The price list as one child's end users pay it in one month.
#[derive(Debug, Clone)]
pub struct EndUserPrices {
    /// What rating takes: every menu at the child's end-user prices, in price-list order.
    pub menus: Vec<Menu>,
    by_code: HashMap<String, Repriced>,
}

impl EndUserPrices {
    /// Re-prices the price list for `child_id` with the partner's rules in force that month
    /// ([`super::price_rules::in_force`]). One pass per child and month, not per resource.
    pub fn new(wholesale: &[Menu], rules: &[&PriceRule], child_id: &str) -> Self {
        let repriced: Vec<Repriced> = wholesale
            .iter()
            .map(|m| reprice(m, rules, child_id))
            .collect();
        let menus = repriced.iter().map(|r| r.menu.clone()).collect();
        let by_code = repriced
            .into_iter()
            .map(|r| (r.menu.info.code.clone(), r))
            .collect();
        Self { menus, by_code }
    }

    /// The rule that priced a line of a menu.
    pub fn rule_for(&self, menu_code: &str, plan: Option<&str>) -> Option<&RuleRef> {
        self.by_code.get(menu_code).and_then(|r| r.rule_for(plan))
    }
}

/// Where an end-user line's amount came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineProvenance {
    /// `None`: no rule applies, the end user pays the wholesale price.
    pub rule: Option<RuleRef>,
    /// The same line at wholesale prices (zero when only the end-user price produced it, such as
    /// a cap reached only at the higher price).
    pub wholesale: Decimal,
    pub end_user: Decimal,
}

/// Identifies "the same line" in the wholesale and the end-user bill: both are rated from the same
/// resources, so lines match by where they hang, their plan, kind and status, and their rank
/// among lines with those. Borrowed from the bill: a month of 100,000 resources has ~700,000
/// lines on each side.
type LineKey<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    LineKind,
    Option<&'a str>,
    usize,
);

/// Every line of a bill in tree order (tenant → service → category → resource → lines), the
/// order of the detail CSV and of [`provenance`]'s result, with its key.
fn keyed_lines(bill: &Bill) -> Vec<(LineKey<'_>, &str, &ChargeLine)> {
    let mut seen: HashMap<LineKey<'_>, usize> = HashMap::new();
    let mut out = Vec::new();
    for t in &bill.tenants {
        for s in &t.services {
            for c in &s.categories {
                for r in &c.resources {
                    for l in r.all_lines() {
                        let mut key = (
                            t.tenant.tenant_id.as_str(),
                            r.menu.code.as_str(),
                            r.resource_id.as_deref(),
                            l.plan.as_deref(),
                            l.kind,
                            l.status.as_deref(),
                            0,
                        );
                        let n = seen.entry(key).or_default();
                        key.6 = *n;
                        *n += 1;
                        out.push((key, r.menu.code.as_str(), l));
                    }
                }
            }
        }
    }
    out
}

/// The provenance of each line of `end_user`, in tree order.
///
/// Both bills are rated from the same resources in the same order and re-pricing changes no
/// menu's name or category, so their trees have the same shape: they are walked side by side and
/// lines matched within their resource ([`resource_provenance`]). Should the shapes ever differ
/// (a resource only one side rated), the lines are matched across the whole bill by key instead.
pub fn provenance(
    end_user: &Bill,
    wholesale: &Bill,
    prices: &EndUserPrices,
) -> Vec<LineProvenance> {
    same_shape(end_user, wholesale, prices).unwrap_or_else(|| by_key(end_user, wholesale, prices))
}

/// The side-by-side walk; `None` when the trees differ.
fn same_shape(
    end_user: &Bill,
    wholesale: &Bill,
    prices: &EndUserPrices,
) -> Option<Vec<LineProvenance>> {
    let mut out = Vec::new();
    let zip = |a: usize, b: usize| (a == b).then_some(());
    zip(end_user.tenants.len(), wholesale.tenants.len())?;
    for (te, tw) in end_user.tenants.iter().zip(&wholesale.tenants) {
        (te.tenant.tenant_id == tw.tenant.tenant_id).then_some(())?;
        zip(te.services.len(), tw.services.len())?;
        for (se, sw) in te.services.iter().zip(&tw.services) {
            zip(se.categories.len(), sw.categories.len())?;
            for (ce, cw) in se.categories.iter().zip(&sw.categories) {
                zip(ce.resources.len(), cw.resources.len())?;
                for (re, rw) in ce.resources.iter().zip(&cw.resources) {
                    (re.menu.code == rw.menu.code && re.resource_id == rw.resource_id)
                        .then_some(())?;
                    resource_provenance(re, rw, prices, &mut out);
                }
            }
        }
    }
    Some(out)
}

/// One resource's lines: "the same line" is the one with the same plan, kind and status, and
/// the same rank among such lines of the resource (a resource has a handful of lines).
fn resource_provenance(
    end_user: &ResourceNode,
    wholesale: &ResourceNode,
    prices: &EndUserPrices,
    out: &mut Vec<LineProvenance>,
) {
    let same = |a: &ChargeLine, b: &ChargeLine| {
        a.kind == b.kind && a.plan == b.plan && a.status == b.status
    };
    let repriced = prices.by_code.get(&end_user.menu.code);
    // (plan, its rule): consecutive lines mostly share a plan
    let mut last: Option<(Option<&str>, Option<&RuleRef>)> = None;
    for (i, l) in end_user.all_lines().enumerate() {
        let rank = end_user.all_lines().take(i).filter(|x| same(x, l)).count();
        let counterpart = wholesale.all_lines().filter(|x| same(x, l)).nth(rank);
        let plan = l.plan.as_deref();
        let rule = match last {
            Some((p, r)) if p == plan => r,
            _ => {
                let r = repriced.and_then(|r| r.rule_for(plan));
                last = Some((plan, r));
                r
            }
        };
        out.push(LineProvenance {
            rule: rule.cloned(),
            wholesale: counterpart.map_or_else(|| amount6(Decimal::ZERO), |x| x.amount),
            end_user: l.amount,
        });
    }
}

/// Lines matched across the whole bill by their key (the general case of [`same_shape`]).
fn by_key(end_user: &Bill, wholesale: &Bill, prices: &EndUserPrices) -> Vec<LineProvenance> {
    let wholesale_lines: HashMap<LineKey, Decimal> = keyed_lines(wholesale)
        .into_iter()
        .map(|(k, _, l)| (k, l.amount))
        .collect();
    keyed_lines(end_user)
        .into_iter()
        .map(|(key, menu, l)| LineProvenance {
            rule: prices.rule_for(menu, l.plan.as_deref()).cloned(),
            wholesale: wholesale_lines
                .get(&key)
                .copied()
                .unwrap_or_else(|| amount6(Decimal::ZERO)),
            end_user: l.amount,
        })
        .collect()
}

/// What a partner earns on one child in one month, before tax and adjustments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Margin {
    /// The child's part of the partner's bill (Σ its tenant totals at wholesale prices).
    pub wholesale: Decimal,
    /// The child's end-user bill before tax.
    pub end_user: Decimal,
    /// end_user − wholesale (negative when the partner sells below cost).
    pub margin: Decimal,
}

/// `wholesale`: the child's wholesale subtotal (its credits applied).
pub fn margin(wholesale: Decimal, end_user: &Bill) -> Margin {
    Margin {
        wholesale,
        end_user: end_user.subtotal,
        margin: end_user.subtotal - wholesale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{BillHeader, BillStatus, ContractInfo, TaxRule, TenantInfo};
    use crate::commercial::price_rules::{Pricing, RuleKind, RuleScope, in_force};
    use crate::rating::testutil::{d, t};
    use crate::rating::{
        ChargePattern, Currency, Month, Period, PlanPrice, Resource, Unit, UsageInterval, prepare,
        rate_tenant,
    };

    fn month() -> Month {
        Month::parse("2026-03").unwrap()
    }

    fn menus() -> Vec<Menu> {
        vec![
            Menu::new(
                "vs",
                "Virtual Server",
                "Compute",
                Unit::Minute,
                ChargePattern::CappedPayg,
                Currency::Jpy,
            )
            .with_plan(PlanPrice::new("small", d("1")).with_cap(d("10000")))
            .with_plan(PlanPrice::new("large", d("4")).with_cap(d("40000"))),
            Menu::new(
                "mon",
                "Monitoring",
                "Advanced",
                Unit::Month,
                ChargePattern::MonthlyFixed,
                Currency::Jpy,
            )
            .with_plan(PlanPrice::new("adv", d("500"))),
        ]
    }

    /// small runs 1000 minutes, large 2000 minutes, one monitoring fee.
    fn resources() -> Vec<Resource> {
        let s = t(2026, 3, 1, 0, 0, 0);
        let mins = |n| Some(s + chrono::Duration::minutes(n));
        vec![
            Resource::new("vm1", "vs").with_interval(UsageInterval::new("small", s, mins(1000))),
            Resource::new("vm2", "vs").with_interval(UsageInterval::new("large", s, mins(2000))),
            Resource::new("m1", "mon").with_interval(UsageInterval::new("adv", s, mins(10))),
        ]
    }

    fn bill(menus: &[Menu]) -> Bill {
        let charges = rate_tenant(menus, &resources(), &Period::whole(month())).unwrap();
        let header = BillHeader {
            contract: ContractInfo {
                contract_id: "child".into(),
                external_contract_id: None,
                customer_number: "child".into(),
            },
            month: month(),
            status: BillStatus::Fixed,
            currency: Currency::Jpy,
            tax_rule: TaxRule::JapaneseConsumption,
        };
        let tenant = TenantInfo {
            tenant_id: "t".into(),
            name: "t".into(),
            region: "jp1".into(),
            workspace_id: "w".into(),
            workspace_name: "w".into(),
        };
        Bill::build(header, vec![(tenant, charges)]).unwrap()
    }

    fn rules() -> Vec<PriceRule> {
        let rule = |id: &str, child: Option<&str>, scope, pricing| PriceRule {
            id: id.into(),
            partner_id: "p".into(),
            child_id: child.map(Into::into),
            scope,
            pricing,
            effective_from: month(),
            last_month: None,
        };
        vec![
            rule(
                "up20",
                None,
                RuleScope::All,
                Pricing::Markup { percent: d("20") },
            ),
            rule(
                "large3",
                Some("child"),
                RuleScope::Menu("vs".into()),
                Pricing::Fixed {
                    plan: "large".into(),
                    unit_price: d("3"),
                    cap: Some(d("5000")),
                },
            ),
        ]
    }

    #[test]
    fn the_end_user_bill_has_the_wholesale_tree_at_end_user_prices_with_provenance() {
        let rules = rules();
        let live = in_force(&rules, "child", month());
        let prices = EndUserPrices::new(&menus(), &live, "child");
        let wholesale = bill(&menus());
        let end_user = bill(&prices.menus);
        // wholesale: 1000 + 8000 + 500 = 9500
        assert_eq!(wholesale.subtotal, d("9500"));
        // end user: small 1000 × 1.2 = 1200; large 2000 × 3 = 6000 capped at 5000; 500 × 1.2 = 600
        assert_eq!(end_user.subtotal, d("6800"));
        assert_eq!(end_user.tax.amount, d("680"));

        let lines = provenance(&end_user, &wholesale, &prices);
        let summary: Vec<(Option<&str>, String, String)> = lines
            .iter()
            .map(|p| {
                (
                    p.rule.as_ref().map(|r| r.id.as_str()),
                    p.wholesale.to_string(),
                    p.end_user.to_string(),
                )
            })
            .collect();
        let s = |x: &str| x.to_string();
        assert_eq!(
            summary,
            [
                (Some("up20"), s("1000.000000"), s("1200.000000")),
                (Some("large3"), s("8000.000000"), s("6000.000000")),
                // the cap is reached only at the end-user price: no wholesale counterpart
                (Some("large3"), s("0.000000"), s("-1000.000000")),
                (Some("up20"), s("500.000000"), s("600.000000")),
            ]
        );
        assert_eq!(lines[1].rule.as_ref().unwrap().kind, RuleKind::Fixed);
        let m = margin(wholesale.subtotal, &end_user);
        assert_eq!(
            (m.wholesale, m.end_user, m.margin),
            (d("9500"), d("6800"), d("-2700"))
        );
    }

    #[test]
    fn rating_what_was_prepared_at_end_user_prices_equals_rating_afresh() {
        let rules = rules();
        let live = in_force(&rules, "child", month());
        let prices = EndUserPrices::new(&menus(), &live, "child");
        let resources = resources();
        let period = Period::whole(month());
        let prepared = prepare(&menus(), &resources, &period).unwrap();
        assert_eq!(
            prepared.rate(&menus()).unwrap(),
            rate_tenant(&menus(), &resources, &period).unwrap()
        );
        assert_eq!(
            prepared.rate(&prices.menus).unwrap(),
            rate_tenant(&prices.menus, &resources, &period).unwrap()
        );
        // a list without the resources' menus is refused, not misread
        let err = prepared.rate(&menus()[1..]).unwrap_err();
        assert!(matches!(
            err,
            crate::rating::RatingError::UnknownMenu { .. }
        ));
    }

    #[test]
    fn the_side_by_side_walk_matches_lines_as_the_keys_do() {
        let rules = rules();
        let live = in_force(&rules, "child", month());
        let prices = EndUserPrices::new(&menus(), &live, "child");
        let (wholesale, end_user) = (bill(&menus()), bill(&prices.menus));
        let walked = same_shape(&end_user, &wholesale, &prices).expect("same shape");
        assert_eq!(walked, by_key(&end_user, &wholesale, &prices));
        // a tree of another shape (a resource only one side has) is matched by key
        let mut fewer = wholesale.clone();
        fewer.tenants[0].services[0].categories[0].resources.pop();
        assert_eq!(same_shape(&end_user, &fewer, &prices), None);
        let keyed = provenance(&end_user, &fewer, &prices);
        assert_eq!(keyed.len(), walked.len());
        assert_eq!(keyed[0], walked[0]);
    }

    #[test]
    fn another_child_pays_the_partner_wide_prices_only() {
        let rules = rules();
        let live = in_force(&rules, "other", month());
        let prices = EndUserPrices::new(&menus(), &live, "other");
        let end_user = bill(&prices.menus);
        // (1000 + 8000 + 500) × 1.2
        assert_eq!(end_user.subtotal, d("11400"));
        // no rules at all: the wholesale bill, lines without provenance
        let prices = EndUserPrices::new(&menus(), &[], "other");
        let same = bill(&prices.menus);
        assert_eq!(same, bill(&menus()));
        assert!(
            provenance(&same, &bill(&menus()), &prices)
                .iter()
                .all(|p| p.rule.is_none() && p.wholesale == p.end_user)
        );
    }
}
