//! The order of a bill's adjustments and the clamp that keeps a bill from going negative
//! (SPEC §6; issue 13: price → coupon → SLA credit → tax, "an adjustment never makes a bill
//! negative"). [`adjust`] is the one place the order is applied, for every bill: estimated,
//! fixed at close, and a child's end-user bill.
//!
//! 1. **Price**: the bill as rated ([`Bill::build`]): tenant totals rounded down, their sum the
//!    subtotal.
//! 2. **Coupon**: each coupon's discount is computed on the priced amounts ([`Coupon::discount`]:
//!    a percentage of the limited menus' charges, or an amount up to them), then the coupons are
//!    clamped in turn to what the previous ones left of the subtotal ([`apply_in_order`]), each
//!    rounded toward zero to the currency's unit so a discount is never rounded into a larger
//!    one. A coupon is the contract's: a tier-2 adjustment line after the tenants.
//! 3. **SLA credit**: a credit is a tenant's (the SLA service credits a tenant's downtime), so it
//!    stays a negative line under that tenant, before the tenant's rounding (see
//!    [`crate::credits`]); it takes at most what the tenant's lines add up to, and all credits
//!    together at most what the coupons left of the bill.
//! 4. **Correction** (FIXED bills only, after their close): the operator's corrections of the
//!    bill, tier-2 adjustment lines after the coupons, in the order they were made; never
//!    clamped (one that would take the bill below zero is refused when made). See
//!    [`crate::commercial::corrections`].
//! 5. **Tax**: on the subtotal after credits plus the coupons (never below zero) plus the
//!    corrections, rounded down; the total is that plus the tax.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::bill::{Bill, TaxRule};
use crate::commercial::coupons::Coupon;
use crate::credits::{TenantCredits, credited_within};
use crate::rating::{Currency, Month};

/// Kinds of bill-level adjustment, declared in the order they apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdjustmentKind {
    Coupon,
    SlaCredit,
    /// An operator's correction of a FIXED bill (a credit note or an additional charge): its
    /// amount is negative or positive; `label` is its reason, `source` its id.
    Correction,
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

/// An adjustment as billed: `amount` is negative (or zero), never more than what was left; a
/// FIXED bill's correction ([`AdjustmentKind::Correction`]) is the operator's own amount, of
/// either sign.
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

/// What adjusts one bill: the coupons in force for its contract and month, and the SLA credits
/// that land on it, by tenant.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    pub coupons: Vec<Coupon>,
    pub credits: TenantCredits,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.coupons.is_empty() && self.credits.is_empty()
    }
}

/// The bill with its adjustments, in the order of this module: price → coupon → SLA credit → tax.
pub fn adjust(bill: Bill, pending: &Pending) -> Bill {
    if pending.is_empty() {
        return bill;
    }
    let currency = bill.header.currency;
    // 2. coupons, on the priced amounts
    let requested = pending
        .coupons
        .iter()
        .map(|c| Requested {
            kind: AdjustmentKind::Coupon,
            label: format!("Coupon {}", c.code),
            source: c.code.to_string(),
            amount: c.discount(&bill),
        })
        .collect();
    let (applied, left) = apply_in_order(bill.subtotal, currency, requested);
    // 3. SLA credits, under their tenants, within what the coupons left
    let limit = (!applied.is_empty()).then_some(left);
    let mut bill = credited_within(bill, &pending.credits, limit);
    // 4. tax, on what is left
    let coupons: Decimal = applied.iter().map(|a| a.amount).sum();
    let pre_tax = currency.round_down((bill.subtotal + coupons).max(Decimal::ZERO));
    bill.tax.amount = currency.round_down(pre_tax * bill.tax.percent / Decimal::ONE_HUNDRED);
    bill.total = currency.round_down(pre_tax + bill.tax.amount);
    bill.adjustments = applied;
    bill
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

    /// One tenant: a 1000.5-yen compute resource and a 500-yen monitoring fee (exact 1500.5,
    /// total 1500), April 2026 (10 %).
    fn priced() -> Bill {
        use crate::bill::{BillHeader, BillStatus, ContractInfo, TenantInfo};
        use crate::rating::testutil::t;
        use crate::rating::{
            ChargePattern, Menu, Period, PlanPrice, Resource, Unit, UsageInterval, rate_tenant,
        };
        let menus = [
            Menu::new(
                "vs",
                "Compute",
                "VM",
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
            status: BillStatus::Estimated,
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

    fn pending(coupon: crate::commercial::coupons::CouponValue, credit: &str) -> Pending {
        use crate::commercial::coupons::{Coupon, CouponCode};
        Pending {
            coupons: vec![Coupon {
                code: CouponCode::parse("ORDER0000001").unwrap(),
                value: coupon,
                months: 1,
                limited_to: vec![],
                register_until: None,
                reusable: false,
            }],
            credits: TenantCredits::from([("t".to_string(), vec![("SLA".to_string(), d(credit))])]),
        }
    }

    fn credit_line(b: &Bill) -> Decimal {
        b.tenants[0].services.last().unwrap().amount
    }

    #[test]
    fn price_then_coupon_then_sla_credit_then_tax() {
        use crate::commercial::coupons::CouponValue;
        let b = priced();
        assert_eq!(
            (b.tenants[0].exact_amount, b.subtotal),
            (d("1500.500000"), d("1500"))
        );
        let b = adjust(
            b,
            &pending(CouponValue::Percent { percent: d("10") }, "400.3"),
        );
        // the coupon is 10 % of the priced 1500 (not of what the credit leaves: 110)
        assert_eq!(b.adjustments.len(), 1);
        assert_eq!(b.adjustments[0].kind, AdjustmentKind::Coupon);
        assert_eq!(b.adjustments[0].amount, d("-150"));
        // the credit comes off the tenant before its rounding: 1500.5 − 400.3 = 1100.2 → 1100
        assert_eq!(credit_line(&b), d("-400.3"));
        assert_eq!(b.tenants[0].total, d("1100"));
        assert_eq!(b.subtotal, d("1100"));
        // tax on 1100 − 150 = 950: 95; total 1045
        assert_eq!((b.tax.amount, b.total), (d("95"), d("1045")));
    }

    #[test]
    fn a_credit_takes_only_what_the_coupon_left_and_the_bill_stays_at_zero() {
        use crate::commercial::coupons::CouponValue;
        let amount = CouponValue::Amount {
            amount: d("1200"),
            currency: Currency::Jpy,
        };
        let b = adjust(priced(), &pending(amount, "800"));
        assert_eq!(b.adjustments[0].amount, d("-1200"));
        // 300 left after the coupon: the credit of 800 takes 300
        assert_eq!(credit_line(&b), d("-300"));
        assert_eq!(b.tenants[0].total, d("1200"));
        assert_eq!((b.tax.amount, b.total), (d("0"), d("0")));
        // a coupon larger than the bill takes the bill, the credit nothing
        let all = CouponValue::Amount {
            amount: d("99999"),
            currency: Currency::Jpy,
        };
        let b = adjust(priced(), &pending(all, "800"));
        assert_eq!(b.adjustments[0].amount, d("-1500"));
        assert_eq!(credit_line(&b), d("0"));
        assert_eq!(b.total, d("0"));
    }

    #[test]
    fn without_a_coupon_a_credit_is_the_tenant_s_alone() {
        let mut p = pending(
            crate::commercial::coupons::CouponValue::Percent { percent: d("0") },
            "30.9",
        );
        p.coupons.clear();
        let b = adjust(priced(), &p);
        assert!(b.adjustments.is_empty());
        // 1500.5 − 30.9 = 1469.6 → 1469; 10 % → 146; total 1615
        assert_eq!(b.tenants[0].total, d("1469"));
        assert_eq!((b.tax.amount, b.total), (d("146"), d("1615")));
        assert_eq!(adjust(priced(), &Pending::default()), priced());
    }
}
