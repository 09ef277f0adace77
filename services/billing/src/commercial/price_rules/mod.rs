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

//!
//! One use case per file: [`validate`] (what a new rule may be), [`history`] (superseding a
//! rule, the rules in force in a month), [`precedence`] (which rule prices a line) and
//! [`reprice`] (a menu at end-user prices).

mod history;
mod precedence;
mod reprice;
mod validate;

pub use history::{Supersede, in_force, supersede};
pub use precedence::resolve;
pub use reprice::{Repriced, reprice};
pub use validate::MenuCheck;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::rating::{MenuInfo, Month};

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
}

#[cfg(test)]
pub(super) mod testutil {
    pub(super) use super::*;
    pub(super) use crate::rating::Menu;
    pub(super) use crate::rating::testutil::d;
    pub(super) use crate::rating::{ChargePattern, Currency, PlanPrice, Unit};

    pub(super) fn m(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    pub(super) fn menu() -> Menu {
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

    pub(super) fn rule(
        id: &str,
        child: Option<&str>,
        scope: RuleScope,
        pricing: Pricing,
    ) -> PriceRule {
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

    pub(super) fn markup(p: &str) -> Pricing {
        Pricing::Markup { percent: d(p) }
    }

    pub(super) fn winner(rules: &[PriceRule], child: &str, plan: Option<&str>) -> Option<String> {
        let live = in_force(rules, child, m("2026-03"));
        resolve(&live, child, &menu().info, plan).map(|r| r.id.clone())
    }
}
