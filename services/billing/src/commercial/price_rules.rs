//! A partner's price rules: what its end users pay (SPEC §6, seeds 000/001 "Billing for the
//! end-user": the fee for the end user is determined by the partner).
//!
//! A rule is `MARKUP` or `DISCOUNT` by a percentage of the wholesale price, or a `FIXED` unit
//! price (and cap) for one plan of one menu; it is scoped to the whole price list, a category or
//! one menu, for all children or one child, and is in force from a month (`effective_from`) to an
//! optional last month. Rules are never edited: a new rule for the same key supersedes the old one
//! from its first month ([`supersede`]), so a past month resolves exactly as it did then.
//!
//! Precedence, most specific first: child + menu > child + category > child > all + menu >
//! all + category > all. At the same level a plan's `FIXED` price beats a percentage for the
//! menu, and then the rule in force that started last wins.

use ecl_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::rating::{Menu, MenuInfo, Month, SpecialRule};

/// What a rule does to the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleKind {
    Markup,
    Discount,
    Fixed,
}

/// Which menus a rule prices.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "level", content = "value")]
pub enum RuleScope {
    /// The whole price list.
    All,
    /// Every menu of a category (the menu's `category`).
    Category(String),
    /// One menu, by price-list code.
    Menu(String),
}

impl RuleScope {
    /// 0 = all, 1 = category, 2 = menu.
    fn level(&self) -> u8 {
        match self {
            RuleScope::All => 0,
            RuleScope::Category(_) => 1,
            RuleScope::Menu(_) => 2,
        }
    }

    fn covers(&self, menu: &MenuInfo) -> bool {
        match self {
            RuleScope::All => true,
            RuleScope::Category(c) => *c == menu.category,
            RuleScope::Menu(code) => *code == menu.code,
        }
    }
}

/// The price a rule sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Pricing {
    /// Wholesale × (1 + percent / 100).
    Markup { percent: Decimal },
    /// Wholesale × (1 − percent / 100).
    Discount { percent: Decimal },
    /// One plan's unit price and, optionally, its cap (without one, the wholesale cap stays).
    Fixed {
        plan: String,
        unit_price: Decimal,
        cap: Option<Decimal>,
    },
}

impl Pricing {
    pub fn kind(&self) -> RuleKind {
        match self {
            Pricing::Markup { .. } => RuleKind::Markup,
            Pricing::Discount { .. } => RuleKind::Discount,
            Pricing::Fixed { .. } => RuleKind::Fixed,
        }
    }

    fn plan(&self) -> Option<&str> {
        match self {
            Pricing::Fixed { plan, .. } => Some(plan),
            _ => None,
        }
    }

    /// The multiplier of a percentage rule.
    fn factor(&self) -> Option<Decimal> {
        match self {
            Pricing::Markup { percent } => Some(Decimal::ONE + percent / Decimal::ONE_HUNDRED),
            Pricing::Discount { percent } => Some(Decimal::ONE - percent / Decimal::ONE_HUNDRED),
            Pricing::Fixed { .. } => None,
        }
    }
}

/// One price rule of a partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRule {
    pub id: String,
    pub partner_id: String,
    /// `None`: every child of the partner.
    pub child_id: Option<String>,
    pub scope: RuleScope,
    pub pricing: Pricing,
    pub effective_from: Month,
    /// Last month in force; `None` until ended or superseded.
    pub last_month: Option<Month>,
}

/// Which rule priced something: the provenance recorded on every end-user line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: String,
    pub kind: RuleKind,
}

impl PriceRule {
    pub fn kind(&self) -> RuleKind {
        self.pricing.kind()
    }

    pub fn reference(&self) -> RuleRef {
        RuleRef {
            id: self.id.clone(),
            kind: self.kind(),
        }
    }

    pub fn in_force(&self, m: Month) -> bool {
        self.effective_from <= m && self.last_month.is_none_or(|last| m <= last)
    }

    /// 1 (all) … 6 (child + menu), the precedence of SPEC §6.
    pub fn specificity(&self) -> u8 {
        let child = if self.child_id.is_some() { 3 } else { 0 };
        child + self.scope.level() + 1
    }

    /// Two rules with the same key compete for the same lines: the newer supersedes the older.
    fn same_key(&self, other: &PriceRule) -> bool {
        self.partner_id == other.partner_id
            && self.child_id == other.child_id
            && self.scope == other.scope
            && self.pricing.plan() == other.pricing.plan()
    }

    fn applies(&self, child_id: &str, menu: &MenuInfo, plan: Option<&str>) -> bool {
        self.child_id.as_deref().is_none_or(|c| c == child_id)
            && self.scope.covers(menu)
            && match self.pricing.plan() {
                Some(p) => plan == Some(p),
                None => true,
            }
    }

    /// The order in which competing rules win (greater wins).
    fn precedence(&self) -> (u8, bool, Month, &str) {
        (
            self.specificity(),
            self.pricing.plan().is_some(),
            self.effective_from,
            &self.id,
        )
    }

    /// Checks a new rule against the caller's month and the price list entry it names.
    /// `resellable` says whether the scoped menu may be sold to a child (`None`: not a menu
    /// scope, or the menu is unknown).
    pub fn validate(&self, current: Month, menu: Option<&MenuCheck>) -> AppResult<()> {
        if self.effective_from < current {
            return Err(AppError::invalid(
                "effectiveFrom",
                format!(
                    "a price rule takes effect in the current month ({current}) or later, never in the past ({})",
                    self.effective_from
                ),
            ));
        }
        if let Some(last) = self.last_month
            && last < self.effective_from
        {
            return Err(AppError::invalid(
                "lastMonth",
                "the last month is before the first",
            ));
        }
        match &self.pricing {
            Pricing::Markup { percent } | Pricing::Discount { percent } => {
                if percent.is_sign_negative() || *percent > Decimal::ONE_HUNDRED {
                    return Err(AppError::invalid(
                        "percent",
                        format!("a percentage is between 0 and 100, got {percent}"),
                    ));
                }
            }
            Pricing::Fixed {
                plan,
                unit_price,
                cap,
            } => {
                if !matches!(self.scope, RuleScope::Menu(_)) {
                    return Err(AppError::invalid(
                        "scope",
                        "a FIXED price is for one plan of one menu: scope it to a menu",
                    ));
                }
                if unit_price.is_sign_negative() || cap.is_some_and(|c| c.is_sign_negative()) {
                    return Err(AppError::invalid(
                        "unitPrice",
                        "prices and caps are not negative",
                    ));
                }
                if let Some(m) = menu
                    && !m.plans.iter().any(|p| p == plan)
                {
                    return Err(AppError::invalid(
                        "plan",
                        format!("menu {} has no plan {plan}", m.code),
                    ));
                }
            }
        }
        if let RuleScope::Menu(code) = &self.scope {
            match menu {
                None => return Err(AppError::not_found(format!("menu {code}"))),
                Some(m) if !m.resellable => {
                    return Err(AppError::invalid(
                        "scope",
                        format!("menu {code} is not resellable: a child cannot use it"),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// What validation needs to know of the menu a rule names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuCheck {
    pub code: String,
    pub resellable: bool,
    pub plans: Vec<String>,
}

/// What storing `new` does to the rules already there with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supersede {
    /// The old rule stays for its past months and ends the month before the new one starts.
    End { id: String, last_month: Month },
    /// The old rule had not begun yet when the new one starts: it would never price a month.
    Drop { id: String },
}

/// Keeps history: rules that already priced a month are ended, never changed or removed.
pub fn supersede(existing: &[PriceRule], new: &PriceRule) -> Vec<Supersede> {
    existing
        .iter()
        .filter(|old| old.id != new.id && old.same_key(new))
        .filter(|old| old.last_month.is_none_or(|l| l >= new.effective_from))
        .map(|old| {
            if old.effective_from >= new.effective_from {
                Supersede::Drop { id: old.id.clone() }
            } else {
                Supersede::End {
                    id: old.id.clone(),
                    last_month: new.effective_from.prev(),
                }
            }
        })
        .collect()
}

/// The rules of `partner_rules` that price `child_id`'s month `m`, for [`resolve`] and [`reprice`].
pub fn in_force<'a>(
    partner_rules: &'a [PriceRule],
    child_id: &str,
    m: Month,
) -> Vec<&'a PriceRule> {
    partner_rules
        .iter()
        .filter(|r| r.in_force(m) && r.child_id.as_deref().is_none_or(|c| c == child_id))
        .collect()
}

/// The rule that prices a plan of a menu for a child (`plan: None`: the menu's plan-less parts,
/// such as a special rule's flat fee), among rules already in force.
pub fn resolve<'a>(
    rules: &[&'a PriceRule],
    child_id: &str,
    menu: &MenuInfo,
    plan: Option<&str>,
) -> Option<&'a PriceRule> {
    rules
        .iter()
        .copied()
        .filter(|r| r.applies(child_id, menu, plan))
        .max_by(|a, b| a.precedence().cmp(&b.precedence()))
}

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
    use super::*;
    use crate::rating::testutil::d;
    use crate::rating::{ChargePattern, Currency, PlanPrice, Unit};

    fn m(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn menu() -> Menu {
        Menu::new(
            "vs",
            "Virtual Server",
            "Compute",
            Unit::Minute,
            ChargePattern::CappedPayg,
            Currency::Jpy,
        )
        .with_plan(PlanPrice::new("small", d("1")).with_cap(d("600")))
        .with_plan(PlanPrice::new("large", d("4")).with_cap(d("2400")))
    }

    fn rule(id: &str, child: Option<&str>, scope: RuleScope, pricing: Pricing) -> PriceRule {
        PriceRule {
            id: id.into(),
            partner_id: "p".into(),
            child_id: child.map(Into::into),
            scope,
            pricing,
            effective_from: m("2026-01"),
            last_month: None,
        }
    }

    fn markup(p: &str) -> Pricing {
        Pricing::Markup { percent: d(p) }
    }

    fn winner(rules: &[PriceRule], child: &str, plan: Option<&str>) -> Option<String> {
        let live = in_force(rules, child, m("2026-03"));
        resolve(&live, child, &menu().info, plan).map(|r| r.id.clone())
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let cat = || RuleScope::Category("Virtual Server".into());
        let one = || RuleScope::Menu("vs".into());
        let mut rules = vec![
            rule("all", None, RuleScope::All, markup("1")),
            rule("all+cat", None, cat(), markup("2")),
            rule("all+menu", None, one(), markup("3")),
            rule("child", Some("c1"), RuleScope::All, markup("4")),
            rule("child+cat", Some("c1"), cat(), markup("5")),
            rule("child+menu", Some("c1"), one(), markup("6")),
        ];
        // remove the winner each time: the next one in SPEC §6's order takes over
        for expected in [
            "child+menu",
            "child+cat",
            "child",
            "all+menu",
            "all+cat",
            "all",
        ] {
            assert_eq!(
                winner(&rules, "c1", Some("small")).as_deref(),
                Some(expected)
            );
            rules.retain(|r| r.id != expected);
        }
        assert_eq!(winner(&rules, "c1", Some("small")), None);
    }

    #[test]
    fn a_child_rule_does_not_price_another_child_and_other_categories_are_untouched() {
        let rules = vec![
            rule("c1", Some("c1"), RuleScope::All, markup("10")),
            rule(
                "net",
                None,
                RuleScope::Category("Network".into()),
                markup("5"),
            ),
        ];
        assert_eq!(winner(&rules, "c2", Some("small")), None);
        assert_eq!(winner(&rules, "c1", Some("small")).as_deref(), Some("c1"));
    }

    #[test]
    fn a_fixed_plan_price_beats_a_percentage_at_the_same_level_for_its_plan_only() {
        let one = || RuleScope::Menu("vs".into());
        let rules = vec![
            rule("pct", None, one(), markup("20")),
            rule(
                "fix",
                None,
                one(),
                Pricing::Fixed {
                    plan: "large".into(),
                    unit_price: d("3"),
                    cap: None,
                },
            ),
        ];
        assert_eq!(winner(&rules, "c", Some("large")).as_deref(), Some("fix"));
        assert_eq!(winner(&rules, "c", Some("small")).as_deref(), Some("pct"));
        assert_eq!(winner(&rules, "c", None).as_deref(), Some("pct"));
    }

    #[test]
    fn history_keeps_each_month_as_it_was() {
        let mut old = rule("old", None, RuleScope::All, markup("10"));
        let mut new = rule("new", None, RuleScope::All, markup("30"));
        new.effective_from = m("2026-04");
        let changes = supersede(std::slice::from_ref(&old), &new);
        assert_eq!(
            changes,
            [Supersede::End {
                id: "old".into(),
                last_month: m("2026-03")
            }]
        );
        old.last_month = Some(m("2026-03"));
        let rules = [old, new];
        let at = |month: &str| {
            let live = in_force(&rules, "c", m(month));
            resolve(&live, "c", &menu().info, None).map(|r| r.id.clone())
        };
        assert_eq!(at("2025-12"), None);
        assert_eq!(at("2026-03").as_deref(), Some("old"));
        assert_eq!(at("2026-04").as_deref(), Some("new"));
    }

    #[test]
    fn a_rule_that_has_not_begun_is_dropped_when_superseded_from_its_first_month() {
        let mut pending = rule("pending", None, RuleScope::All, markup("10"));
        pending.effective_from = m("2026-05");
        let mut new = rule("new", None, RuleScope::All, markup("15"));
        new.effective_from = m("2026-05");
        assert_eq!(
            supersede(&[pending], &new),
            [Supersede::Drop {
                id: "pending".into()
            }]
        );
        // a rule with another key is left alone
        let other = rule("other", Some("c"), RuleScope::All, markup("1"));
        assert!(supersede(&[other], &new).is_empty());
    }

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

    #[test]
    fn bad_rules_are_refused() {
        let now = m("2026-03");
        let check = MenuCheck {
            code: "vs".into(),
            resellable: true,
            plans: vec!["small".into(), "large".into()],
        };
        let ok = rule("r", None, RuleScope::Menu("vs".into()), markup("20"));
        let mut ok = ok;
        ok.effective_from = now;
        assert!(ok.validate(now, Some(&check)).is_ok());

        let mut past = ok.clone();
        past.effective_from = m("2026-02");
        assert_eq!(
            past.validate(now, Some(&check))
                .unwrap_err()
                .field
                .as_deref(),
            Some("effectiveFrom")
        );
        for p in ["100.01", "-1"] {
            let mut bad = ok.clone();
            bad.pricing = Pricing::Discount { percent: d(p) };
            assert_eq!(
                bad.validate(now, Some(&check))
                    .unwrap_err()
                    .field
                    .as_deref(),
                Some("percent")
            );
        }
        let mut edge = ok.clone();
        edge.pricing = Pricing::Discount { percent: d("100") };
        assert!(edge.validate(now, Some(&check)).is_ok());

        let closed = MenuCheck {
            resellable: false,
            ..check.clone()
        };
        assert_eq!(
            ok.validate(now, Some(&closed))
                .unwrap_err()
                .field
                .as_deref(),
            Some("scope")
        );
        let mut fixed_all = ok.clone();
        fixed_all.scope = RuleScope::All;
        fixed_all.pricing = Pricing::Fixed {
            plan: "small".into(),
            unit_price: d("1"),
            cap: None,
        };
        assert!(fixed_all.validate(now, None).is_err());
        let mut no_plan = ok.clone();
        no_plan.pricing = Pricing::Fixed {
            plan: "huge".into(),
            unit_price: d("1"),
            cap: None,
        };
        assert_eq!(
            no_plan
                .validate(now, Some(&check))
                .unwrap_err()
                .field
                .as_deref(),
            Some("plan")
        );
    }
}
