//! A menu at end-user prices: percentages scale every price of the menu (caps and special-rule
//! amounts included), a FIXED rule replaces one plan's price.

use super::{PriceRule, Pricing, RuleRef, resolve};
use crate::rating::{Menu, SpecialRule};

/// A menu at end-user prices, with the rule behind each price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repriced {
    pub menu: Menu,
    /// The rule that priced each plan (same order as `menu.plans`); `None`: wholesale price kept.
    pub plan_rules: Vec<Option<RuleRef>>,
    /// The rule that priced the menu's plan-less amounts (special-rule fees, phase-II caps).
    pub menu_rule: Option<RuleRef>,
}

impl Repriced {
    /// The rule behind a line of this menu: its plan's, or the menu's for plan-less lines.
    pub fn rule_for(&self, plan: Option<&str>) -> Option<&RuleRef> {
        plan.and_then(|p| {
            self.menu
                .plans
                .iter()
                .position(|x| x.plan == p)
                .and_then(|i| self.plan_rules[i].as_ref())
        })
        .or(self.menu_rule.as_ref())
    }
}

/// Re-prices one menu for one child with the rules in force. Percentages scale every price of
/// the menu, caps and special-rule amounts included, so `min(usage × price, cap)` keeps its shape
/// at the end-user price; a `FIXED` rule replaces one plan's price (and cap when it gives one).
pub fn reprice(menu: &Menu, rules: &[&PriceRule], child_id: &str) -> Repriced {
    let menu_rule = resolve(rules, child_id, &menu.info, None);
    let mut out = menu.clone();
    let mut plan_rules = Vec::with_capacity(menu.plans.len());
    for plan in &mut out.plans {
        let rule = resolve(rules, child_id, &menu.info, Some(&plan.plan));
        if let Some(r) = rule {
            match &r.pricing {
                Pricing::Fixed {
                    unit_price, cap, ..
                } => {
                    plan.unit_price = *unit_price;
                    if cap.is_some() {
                        plan.cap = *cap;
                    }
                }
                p => {
                    let k = p.factor().expect("percentage rule");
                    plan.unit_price *= k;
                    plan.cap = plan.cap.map(|c| c * k);
                }
            }
        }
        plan_rules.push(rule.map(PriceRule::reference));
    }
    if let Some(k) = menu_rule.and_then(|r| r.pricing.factor()) {
        match &mut out.rule {
            SpecialRule::WindowsGuestImage { flat_8_plus } => *flat_8_plus *= k,
            SpecialRule::Oracle {
                windows_monthly_fee: Some(fee),
            } => *fee *= k,
            _ => {}
        }
    }
    Repriced {
        menu: out,
        plan_rules,
        menu_rule: menu_rule.map(PriceRule::reference),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::rating::SpecialRule;

    #[test]
    fn markup_and_discount_scale_prices_and_caps_fixed_sets_one_plan() {
        let all = rule("up", None, RuleScope::All, markup("20"));
        let fix = rule(
            "fix",
            Some("c"),
            RuleScope::Menu("vs".into()),
            Pricing::Fixed {
                plan: "large".into(),
                unit_price: d("5"),
                cap: Some(d("2000")),
            },
        );
        let r = reprice(&menu(), &[&all, &fix], "c");
        let small = r.menu.plan("small").unwrap();
        assert_eq!((small.unit_price, small.cap), (d("1.2"), Some(d("720"))));
        let large = r.menu.plan("large").unwrap();
        assert_eq!((large.unit_price, large.cap), (d("5"), Some(d("2000"))));
        assert_eq!(r.rule_for(Some("small")).unwrap().id, "up");
        assert_eq!(r.rule_for(Some("large")).unwrap().kind, RuleKind::Fixed);
        assert_eq!(r.rule_for(None).unwrap().id, "up");

        let off = rule(
            "off",
            None,
            RuleScope::All,
            Pricing::Discount { percent: d("25") },
        );
        let r = reprice(&menu(), &[&off], "c");
        assert_eq!(r.menu.plan("small").unwrap().unit_price, d("0.75"));
        assert_eq!(r.menu.plan("large").unwrap().cap, Some(d("1800")));
        // no rule: the wholesale menu, no provenance
        let r = reprice(&menu(), &[], "c");
        assert_eq!(r.menu, menu());
        assert_eq!(r.rule_for(Some("small")), None);
    }

    #[test]
    fn percentages_scale_special_rule_amounts() {
        let oracle = Menu::new(
            "ora",
            "DB",
            "Oracle",
            Unit::Minute,
            ChargePattern::CappedPaygPlanChange,
            Currency::Jpy,
        )
        .with_rule(SpecialRule::Oracle {
            windows_monthly_fee: Some(d("1000")),
        });
        let up = rule("up", None, RuleScope::All, markup("10"));
        let r = reprice(&oracle, &[&up], "c");
        assert_eq!(
            r.menu.rule,
            SpecialRule::Oracle {
                windows_monthly_fee: Some(d("1100.0"))
            }
        );
    }
}
