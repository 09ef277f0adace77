//! What a streamed month close keeps of each tenant until its bill is complete, and the coupons
//! priced on it ([`crate::close_month`] stores each tenant's whole section as it is rated).

use rust_decimal::Decimal;

#[cfg(test)]
use crate::bill::BillStatus;
use crate::bill::{Bill, CategoryNode, ResourceNode, ServiceNode, TenantBill};
use crate::commercial::adjustments::{AdjustmentKind, Requested, apply_in_order};
use crate::commercial::coupons::Coupon;
#[cfg(test)]
use crate::rating::{Menu, Month, Resource};

/// The credited bill with its coupons, computed on the `priced` bill (before credits) and
/// clamped to what the credits left (streamed, the credits are already in the stored sections:
/// where coupons and credits together exceed the bill, the coupon is the one cut short), then
/// the tax on what is left.
pub(crate) fn with_coupons(mut bill: Bill, priced: &Bill, coupons: &[Coupon]) -> Bill {
    let currency = bill.header.currency;
    let requested = coupons
        .iter()
        .map(|c| Requested {
            kind: AdjustmentKind::Coupon,
            label: format!("Coupon {}", c.code),
            source: c.code.to_string(),
            amount: c.discount(priced),
        })
        .collect();
    let (applied, pre_tax) = apply_in_order(bill.subtotal, currency, requested);
    bill.tax.amount = currency.round_down(pre_tax * bill.tax.percent / Decimal::ONE_HUNDRED);
    bill.total = currency.round_down(pre_tax + bill.tax.amount);
    bill.adjustments = applied;
    bill
}

/// What the bill-level adjustments read of a tenant: its totals, and its amounts per menu (a
/// coupon limited to menus or categories takes a share of those) — its resources folded into
/// one node per menu, without lines. Amounts keep 6 decimal places, so their sums are exact.
pub(crate) fn summary(t: &TenantBill) -> TenantBill {
    TenantBill {
        tenant: t.tenant.clone(),
        exact_amount: t.exact_amount,
        total: t.total,
        services: t
            .services
            .iter()
            .map(|s| ServiceNode {
                name: s.name.clone(),
                amount: s.amount,
                categories: s
                    .categories
                    .iter()
                    .map(|c| {
                        let mut menus: Vec<ResourceNode> = Vec::new();
                        for r in &c.resources {
                            match menus.iter_mut().find(|x| x.menu == r.menu) {
                                Some(x) => x.amount += r.amount,
                                None => menus.push(ResourceNode {
                                    menu: r.menu.clone(),
                                    resource_id: None,
                                    resource_name: None,
                                    quantity: None,
                                    amount: r.amount,
                                    plans: Vec::new(),
                                    lines: Vec::new(),
                                }),
                            }
                        }
                        CategoryNode {
                            name: c.name.clone(),
                            amount: c.amount,
                            resources: menus,
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{BillHeader, ContractInfo, TaxRule, TenantInfo};
    use crate::commercial::coupons::{Coupon, CouponCode, CouponLimit, CouponValue};
    use crate::rating::testutil::{d, t};
    use crate::rating::{Currency, Period, UsageInterval, rate_tenant};

    /// Two tenants of compute and volume resources of the seeded price list.
    fn bill() -> Bill {
        let menus: Vec<Menu> = crate::menus::seeds()
            .iter()
            .filter(|s| s.code == "compute" || s.code == "volume")
            .map(crate::menus::to_menu)
            .collect::<Result<_, _>>()
            .unwrap();
        let m = Month::parse("2026-05").unwrap();
        let tenant = |id: &str, n: usize| {
            let resources: Vec<Resource> = (0..n)
                .map(|i| {
                    let (menu, plan) = if i % 2 == 0 {
                        ("compute", "1CPU-4GB")
                    } else {
                        ("volume", "15GB")
                    };
                    let start = t(2026, 5, 1 + i as u32, 0, 0, 0);
                    Resource::new(format!("{id}-r{i}"), menu).with_interval(
                        UsageInterval::new(plan, start, Some(start + chrono::Duration::hours(7)))
                            .with_status("Running"),
                    )
                })
                .collect();
            let info = TenantInfo {
                tenant_id: id.into(),
                name: id.into(),
                region: "jp1".into(),
                workspace_id: "w".into(),
                workspace_name: "w".into(),
            };
            (
                info,
                rate_tenant(&menus, &resources, &Period::whole(m)).unwrap(),
            )
        };
        let header = BillHeader {
            contract: ContractInfo {
                contract_id: "econ1".into(),
                external_contract_id: None,
                customer_number: "econ1".into(),
            },
            month: m,
            status: BillStatus::Fixed,
            currency: Currency::Jpy,
            tax_rule: TaxRule::JapaneseConsumption,
        };
        Bill::build(header, vec![tenant("a", 5), tenant("b", 8)]).unwrap()
    }

    /// The summaries the close keeps answer what coupons ask of a bill as the whole bill does:
    /// totals, and the charges of a menu or a category.
    #[test]
    fn a_bills_summary_prices_coupons_as_the_whole_bill() {
        let whole = bill();
        let summarised = Bill {
            tenants: whole.tenants.iter().map(summary).collect(),
            ..whole.clone()
        };
        // one node per menu, whatever the number of resources
        assert!(
            summarised.tenants[1].services[0].categories[0]
                .resources
                .len()
                <= 2
        );
        let coupon = |value, limited_to| Coupon {
            code: CouponCode::parse("BENCH0000001").unwrap(),
            value,
            months: 1,
            limited_to,
            register_until: None,
            reusable: true,
        };
        let category = whole.tenants[0].services[0].categories[0].name.clone();
        for limits in [
            vec![],
            vec![CouponLimit::Menu("compute".into())],
            vec![CouponLimit::Category(category)],
        ] {
            for value in [
                CouponValue::Percent { percent: d("15") },
                CouponValue::Amount {
                    amount: d("50"),
                    currency: Currency::Jpy,
                },
            ] {
                let c = coupon(value, limits.clone());
                assert_eq!(c.discount(&summarised), c.discount(&whole), "{limits:?}");
            }
        }
        for (s, w) in summarised.tenants.iter().zip(&whole.tenants) {
            assert_eq!((s.exact_amount, s.total), (w.exact_amount, w.total));
        }
    }
}
