//! Coupons (SPEC §2, seed 002 "Inputting a coupon code").
//!
//! The operator defines a coupon: a 12-character code of `A–Z0–9`, an amount in a currency or a
//! percentage, for N months, optionally limited to menus or categories, with an optional
//! registration deadline, for one contract or reusable. A contract's owner registers the code; it
//! takes effect from the first day of the following month for N months ("the newly input coupon
//! code will be effective on the following month"); a code is registered once per contract. The
//! discount is a negative adjustment before tax, on the priced amounts ([`super::adjustments`]).

use std::fmt;

use chrono::{DateTime, Utc};
use ecl_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::bill::Bill;
use crate::rating::{Currency, Month, amount6};

/// Exactly 12 characters, each `A`–`Z` or `0`–`9` (seed 002: "a twelve digit numbers, composed
/// of English capital characters and numbers"). Lower case is refused rather than folded: the
/// code printed on the coupon is the code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CouponCode(String);

pub const COUPON_CODE_LEN: usize = 12;

impl CouponCode {
    pub fn parse(s: &str) -> AppResult<Self> {
        let ok = s.len() == COUPON_CODE_LEN
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(CouponCode(s.to_owned()))
        } else {
            Err(AppError::invalid(
                "code",
                format!(
                    "a coupon code is exactly {COUPON_CODE_LEN} characters of A-Z and 0-9 (got {} characters)",
                    s.chars().count()
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CouponCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CouponCode {
    type Error = AppError;
    fn try_from(s: String) -> AppResult<Self> {
        CouponCode::parse(&s)
    }
}

impl From<CouponCode> for String {
    fn from(c: CouponCode) -> String {
        c.0
    }
}

/// What a coupon takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CouponValue {
    /// Up to this amount a month, in the contract's currency.
    Amount { amount: Decimal, currency: Currency },
    /// This percentage of the (limited) charges.
    Percent { percent: Decimal },
}

/// What a coupon may be limited to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum CouponLimit {
    Menu(String),
    Category(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    pub code: CouponCode,
    pub value: CouponValue,
    /// Months the discount lasts, from the month after registration.
    pub months: u32,
    /// Empty: every charge of the bill.
    pub limited_to: Vec<CouponLimit>,
    /// Registrations at or after this instant are refused.
    pub register_until: Option<DateTime<Utc>>,
    /// Whether several contracts may register the code (each once).
    pub reusable: bool,
}

impl Coupon {
    /// Checks a coupon as the operator defines it.
    pub fn validate(&self) -> AppResult<()> {
        match self.value {
            CouponValue::Percent { percent } => {
                if percent.is_sign_negative() || percent > Decimal::ONE_HUNDRED {
                    return Err(AppError::invalid(
                        "percent",
                        format!("a percentage is between 0 and 100, got {percent}"),
                    ));
                }
            }
            CouponValue::Amount { amount, .. } => {
                if amount <= Decimal::ZERO {
                    return Err(AppError::invalid("amount", "a coupon amount is positive"));
                }
            }
        }
        if self.months == 0 {
            return Err(AppError::invalid(
                "months",
                "a coupon lasts at least one month",
            ));
        }
        Ok(())
    }

    /// Whether `contract_id` (in `currency`) may register the coupon at `now`. `registrants`
    /// are the contracts that already did.
    pub fn check_registration(
        &self,
        contract_id: &str,
        currency: Currency,
        registrants: &[String],
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        if self.register_until.is_some_and(|until| now >= until) {
            return Err(AppError::invalid(
                "code",
                format!("coupon {} has expired", self.code),
            ));
        }
        if registrants.iter().any(|c| c == contract_id) {
            return Err(AppError::conflict(format!(
                "coupon {} is already registered for contract {contract_id}",
                self.code
            )));
        }
        if !self.reusable && !registrants.is_empty() {
            return Err(AppError::conflict(format!(
                "coupon {} has already been used",
                self.code
            )));
        }
        if let CouponValue::Amount { currency: c, .. } = self.value
            && c != currency
        {
            return Err(AppError::invalid(
                "code",
                format!(
                    "coupon {} is in {}, the contract is billed in {}",
                    self.code,
                    c.code(),
                    currency.code()
                ),
            ));
        }
        Ok(())
    }

    /// The discount (positive, rounded toward zero to the currency's unit) on a bill, before
    /// the clamp of [`super::adjustments::apply_in_order`]. A percentage is of the limited menus'
    /// charges; an amount takes at most those charges.
    pub fn discount(&self, bill: &Bill) -> Decimal {
        let currency = bill.header.currency;
        let base = if self.limited_to.is_empty() {
            bill.subtotal
        } else {
            amount6(
                bill.tenants
                    .iter()
                    .flat_map(|t| &t.services)
                    .flat_map(|s| &s.categories)
                    .flat_map(|c| &c.resources)
                    .filter(|r| {
                        self.limited_to.iter().any(|l| match l {
                            CouponLimit::Menu(code) => *code == r.menu.code,
                            CouponLimit::Category(c) => *c == r.menu.category,
                        })
                    })
                    .map(|r| r.amount)
                    .sum(),
            )
        }
        .max(Decimal::ZERO);
        let off = match self.value {
            CouponValue::Percent { percent } => base * percent / Decimal::ONE_HUNDRED,
            CouponValue::Amount { amount, .. } => amount.min(base),
        };
        currency.round_down(off)
    }
}

/// A contract's registration of a coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub code: CouponCode,
    pub contract_id: String,
    pub registered_at: DateTime<Utc>,
    /// The month after registration.
    pub first_month: Month,
    pub months: u32,
}

impl Registration {
    pub fn new(coupon: &Coupon, contract_id: &str, at: DateTime<Utc>) -> Self {
        Registration {
            code: coupon.code.clone(),
            contract_id: contract_id.to_owned(),
            registered_at: at,
            first_month: Month::containing(at).next(),
            months: coupon.months,
        }
    }

    pub fn last_month(&self) -> Month {
        (1..self.months).fold(self.first_month, |m, _| m.next())
    }

    pub fn applies(&self, m: Month) -> bool {
        self.first_month <= m && m <= self.last_month()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{BillHeader, BillStatus, ContractInfo, TaxRule, TenantInfo};
    use crate::rating::testutil::{d, t};
    use crate::rating::{
        ChargePattern, Menu, Period, PlanPrice, Resource, Unit, UsageInterval, rate_tenant,
    };

    #[test]
    fn a_code_is_exactly_twelve_capitals_or_digits() {
        assert_eq!(
            CouponCode::parse("SPRING2026AB").unwrap().as_str(),
            "SPRING2026AB"
        );
        assert!(CouponCode::parse("000000000000").is_ok());
        for bad in [
            "SPRING2026A",   // 11
            "SPRING2026ABC", // 13
            "spring2026ab",  // lower case
            "SPRING2026Ab",
            "SPRING-026AB",
            "SPRING2026AＢ", // a full-width letter: 12 chars, more bytes
            "",
        ] {
            let e = CouponCode::parse(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("code"), "{bad:?}");
        }
        // the serde form validates too
        assert!(serde_json::from_str::<CouponCode>("\"abc\"").is_err());
    }

    fn coupon(value: CouponValue, months: u32) -> Coupon {
        Coupon {
            code: CouponCode::parse("APRIL0000001").unwrap(),
            value,
            months,
            limited_to: vec![],
            register_until: Some(t(2026, 3, 31, 0, 0, 0)),
            reusable: false,
        }
    }

    #[test]
    fn registered_in_march_it_applies_from_april_for_n_months() {
        let c = coupon(CouponValue::Percent { percent: d("10") }, 2);
        let r = Registration::new(&c, "econ1", t(2026, 3, 15, 12, 0, 0));
        let m = |s: &str| Month::parse(s).unwrap();
        assert_eq!(
            (r.first_month, r.last_month()),
            (m("2026-04"), m("2026-05"))
        );
        assert!(!r.applies(m("2026-03")));
        assert!(r.applies(m("2026-04")));
        assert!(r.applies(m("2026-05")));
        assert!(!r.applies(m("2026-06")));
        // registered on the last instant of December: from January of the next year
        let r = Registration::new(&c, "econ1", t(2026, 12, 31, 23, 59, 59));
        assert_eq!(r.first_month, m("2027-01"));
    }

    #[test]
    fn registration_is_refused_when_expired_twice_taken_or_in_another_currency() {
        let c = coupon(
            CouponValue::Amount {
                amount: d("1000"),
                currency: Currency::Jpy,
            },
            1,
        );
        let now = t(2026, 3, 15, 0, 0, 0);
        assert!(c.check_registration("a", Currency::Jpy, &[], now).is_ok());
        let late = c.check_registration("a", Currency::Jpy, &[], t(2026, 3, 31, 0, 0, 0));
        assert!(late.unwrap_err().message.contains("expired"));
        let twice = c
            .check_registration("a", Currency::Jpy, &["a".into()], now)
            .unwrap_err();
        assert_eq!(twice.code, ecl_kernel::ErrorCode::Conflict);
        assert!(
            c.check_registration("b", Currency::Jpy, &["a".into()], now)
                .is_err()
        );
        let reusable = Coupon {
            reusable: true,
            ..c.clone()
        };
        assert!(
            reusable
                .check_registration("b", Currency::Jpy, &["a".into()], now)
                .is_ok()
        );
        assert!(c.check_registration("a", Currency::Usd, &[], now).is_err());
    }

    #[test]
    fn bad_coupons_are_refused() {
        for p in ["-1", "101"] {
            let c = coupon(CouponValue::Percent { percent: d(p) }, 1);
            assert_eq!(c.validate().unwrap_err().field.as_deref(), Some("percent"));
        }
        assert!(
            coupon(CouponValue::Percent { percent: d("100") }, 1)
                .validate()
                .is_ok()
        );
        assert!(
            coupon(CouponValue::Percent { percent: d("5") }, 0)
                .validate()
                .is_err()
        );
    }

    /// A bill of a 1000.5-yen compute resource and a 500-yen monitoring fee.
    fn bill() -> Bill {
        let menus = [
            Menu::new(
                "vs",
                "Virtual Server",
                "Compute",
                Unit::Minute,
                ChargePattern::Payg,
                Currency::Jpy,
            )
            .with_plan(PlanPrice::new("p", d("1.0005"))),
            Menu::new(
                "mon",
                "Monitoring",
                "Advanced",
                Unit::Month,
                ChargePattern::MonthlyFixed,
                Currency::Jpy,
            )
            .with_plan(PlanPrice::new("adv", d("500"))),
        ];
        let s = t(2026, 4, 1, 0, 0, 0);
        let end = Some(s + chrono::Duration::minutes(1000));
        let resources = [
            Resource::new("vm", "vs").with_interval(UsageInterval::new("p", s, end)),
            Resource::new("m", "mon").with_interval(UsageInterval::new("adv", s, end)),
        ];
        let month = Month::parse("2026-04").unwrap();
        let charges = rate_tenant(&menus, &resources, &Period::whole(month)).unwrap();
        let header = BillHeader {
            contract: ContractInfo {
                contract_id: "c".into(),
                external_contract_id: None,
                customer_number: "c".into(),
            },
            month,
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

    #[test]
    fn discounts_are_of_the_limited_charges_rounded_down_and_never_more_than_them() {
        let b = bill();
        assert_eq!(b.subtotal, d("1500"));
        let pct = |p: &str, limits: Vec<CouponLimit>| Coupon {
            limited_to: limits,
            ..coupon(CouponValue::Percent { percent: d(p) }, 1)
        };
        // 15 % of 1500 = 225
        assert_eq!(pct("15", vec![]).discount(&b), d("225"));
        // 15 % of the compute line only: 1000.5 × 0.15 = 150.075 → 150
        assert_eq!(
            pct("15", vec![CouponLimit::Menu("vs".into())]).discount(&b),
            d("150")
        );
        assert_eq!(
            pct("10", vec![CouponLimit::Category("Monitoring".into())]).discount(&b),
            d("50")
        );
        // limited to a menu the bill does not use: nothing
        assert_eq!(
            pct("50", vec![CouponLimit::Menu("none".into())]).discount(&b),
            d("0")
        );
        let amount = |a: &str, limits| Coupon {
            limited_to: limits,
            ..coupon(
                CouponValue::Amount {
                    amount: d(a),
                    currency: Currency::Jpy,
                },
                1,
            )
        };
        assert_eq!(amount("300", vec![]).discount(&b), d("300"));
        // an amount limited to monitoring takes at most its 500
        assert_eq!(
            amount("800", vec![CouponLimit::Category("Monitoring".into())]).discount(&b),
            d("500")
        );
        assert_eq!(amount("99999", vec![]).discount(&b), d("1500"));
    }
}
