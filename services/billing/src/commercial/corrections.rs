//! Corrections of FIXED bills (credit notes; SPEC §2 "a later credit or correction on a referred
//! bill claws back on the next statement"): the operator corrects a closed month's bill by an
//! amount, negative to credit the customer, positive to charge more, with a reason.
//!
//! A fixed bill is never re-rated: its stored body keeps what the close computed, and each
//! correction is kept beside it and applied whenever the bill is read ([`correct`], called from
//! the one place fixed bills are read back: `commercial::serve::corrections`). So the GraphQL
//! bill, the three CSV files, payments and the agencies' statements all see one corrected bill.
//!
//! # Where a correction applies
//!
//! After everything the close applied (price → coupon → SLA credit, see
//! [`super::adjustments`]), before tax: each correction is a tier-2 adjustment line
//! ([`AdjustmentKind::Correction`]) after the coupons, in the order they were made; the pre-tax
//! total is the bill's subtotal plus every adjustment; the tax is recomputed on it and rounded
//! down, and the total is the pre-tax total plus that tax (the bill's own rounding rules). A
//! correction is rounded toward zero to the currency's unit when it is made, as coupons are, so
//! the amount stored is the amount billed. Unlike the close's adjustments, a correction is never
//! clamped: one that would take the pre-tax total below zero is refused and nothing is stored.
//!
//! A correction is of one contract's bill: a child's corrected bill leaves its partner's bill
//! (which holds the child's tenants) and the child's end-user bill as they were.

use chrono::{DateTime, Utc};
use ecl_kernel::{AppError, AppResult, Validation};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::bill::Bill;
use crate::commercial::adjustments::{AdjustmentKind, Applied};
use crate::rating::{Currency, Month};

/// The longest reason, in characters.
pub const REASON_MAX: usize = 200;

/// A correction of one contract's fixed bill of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub id: String,
    pub contract_id: String,
    pub month: Month,
    /// In the bill's currency, rounded toward zero to its unit: negative credits the customer.
    pub amount: Decimal,
    pub reason: String,
    /// Who made it (the operator's user id).
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

/// A correction's input, checked: a non-zero amount and a trimmed reason of 1–200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub amount: Decimal,
    pub reason: String,
}

/// Checks a correction's input, every field at once (`INVALID_INPUT` on `amount`, `reason`).
pub fn requested(amount: &str, reason: &str) -> AppResult<Requested> {
    let mut v = Validation::new();
    let parsed = amount.trim().parse::<Decimal>().ok();
    v.check(
        "amount",
        parsed.is_some(),
        format!("{amount:?} is not a decimal number"),
    );
    if let Some(a) = parsed {
        v.check("amount", !a.is_zero(), "a correction's amount is not zero");
    }
    let reason = reason.trim();
    let length = reason.chars().count();
    v.check("reason", length > 0, "a correction says why it is made");
    v.check(
        "reason",
        length <= REASON_MAX,
        format!("a reason is at most {REASON_MAX} characters, got {length}"),
    );
    v.finish()?;
    Ok(Requested {
        amount: parsed.unwrap_or_default(),
        reason: reason.to_string(),
    })
}

impl Requested {
    /// The amount in `currency`'s unit (toward zero, as coupons round), or `INVALID_INPUT` when
    /// nothing of it is left.
    pub fn amount_in(&self, currency: Currency) -> AppResult<Decimal> {
        let a = currency.round_down(self.amount);
        if a.is_zero() {
            return Err(AppError::invalid(
                "amount",
                format!(
                    "{} is less than one unit of {}",
                    self.amount,
                    currency.code()
                ),
            ));
        }
        Ok(a)
    }
}

/// Why corrections cannot apply to a bill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the corrections take the bill's total before tax to {pre_tax}, below zero")]
pub struct BelowZero {
    pub pre_tax: Decimal,
}

/// The bill's total before tax: its subtotal and every adjustment.
pub fn pre_tax(bill: &Bill) -> Decimal {
    bill.subtotal + bill.adjustments.iter().map(|a| a.amount).sum::<Decimal>()
}

/// The fixed bill with its corrections, in order: one adjustment line each after the close's
/// adjustments, the tax recomputed on the corrected total before tax (rounded down), the total
/// that plus the tax. A bill without corrections is returned as stored.
pub fn correct(mut bill: Bill, corrections: &[Correction]) -> Result<Bill, BelowZero> {
    if corrections.is_empty() {
        return Ok(bill);
    }
    let currency = bill.header.currency;
    bill.adjustments.extend(corrections.iter().map(|c| Applied {
        kind: AdjustmentKind::Correction,
        label: c.reason.clone(),
        source: c.id.clone(),
        amount: currency.round_down(c.amount),
    }));
    let pre_tax = currency.round_down(pre_tax(&bill));
    if pre_tax < Decimal::ZERO {
        return Err(BelowZero { pre_tax });
    }
    bill.tax.amount = currency.round_down(pre_tax * bill.tax.percent / Decimal::ONE_HUNDRED);
    bill.total = currency.round_down(pre_tax + bill.tax.amount);
    Ok(bill)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{BillHeader, BillStatus, ContractInfo, Tax, TaxRule};
    use crate::rating::testutil::d;

    /// A fixed bill of `subtotal`, with a coupon of `coupon` (negative) applied at close.
    fn fixed(currency: Currency, rule: TaxRule, subtotal: &str, coupon: Option<&str>) -> Bill {
        let month = Month::parse("2026-01").unwrap();
        let adjustments: Vec<Applied> = coupon
            .map(|c| Applied {
                kind: AdjustmentKind::Coupon,
                label: "Coupon C".into(),
                source: "C".into(),
                amount: d(c),
            })
            .into_iter()
            .collect();
        let subtotal = d(subtotal);
        let pre_tax = subtotal + adjustments.iter().map(|a| a.amount).sum::<Decimal>();
        let percent = rule.percent(month);
        let tax = currency.round_down(pre_tax * percent / Decimal::ONE_HUNDRED);
        Bill {
            header: BillHeader {
                contract: ContractInfo {
                    contract_id: "econ0000000001".into(),
                    external_contract_id: None,
                    customer_number: "econ0000000001".into(),
                },
                month,
                status: BillStatus::Fixed,
                currency,
                tax_rule: rule,
            },
            tenants: vec![],
            subtotal,
            adjustments,
            tax: Tax {
                rule,
                percent,
                amount: tax,
            },
            total: currency.round_down(pre_tax + tax),
        }
    }

    fn correction(id: &str, amount: &str) -> Correction {
        Correction {
            id: id.into(),
            contract_id: "econ0000000001".into(),
            month: Month::parse("2026-01").unwrap(),
            amount: d(amount),
            reason: format!("reason {id}"),
            recorded_by: "op".into(),
            created_at: DateTime::default(),
        }
    }

    #[test]
    fn a_credit_comes_after_the_coupon_and_the_tax_is_recomputed() {
        // 1000 − coupon 100 = 900 (tax 90, total 990); credit 333 → 567, tax 56.7 → 56, 623
        let b = fixed(
            Currency::Jpy,
            TaxRule::JapaneseConsumption,
            "1000",
            Some("-100"),
        );
        assert_eq!((b.tax.amount, b.total), (d("90"), d("990")));
        let b = correct(b, &[correction("c1", "-333")]).unwrap();
        let kinds: Vec<_> = b.adjustments.iter().map(|a| (a.kind, a.amount)).collect();
        assert_eq!(
            kinds,
            [
                (AdjustmentKind::Coupon, d("-100")),
                (AdjustmentKind::Correction, d("-333"))
            ]
        );
        assert_eq!(b.adjustments[1].label, "reason c1");
        assert_eq!(b.adjustments[1].source, "c1");
        // the subtotal stays the tenants' sum; the correction is in what tax is on
        assert_eq!(b.subtotal, d("1000"));
        assert_eq!(pre_tax(&b), d("567"));
        assert_eq!((b.tax.amount, b.total), (d("56"), d("623")));
    }

    #[test]
    fn corrections_add_up_in_order_and_a_charge_raises_the_total() {
        let b = fixed(Currency::Jpy, TaxRule::JapaneseConsumption, "1000", None);
        let b = correct(b, &[correction("a", "-500"), correction("b", "250")]).unwrap();
        assert_eq!(
            b.adjustments.iter().map(|a| &a.source).collect::<Vec<_>>(),
            ["a", "b"]
        );
        // 1000 − 500 + 250 = 750, tax 75
        assert_eq!((b.tax.amount, b.total), (d("75"), d("825")));
    }

    #[test]
    fn a_correction_never_takes_the_bill_below_zero() {
        let b = fixed(
            Currency::Jpy,
            TaxRule::JapaneseConsumption,
            "1000",
            Some("-100"),
        );
        // 900 left before tax: a credit of 900 leaves a zero bill, 901 is refused
        let zero = correct(b.clone(), &[correction("all", "-900")]).unwrap();
        assert_eq!((zero.tax.amount, zero.total), (d("0"), d("0")));
        assert_eq!(
            correct(b.clone(), &[correction("over", "-901")]),
            Err(BelowZero { pre_tax: d("-1") })
        );
        // an earlier charge makes room for a larger credit
        let ok = correct(b, &[correction("up", "1"), correction("over", "-901")]).unwrap();
        assert_eq!(ok.total, d("0"));
    }

    #[test]
    fn amounts_round_toward_zero_to_the_currency_unit() {
        let r = requested("-12.349", "goodwill").unwrap();
        assert_eq!(r.amount_in(Currency::Usd).unwrap().to_string(), "-12.34");
        assert_eq!(r.amount_in(Currency::Jpy).unwrap().to_string(), "-12");
        // less than a yen is nothing to correct
        let e = requested("-0.9", "x")
            .unwrap()
            .amount_in(Currency::Jpy)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount"));
        // USD at 7.5 %: 100.00 − 12.34 = 87.66, tax 6.5745 → 6.57, total 94.23
        let b = fixed(Currency::Usd, TaxRule::Percent(d("7.5")), "100.00", None);
        let b = correct(b, &[correction("c", "-12.34")]).unwrap();
        assert_eq!(
            (b.tax.amount.to_string(), b.total.to_string()),
            ("6.57".into(), "94.23".into())
        );
        // exempt: no tax at all
        let b = fixed(Currency::Usd, TaxRule::Exempt, "10.00", None);
        let b = correct(b, &[correction("c", "-0.01")]).unwrap();
        assert_eq!(
            (b.tax.amount.to_string(), b.total.to_string()),
            ("0.00".into(), "9.99".into())
        );
    }

    #[test]
    fn without_corrections_the_bill_is_as_stored() {
        let b = fixed(
            Currency::Jpy,
            TaxRule::JapaneseConsumption,
            "1000",
            Some("-100"),
        );
        assert_eq!(correct(b.clone(), &[]).unwrap(), b);
    }

    #[test]
    fn bad_input_names_every_bad_field() {
        let e = requested("0", "  ").unwrap_err();
        let fields: Vec<_> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["amount", "reason"]);
        assert_eq!(
            requested("abc", "r").unwrap_err().field.as_deref(),
            Some("amount")
        );
        let long = "あ".repeat(REASON_MAX + 1);
        assert_eq!(
            requested("-1", &long).unwrap_err().field.as_deref(),
            Some("reason")
        );
        // 200 characters (not bytes) are fine, and the reason is trimmed
        let r = requested(" -1 ", &format!("  {}  ", "あ".repeat(REASON_MAX))).unwrap();
        assert_eq!((r.amount, r.reason.chars().count()), (d("-1"), REASON_MAX));
    }
}
