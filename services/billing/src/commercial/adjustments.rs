//! The order of a bill's adjustments and the clamp that keeps a bill from going negative
//! (SPEC §6: prices → coupon → SLA credit → tenant rounding → tax; "an adjustment never makes a
//! bill negative").
//!
//! Adjustments are the contract's, not a tenant's: a coupon or an SLA credit is granted to the
//! contract. They apply to the pre-tax subtotal (the sum of the tenant totals, each already
//! rounded down), in [`AdjustmentKind`] order, each rounded toward zero to the currency's unit so a
//! credit is never rounded into a larger one; tax is then computed on what is left.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::bill::TaxRule;
use crate::rating::{Currency, Month};

/// Kinds of bill-level adjustment, declared in the order they apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdjustmentKind {
    Coupon,
    SlaCredit,
}

/// An adjustment asked for: `amount` is what it would take off (positive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    pub kind: AdjustmentKind,
    pub label: String,
    /// What granted it (a coupon code, an SLA claim id).
    pub source: String,
    pub amount: Decimal,
}

/// An adjustment as billed: `amount` is negative (or zero), never more than what was left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub kind: AdjustmentKind,
    pub label: String,
    pub source: String,
    pub amount: Decimal,
}

/// A bill's money after adjustments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    /// Σ tenant totals, before adjustments.
    pub subtotal: Decimal,
    pub adjustments: Vec<Applied>,
    /// subtotal + adjustments: what tax is computed on.
    pub pre_tax: Decimal,
    pub tax_percent: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

/// Applies adjustments in kind order (a stable sort: same-kind adjustments keep their order),
/// each clamped to what the previous ones left.
pub fn apply_in_order(
    subtotal: Decimal,
    currency: Currency,
    mut requested: Vec<Requested>,
) -> (Vec<Applied>, Decimal) {
    requested.sort_by_key(|r| r.kind);
    let mut left = currency.round_down(subtotal.max(Decimal::ZERO));
    let mut out = Vec::with_capacity(requested.len());
    for r in requested {
        let take = currency.round_down(r.amount.max(Decimal::ZERO)).min(left);
        left = currency.round_down(left - take);
        out.push(Applied {
            kind: r.kind,
            label: r.label,
            source: r.source,
            amount: currency.round_down(-take),
        });
    }
    (out, left)
}

/// Subtotal → adjustments → tax (rounded down) → total.
pub fn settle(
    subtotal: Decimal,
    currency: Currency,
    tax_rule: TaxRule,
    month: Month,
    requested: Vec<Requested>,
) -> Settled {
    let (adjustments, pre_tax) = apply_in_order(subtotal, currency, requested);
    let tax_percent = tax_rule.percent(month);
    let tax = currency.round_down(pre_tax * tax_percent / Decimal::ONE_HUNDRED);
    Settled {
        subtotal: currency.round_down(subtotal),
        adjustments,
        pre_tax,
        tax_percent,
        tax,
        total: currency.round_down(pre_tax + tax),
    }
}

/// Applies adjustments to a built bill: its tax and total follow (the tenant totals and the
/// subtotal stay as priced).
pub fn apply_to(bill: &mut crate::bill::Bill, requested: Vec<Requested>) {
    if requested.is_empty() {
        return;
    }
    let h = &bill.header;
    let s = settle(bill.subtotal, h.currency, h.tax_rule, h.month, requested);
    bill.adjustments = s.adjustments;
    bill.tax.amount = s.tax;
    bill.total = s.total;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::testutil::d;

    fn req(kind: AdjustmentKind, amount: &str) -> Requested {
        Requested {
            kind,
            label: format!("{kind:?}"),
            source: "s".into(),
            amount: d(amount),
        }
    }

    #[test]
    fn coupon_before_sla_credit_before_tax() {
        // given SLA credit first, the coupon still applies first
        let s = settle(
            d("10000"),
            Currency::Jpy,
            TaxRule::JapaneseConsumption,
            Month::parse("2026-04").unwrap(),
            vec![
                req(AdjustmentKind::SlaCredit, "500"),
                req(AdjustmentKind::Coupon, "1000"),
            ],
        );
        let kinds: Vec<_> = s.adjustments.iter().map(|a| (a.kind, a.amount)).collect();
        assert_eq!(
            kinds,
            [
                (AdjustmentKind::Coupon, d("-1000")),
                (AdjustmentKind::SlaCredit, d("-500"))
            ]
        );
        // tax on what is left: 8500 × 10 % = 850
        assert_eq!(
            (s.pre_tax, s.tax, s.total),
            (d("8500"), d("850"), d("9350"))
        );
    }

    #[test]
    fn adjustments_never_make_a_bill_negative() {
        let (applied, left) = apply_in_order(
            d("700"),
            Currency::Jpy,
            vec![
                req(AdjustmentKind::Coupon, "500"),
                req(AdjustmentKind::SlaCredit, "500"),
            ],
        );
        assert_eq!(applied[0].amount, d("-500"));
        // the credit takes only what the coupon left
        assert_eq!(applied[1].amount, d("-200"));
        assert_eq!(left, d("0"));
        let s = settle(
            d("0"),
            Currency::Usd,
            TaxRule::Percent(d("10")),
            Month::parse("2026-04").unwrap(),
            vec![req(AdjustmentKind::Coupon, "5")],
        );
        assert_eq!(
            (s.adjustments[0].amount.to_string(), s.total.to_string()),
            ("0.00".into(), "0.00".into())
        );
    }

    #[test]
    fn adjustments_round_toward_zero_to_the_currency_unit() {
        let (applied, left) = apply_in_order(
            d("100.00"),
            Currency::Usd,
            vec![req(AdjustmentKind::Coupon, "12.349")],
        );
        assert_eq!(applied[0].amount.to_string(), "-12.34");
        assert_eq!(left.to_string(), "87.66");
        let s = settle(
            d("100.00"),
            Currency::Usd,
            TaxRule::Percent(d("7.5")),
            Month::parse("2026-04").unwrap(),
            vec![req(AdjustmentKind::Coupon, "12.349")],
        );
        // 87.66 × 7.5 % = 6.5745 → 6.57
        assert_eq!(
            (s.tax.to_string(), s.total.to_string()),
            ("6.57".into(), "94.23".into())
        );
    }
}
