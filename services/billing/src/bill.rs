//! The bill: a tree rooted at the contract (seed 003 1.3), with seed 002's rounding and tax.
//!
//! contract → tenant → service → menu category → resource → plan → usage line.
//! Line and node amounts keep 6 decimal places. Each tenant's total is rounded down to the
//! currency's smallest unit; tax is computed on the sum of those tenant totals (tax class 合算,
//! "total", as the legacy CSV example shows one tax line per contract) and rounded down the same
//! way; the contract total is tenant totals + tax. Seed 002's example: lines 5870.751682 → tenant
//! 5870, 8 % tax → 469, total 6339.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use crate::rating::Month;
use crate::rating::{ChargeLine, Currency, MenuInfo, TenantCharges, amount6};

pub mod lines;

/// Whether a month's bill may still change (seed 002: the current month is an estimate; past
/// months are fixed once the operator closes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillStatus {
    Estimated,
    Fixed,
}

impl BillStatus {
    /// Spelling of the CSV exports.
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::Estimated => "estimated",
            BillStatus::Fixed => "fixed",
        }
    }
}

/// The contract's tax setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "percent")]
pub enum TaxRule {
    /// Japanese consumption tax, rate by billing month (see [`japanese_consumption_tax_percent`]).
    JapaneseConsumption,
    /// A fixed percentage (other currencies, per the contract's tax setting).
    Percent(Decimal),
    /// No tax.
    Exempt,
}

impl TaxRule {
    /// Yen contracts pay Japanese consumption tax; others default to no tax until the contract
    /// says otherwise.
    pub fn default_for(currency: Currency) -> Self {
        match currency {
            Currency::Jpy => TaxRule::JapaneseConsumption,
            Currency::Usd => TaxRule::Exempt,
        }
    }

    /// Tax rate in percent for a billing month.
    pub fn percent(self, month: Month) -> Decimal {
        match self {
            TaxRule::JapaneseConsumption => japanese_consumption_tax_percent(month),
            TaxRule::Percent(p) => p,
            TaxRule::Exempt => Decimal::ZERO,
        }
    }
}

/// Japanese consumption tax: 8 % for months before 2019-10, 10 % from 2019-10 (the rate rose on
/// 2019-10-01, the first day of a billing month).
pub fn japanese_consumption_tax_percent(month: Month) -> Decimal {
    let october_2019 = Month::new(2019, 10).expect("valid month");
    if month < october_2019 {
        Decimal::from(8)
    } else {
        Decimal::from(10)
    }
}

/// The contract a bill is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInfo {
    pub contract_id: String,
    /// Contract id in an external system (a partner's own management number of a child contract).
    pub external_contract_id: Option<String>,
    /// Customer number of the contract holder (legacy CSV "Contract Identifier").
    pub customer_number: String,
}

/// A tenant of the contract, with the workspace that owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub tenant_id: String,
    pub name: String,
    pub region: String,
    pub workspace_id: String,
    pub workspace_name: String,
}

/// What a bill is about, apart from its charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillHeader {
    pub contract: ContractInfo,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    pub tax_rule: TaxRule,
}

/// A tax line of the bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tax {
    pub rule: TaxRule,
    pub percent: Decimal,
    /// Rounded down to the currency's smallest unit.
    pub amount: Decimal,
}

/// A month's bill of one contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    pub header: BillHeader,
    pub tenants: Vec<TenantBill>,
    /// Σ tenant totals (each already rounded down), before tax.
    pub subtotal: Decimal,
    /// Contract-level adjustments in the order they applied (see `commercial::adjustments`):
    /// coupons (negative), then, on a FIXED bill read back, the operator's corrections (either
    /// sign, see `commercial::corrections`); tax is on `subtotal` + these.
    #[serde(default)]
    pub adjustments: Vec<crate::commercial::adjustments::Applied>,
    pub tax: Tax,
    /// subtotal + adjustments + tax.
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantBill {
    pub tenant: TenantInfo,
    pub services: Vec<ServiceNode>,
    /// Σ lines, 6 decimal places.
    pub exact_amount: Decimal,
    /// `exact_amount` rounded down to the currency's smallest unit.
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceNode {
    pub name: String,
    pub amount: Decimal,
    pub categories: Vec<CategoryNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryNode {
    pub name: String,
    pub amount: Decimal,
    pub resources: Vec<ResourceNode>,
}

/// A resource, or a tenant-wide line of a menu (then `resource_id` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceNode {
    pub menu: MenuInfo,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    /// Largest quantity of the month (1 for most resources); `None` for tenant-wide lines.
    pub quantity: Option<Decimal>,
    pub amount: Decimal,
    pub plans: Vec<PlanNode>,
    /// Lines without a plan tier (a logical network's usage, a phase-II cap, a fixed fee, free usage).
    pub lines: Vec<ChargeLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanNode {
    pub plan: String,
    pub label: String,
    pub amount: Decimal,
    pub lines: Vec<ChargeLine>,
}

impl ResourceNode {
    /// All lines of the resource, plan by plan, then the lines without a plan tier.
    pub fn all_lines(&self) -> impl Iterator<Item = &ChargeLine> {
        self.plans
            .iter()
            .flat_map(|p| p.lines.iter())
            .chain(self.lines.iter())
    }
}

/// Why charges cannot make a bill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillError {
    #[error("menu {menu} is priced in {found:?}, the bill is in {expected:?}")]
    CurrencyMismatch {
        menu: String,
        expected: Currency,
        found: Currency,
    },
}

impl Bill {
    /// Builds the bill tree from each tenant's rated charges. Services, categories and resources
    /// keep the order in which the charges list them; tenant-wide lines (free usage, tenant caps)
    /// follow the resources of their category.
    pub fn build(
        header: BillHeader,
        tenants: Vec<(TenantInfo, TenantCharges)>,
    ) -> Result<Bill, BillError> {
        let currency = header.currency;
        let mut tenant_bills = Vec::with_capacity(tenants.len());
        for (info, charges) in tenants {
            let mut nodes: Vec<ResourceNode> = Vec::new();
            // the charges are moved into the tree, not copied: a bill of 100,000 resources is
            // built once per close and once more per end-user bill
            for r in charges.resources {
                check_currency(&r.menu, currency)?;
                let of = Described {
                    id: r.resource_id,
                    name: r.resource_name,
                    quantity: r.quantity,
                };
                nodes.push(resource_node(r.menu, Some(of), r.lines));
            }
            for t in charges.tenant_lines {
                check_currency(&t.menu, currency)?;
                nodes.push(resource_node(t.menu, None, vec![t.line]));
            }
            let services = group_tree(nodes);
            let exact_amount = amount6(services.iter().map(|s| s.amount).sum());
            tenant_bills.push(TenantBill {
                tenant: info,
                services,
                exact_amount,
                total: currency.round_down(exact_amount),
            });
        }
        let subtotal = currency.round_down(tenant_bills.iter().map(|t| t.total).sum());
        let percent = header.tax_rule.percent(header.month);
        let tax = Tax {
            rule: header.tax_rule,
            percent,
            amount: currency.round_down(subtotal * percent / Decimal::ONE_HUNDRED),
        };
        let total = currency.round_down(subtotal + tax.amount);
        Ok(Bill {
            header,
            tenants: tenant_bills,
            subtotal,
            adjustments: Vec::new(),
            tax,
            total,
        })
    }
}

fn check_currency(menu: &MenuInfo, expected: Currency) -> Result<(), BillError> {
    if menu.currency == expected {
        Ok(())
    } else {
        Err(BillError::CurrencyMismatch {
            menu: menu.code.clone(),
            expected,
            found: menu.currency,
        })
    }
}

/// What a resource node says of its resource (none for a tenant-wide line).
struct Described {
    id: String,
    name: Option<String>,
    quantity: Decimal,
}

fn resource_node(
    menu: MenuInfo,
    resource: Option<Described>,
    lines: Vec<ChargeLine>,
) -> ResourceNode {
    let amount = amount6(lines.iter().map(|l| l.amount).sum());
    let mut plans: Vec<PlanNode> = Vec::new();
    let mut direct = Vec::new();
    for l in lines {
        match (&l.plan, &l.tier_label) {
            (Some(plan), Some(label)) if resource.is_some() => {
                match plans.iter_mut().find(|p| &p.plan == plan) {
                    Some(p) => p.lines.push(l),
                    None => plans.push(PlanNode {
                        plan: plan.clone(),
                        label: label.clone(),
                        amount: Decimal::ZERO,
                        lines: vec![l],
                    }),
                }
            }
            _ => direct.push(l),
        }
    }
    for p in &mut plans {
        p.amount = amount6(p.lines.iter().map(|l| l.amount).sum());
    }
    let (resource_id, resource_name, quantity) = match resource {
        Some(r) => (Some(r.id), r.name, Some(r.quantity)),
        None => (None, None, None),
    };
    ResourceNode {
        menu,
        resource_id,
        resource_name,
        quantity,
        amount,
        plans,
        lines: direct,
    }
}

/// Groups resource nodes by service, then category, keeping first-appearance order.
fn group_tree(nodes: Vec<ResourceNode>) -> Vec<ServiceNode> {
    let mut services: Vec<ServiceNode> = Vec::new();
    for node in nodes {
        let si = match services.iter().position(|s| s.name == node.menu.service) {
            Some(i) => i,
            None => {
                services.push(ServiceNode {
                    name: node.menu.service.clone(),
                    amount: Decimal::ZERO,
                    categories: Vec::new(),
                });
                services.len() - 1
            }
        };
        let service = &mut services[si];
        let ci = match service
            .categories
            .iter()
            .position(|c| c.name == node.menu.category)
        {
            Some(i) => i,
            None => {
                service.categories.push(CategoryNode {
                    name: node.menu.category.clone(),
                    amount: Decimal::ZERO,
                    resources: Vec::new(),
                });
                service.categories.len() - 1
            }
        };
        service.categories[ci].resources.push(node);
    }
    for s in &mut services {
        for c in &mut s.categories {
            c.amount = amount6(c.resources.iter().map(|r| r.amount).sum());
        }
        s.amount = amount6(s.categories.iter().map(|c| c.amount).sum());
    }
    services
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::testutil::{d, t};
    use crate::rating::{
        ChargePattern, Menu, Period, PlanPrice, Resource, Unit, UsageInterval, rate_tenant,
    };

    fn header(month: &str, currency: Currency) -> BillHeader {
        BillHeader {
            contract: ContractInfo {
                contract_id: "econ1".into(),
                external_contract_id: None,
                customer_number: "econ1".into(),
            },
            month: Month::parse(month).unwrap(),
            status: BillStatus::Fixed,
            currency,
            tax_rule: TaxRule::default_for(currency),
        }
    }

    fn tenant(id: &str, ws: &str) -> TenantInfo {
        TenantInfo {
            tenant_id: id.into(),
            name: format!("name-{id}"),
            region: "jp1".into(),
            workspace_id: ws.into(),
            workspace_name: format!("ws {ws}"),
        }
    }

    /// One PAYG resource whose month costs exactly `minutes` × `price`.
    fn charges(currency: Currency, price: &str, minutes: i64) -> TenantCharges {
        let menu = Menu::new(
            "m",
            "Cat",
            "Menu",
            Unit::Minute,
            ChargePattern::Payg,
            currency,
        )
        .with_plan(PlanPrice::new("p", d(price)));
        let start = t(2019, 11, 1, 0, 0, 0);
        let r = Resource::new("r", "m").with_interval(UsageInterval::new(
            "p",
            start,
            Some(start + chrono::Duration::minutes(minutes)),
        ));
        rate_tenant(
            &[menu],
            &[r],
            &Period::whole(Month::parse("2019-11").unwrap()),
        )
        .unwrap()
    }

    #[test]
    fn japanese_tax_rate_changes_in_october_2019() {
        let p = |m: &str| japanese_consumption_tax_percent(Month::parse(m).unwrap());
        assert_eq!(p("2017-07"), d("8"));
        assert_eq!(p("2019-09"), d("8"));
        assert_eq!(p("2019-10"), d("10"));
        assert_eq!(p("2024-01"), d("10"));
        assert_eq!(
            TaxRule::Exempt.percent(Month::parse("2019-10").unwrap()),
            d("0")
        );
        assert_eq!(
            TaxRule::Percent(d("7.5")).percent(Month::parse("2019-10").unwrap()),
            d("7.5")
        );
    }

    #[test]
    fn yen_tenant_totals_round_down_before_tax_and_tax_rounds_down() {
        // 1000 min × 0.999999 = 999.999000 → tenant 999; 10 % → 99.9 → 99; total 1098.
        let c = charges(Currency::Jpy, "0.999999", 1000);
        let mut h = header("2019-11", Currency::Jpy);
        h.status = BillStatus::Estimated;
        let bill = Bill::build(h, vec![(tenant("t1", "w1"), c)]).unwrap();
        assert_eq!(bill.tenants[0].exact_amount.to_string(), "999.999000");
        assert_eq!(bill.tenants[0].total.to_string(), "999");
        assert_eq!(bill.tax.percent, d("10"));
        assert_eq!(bill.tax.amount.to_string(), "99");
        assert_eq!(bill.total.to_string(), "1098");
    }

    #[test]
    fn tax_is_on_the_sum_of_rounded_tenant_totals() {
        // two tenants of 10.9 yen each: 10 + 10 = 20 (not 21), tax 10 % = 2, total 22.
        let a = charges(Currency::Jpy, "0.109", 100);
        let b = charges(Currency::Jpy, "0.109", 100);
        let bill = Bill::build(
            header("2019-11", Currency::Jpy),
            vec![(tenant("a", "w"), a), (tenant("b", "w"), b)],
        )
        .unwrap();
        assert_eq!(
            bill.tenants
                .iter()
                .map(|t| t.total.to_string())
                .collect::<Vec<_>>(),
            ["10", "10"]
        );
        assert_eq!(bill.subtotal, d("20"));
        assert_eq!(bill.tax.amount, d("2"));
        assert_eq!(bill.total, d("22"));
    }

    #[test]
    fn dollar_totals_round_down_to_the_cent() {
        // 1000 min × 0.012349 = 12.349 → 12.34; exempt by default → total 12.34
        let c = charges(Currency::Usd, "0.012349", 1000);
        let bill = Bill::build(
            header("2019-11", Currency::Usd),
            vec![(tenant("t", "w"), c.clone())],
        )
        .unwrap();
        assert_eq!(bill.tenants[0].total.to_string(), "12.34");
        assert_eq!(bill.tax.amount.to_string(), "0.00");
        assert_eq!(bill.total.to_string(), "12.34");
        // with a 10 % contract tax setting: 1.234 → 1.23
        let mut h = header("2019-11", Currency::Usd);
        h.tax_rule = TaxRule::Percent(d("10"));
        let bill = Bill::build(h, vec![(tenant("t", "w"), c)]).unwrap();
        assert_eq!(bill.tax.amount.to_string(), "1.23");
        assert_eq!(bill.total.to_string(), "13.57");
    }

    #[test]
    fn currency_mismatch_is_refused() {
        let c = charges(Currency::Usd, "1", 1);
        let err = Bill::build(
            header("2019-11", Currency::Jpy),
            vec![(tenant("t", "w"), c)],
        )
        .unwrap_err();
        assert!(matches!(err, BillError::CurrencyMismatch { .. }));
    }

    #[test]
    fn empty_bill_is_zero() {
        let bill = Bill::build(header("2019-08", Currency::Jpy), vec![]).unwrap();
        assert_eq!(
            (bill.subtotal, bill.tax.amount, bill.total),
            (d("0"), d("0"), d("0"))
        );
        assert_eq!(bill.tax.percent, d("8"));
    }
}
