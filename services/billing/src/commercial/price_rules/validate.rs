//! What a new price rule may be: in force from the current month or later, a percentage between
//! 0 and 100, a FIXED price for a plan the menu has, a menu that may be resold.

use ecl_kernel::{AppError, AppResult};
use rust_decimal::Decimal;

use super::{PriceRule, Pricing, RuleScope};
use crate::rating::Month;

impl PriceRule {
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

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

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
