//! What a streamed month close keeps of each tenant until its bill is complete, and how it
//! completes the bill from that ([`crate::close_month`] stores each tenant's whole section as it
//! is rated): [`Assembly`].

use ecl_kernel::{AppError, AppResult};
use rust_decimal::Decimal;

#[cfg(test)]
use crate::bill::BillStatus;
use crate::bill::{Bill, CategoryNode, ResourceNode, ServiceNode, TenantBill};
use crate::commercial::adjustments::{Pending, adjust};
use crate::credits::{TenantCredits, credited_within};
#[cfg(test)]
use crate::rating::{Menu, Month, Resource};

/// A fixed bill assembled chunk of tenants by chunk, in bounded memory: each chunk's tenant
/// sections are stored as they come ([`Assembly::add`] returns them, SLA credits applied), and
/// only the tenants' summaries ([`summary`]) are kept. [`Assembly::finish`] applies
/// [`adjust`] — the one definition of the order price → coupon → SLA credit → tax — to the
/// summaries, which answer what it asks of a bill as the whole bill does, so the totals and
/// adjustments are those of `adjust` on the whole bill.
///
/// A chunk's credits are applied before the coupons are known (they need every tenant), so
/// without a limit; where the coupons leave less than the credits take, `finish` names the
/// credited sections to rewrite ([`Rewrite`]) with the credits `adjust` limits to what the
/// coupons left: the coupon stays whole, the credit is cut. A credit section depends only on
/// the tenant's priced amount, its credits and that limit, so the rewritten section is the one
/// `adjust` on the whole bill has.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    /// The header and tax of the first chunk, and every tenant's summary as priced (before its
    /// credits), in bill order.
    priced: Option<Bill>,
    /// Per credited tenant: its position, and the credit section its stored section has.
    credited: Vec<(usize, ServiceNode)>,
}

/// A stored tenant section whose SLA credits the coupons limit: its credit section (the last of
/// its services) and totals as [`adjust`] has them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rewrite {
    /// The tenant's position in the bill.
    pub seq: usize,
    /// Index of the credit section among the tenant's services.
    at: usize,
    credit: ServiceNode,
    exact_amount: Decimal,
    total: Decimal,
}

impl Rewrite {
    /// The stored section as `adjust` on the whole bill has it.
    pub(crate) fn apply(&self, t: &mut TenantBill) {
        t.services.truncate(self.at);
        t.services.push(self.credit.clone());
        t.exact_amount = self.exact_amount;
        t.total = self.total;
    }
}

impl Assembly {
    /// Tenants stored so far: the position of the next chunk's first.
    pub(crate) fn len(&self) -> usize {
        self.priced.as_ref().map_or(0, |b| b.tenants.len())
    }

    /// Adds a chunk's bill as priced (`Bill::build` of its tenants): returns its tenant sections
    /// to store (positions [`Assembly::len`] on), with their SLA credits.
    pub(crate) fn add(
        &mut self,
        part: Bill,
        credits: &TenantCredits,
    ) -> AppResult<Vec<TenantBill>> {
        let first = self.len();
        let bill = self.priced.get_or_insert_with(|| Bill {
            header: part.header.clone(),
            tenants: Vec::new(),
            subtotal: Decimal::ZERO,
            adjustments: Vec::new(),
            tax: part.tax.clone(),
            total: Decimal::ZERO,
        });
        if bill.header.currency != part.header.currency {
            return Err(AppError::conflict(
                "the contract used menus priced in different currencies",
            ));
        }
        bill.tenants.extend(part.tenants.iter().map(summary));
        let part = credited_within(part, credits, None);
        for (i, t) in part.tenants.iter().enumerate() {
            if credits.contains_key(&t.tenant.tenant_id)
                && let Some(node) = t.services.last()
            {
                self.credited.push((first + i, node.clone()));
            }
        }
        Ok(part.tenants)
    }

    /// The bill once every tenant is added (none if no tenant had charges): its totals and
    /// adjustments as [`adjust`] on the whole bill gives them, without tenants (they are
    /// stored), and the stored sections to rewrite.
    pub(crate) fn finish(self, pending: &Pending) -> Option<(Bill, Vec<Rewrite>)> {
        let mut priced = self.priced?;
        let currency = priced.header.currency;
        priced.subtotal = currency.round_down(priced.tenants.iter().map(|t| t.total).sum());
        priced.tax.amount =
            currency.round_down(priced.subtotal * priced.tax.percent / Decimal::ONE_HUNDRED);
        priced.total = currency.round_down(priced.subtotal + priced.tax.amount);
        let at: Vec<usize> = self
            .credited
            .iter()
            .map(|(seq, _)| priced.tenants[*seq].services.len())
            .collect();
        let mut bill = adjust(priced, pending);
        let rewrites = self
            .credited
            .into_iter()
            .zip(at)
            .filter_map(|((seq, stored), at)| {
                let t = &bill.tenants[seq];
                let credit = t.services.get(at)?;
                (*credit != stored).then(|| Rewrite {
                    seq,
                    at,
                    credit: credit.clone(),
                    exact_amount: t.exact_amount,
                    total: t.total,
                })
            })
            .collect();
        bill.tenants.clear();
        Some((bill, rewrites))
    }
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
    use crate::rating::{Currency, Period, TenantCharges, UsageInterval, rate_tenant};

    /// Two tenants of compute and volume resources of the seeded price list.
    fn bill() -> Bill {
        let (header, tenants) = rated(&[("a", 5), ("b", 8)]);
        Bill::build(header, tenants).unwrap()
    }

    /// Tenants (id, number of resources) of compute and volume resources of the seeded price
    /// list, rated for May 2026, and the header of their FIXED bill.
    fn rated(tenants: &[(&str, usize)]) -> (BillHeader, Vec<(TenantInfo, TenantCharges)>) {
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
        (
            header,
            tenants.iter().map(|(id, n)| tenant(id, *n)).collect(),
        )
    }

    /// Five tenants of different sizes.
    pub(super) fn five() -> (BillHeader, Vec<(TenantInfo, TenantCharges)>) {
        rated(&[("a", 3), ("b", 6), ("c", 4), ("d", 7), ("e", 5)])
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

/// The streamed close against `adjust` on the whole bill (SPEC §6: price → coupon → SLA credit →
/// tax; credits take at most what the coupons left).
#[cfg(test)]
mod streamed {
    use super::tests::five;
    use super::*;
    use crate::commercial::adjustments::AdjustmentKind;
    use crate::commercial::coupons::{Coupon, CouponCode, CouponLimit, CouponValue};
    use crate::rating::Currency;
    use crate::rating::testutil::d;

    fn coupon(code: &str, value: CouponValue, limited_to: Vec<CouponLimit>) -> Coupon {
        Coupon {
            code: CouponCode::parse(code).unwrap(),
            value,
            months: 1,
            limited_to,
            register_until: None,
            reusable: true,
        }
    }

    fn yen(amount: &str) -> CouponValue {
        CouponValue::Amount {
            amount: d(amount),
            currency: Currency::Jpy,
        }
    }

    fn credits(list: &[(&str, &str)]) -> TenantCredits {
        let mut out = TenantCredits::new();
        for (tenant, amount) in list {
            out.entry(tenant.to_string())
                .or_default()
                .push((format!("SLA {tenant}"), d(amount)));
        }
        out
    }

    /// Five tenants; the close's sections chunk by chunk (each chunk built as the close builds
    /// it), rewritten as `finish` says: the bill as stored and read back (body + sections).
    fn closed(chunk: usize, pending: &Pending) -> (Bill, usize) {
        let (header, tenants) = five();
        let mut assembly = Assembly::default();
        let mut stored: Vec<TenantBill> = Vec::new();
        for part in tenants.chunks(chunk) {
            let part = Bill::build(header.clone(), part.to_vec()).unwrap();
            assert_eq!(assembly.len(), stored.len());
            stored.extend(assembly.add(part, &pending.credits).unwrap());
        }
        let (body, rewrites) = assembly.finish(pending).unwrap();
        assert!(body.tenants.is_empty());
        for r in &rewrites {
            r.apply(&mut stored[r.seq]);
        }
        (
            Bill {
                tenants: stored,
                ..body
            },
            rewrites.len(),
        )
    }

    fn whole(pending: &Pending) -> Bill {
        let (header, tenants) = five();
        adjust(Bill::build(header, tenants).unwrap(), pending)
    }

    fn credit_taken(b: &Bill, tenant: &str) -> Decimal {
        b.tenants
            .iter()
            .filter(|t| t.tenant.tenant_id == tenant)
            .flat_map(|t| &t.services)
            .filter(|s| s.name == "SLA")
            .map(|s| -s.amount)
            .sum()
    }

    fn coupons_taken(b: &Bill) -> Decimal {
        b.adjustments
            .iter()
            .filter(|a| a.kind == AdjustmentKind::Coupon)
            .map(|a| -a.amount)
            .sum()
    }

    #[test]
    fn coupon_and_credit_over_the_bill_the_coupon_stays_whole_the_credit_is_cut() {
        let priced = whole(&Pending::default());
        let subtotal = priced.subtotal;
        // tenants a to e: 152.084100, 237.501180, 158.334120, 310.418220, 231.251160
        assert_eq!(subtotal, d("1088"));
        // an amount coupon, and 10 % of the compute menu's charges
        let coupons = vec![
            coupon("CLOSE0000001", yen("300"), vec![]),
            coupon(
                "CLOSE0000002",
                CouponValue::Percent { percent: d("10") },
                vec![CouponLimit::Menu("compute".into())],
            ),
        ];
        let wanted: Decimal = coupons.iter().map(|c| c.discount(&priced)).sum();
        // credits on tenants of several chunks, more than the coupons leave
        let p = Pending {
            coupons,
            credits: credits(&[
                ("b", "200.5"),
                ("c", "100"),
                ("c", "50.25"),
                ("d", "5000"),
                ("e", "5000"),
            ]),
        };
        let expected = whole(&p);
        // the coupons whole, the credits (in tenant order) take what they left
        assert_eq!(coupons_taken(&expected), wanted);
        let left = subtotal - wanted;
        let credited: Decimal = ["b", "c", "d", "e"]
            .iter()
            .map(|t| credit_taken(&expected, t))
            .sum();
        assert_eq!(credited, left);
        // b, c and d credited in full (d up to its own lines), e gets what is left
        assert_eq!(credit_taken(&expected, "b"), d("200.5"));
        assert_eq!(credit_taken(&expected, "c"), d("150.25"));
        assert_eq!(credit_taken(&expected, "d"), d("310.418220"));
        assert_eq!(credit_taken(&expected, "e"), left - d("661.168220"));
        assert!(credit_taken(&expected, "e") > Decimal::ZERO);
        // the credits come off the tenants' exact amounts, before their rounding: the tenants'
        // fractions left over round to one yen here, no tax on it
        assert_eq!((expected.tax.amount, expected.total), (d("0"), d("1")));
        for chunk in [1, 2, 3, 5] {
            let (streamed, rewritten) = closed(chunk, &p);
            assert_eq!(streamed, expected, "chunks of {chunk}");
            // only the sections whose credit the coupons cut
            assert!(rewritten >= 1, "chunks of {chunk}");
        }
    }

    #[test]
    fn within_what_the_coupons_leave_nothing_is_rewritten() {
        let p = Pending {
            coupons: vec![
                coupon(
                    "CLOSE0000003",
                    CouponValue::Percent { percent: d("15") },
                    vec![CouponLimit::Menu("volume".into())],
                ),
                coupon("CLOSE0000004", yen("100"), vec![]),
            ],
            credits: credits(&[("a", "10.7"), ("d", "20")]),
        };
        let expected = whole(&p);
        assert_eq!(credit_taken(&expected, "a"), d("10.7"));
        assert!(expected.total > Decimal::ZERO);
        for chunk in [1, 2, 4] {
            assert_eq!(
                closed(chunk, &p),
                (expected.clone(), 0),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn a_coupon_over_the_bill_leaves_the_credits_nothing() {
        let p = Pending {
            coupons: vec![coupon("CLOSE0000005", yen("99999999"), vec![])],
            credits: credits(&[("a", "10"), ("e", "20")]),
        };
        let expected = whole(&p);
        assert_eq!(coupons_taken(&expected), expected.subtotal);
        assert_eq!(
            credit_taken(&expected, "a") + credit_taken(&expected, "e"),
            d("0")
        );
        for chunk in [1, 3] {
            assert_eq!(
                closed(chunk, &p),
                (expected.clone(), 2),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn without_coupons_credits_alone_and_no_adjustment_at_all() {
        for p in [
            Pending {
                coupons: vec![],
                credits: credits(&[("b", "99999"), ("c", "12.5")]),
            },
            Pending::default(),
        ] {
            let expected = whole(&p);
            for chunk in [1, 2, 5] {
                assert_eq!(
                    closed(chunk, &p),
                    (expected.clone(), 0),
                    "chunks of {chunk}"
                );
            }
        }
    }
}
