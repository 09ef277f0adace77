//! Billing service: the price list, bills (estimated and fixed months) and their CSV exports.
//!
//! Money travels as decimal strings with their scale ("649.135268", "6339"), never as floats.

use crate::{Page, PageArgs, call, event};
use chrono::{DateTime, Utc};
use ecl_kernel::Month;
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "billing";

closed_set! {
    /// What one unit of a menu's measured usage is.
    pub enum ChargeUnit {
        Second = "SECOND",
        Minute = "MINUTE",
        Hour = "HOUR",
        Day = "DAY",
        Month = "MONTH",
        /// Gigabytes (storage, transfer).
        Gb = "GB",
        /// Pieces (licences, addresses…).
        Count = "COUNT",
    }
}

closed_set! {
    /// How a menu's month is charged (seed 003 chapter 2).
    pub enum ChargePattern {
        Payg = "PAYG",
        CappedPayg = "CAPPED_PAYG",
        CappedPaygPlanChange = "CAPPED_PAYG_PLAN_CHANGE",
        MonthlyFixed = "MONTHLY_FIXED",
        ProratedDaily = "PRORATED_DAILY",
    }
}

closed_set! {
    /// A menu's special calculation of seed 003 2.5, on top of its pattern.
    pub enum SpecialRule {
        /// No special rule (a price list stored before the rule was a closed set may say `""`).
        #[serde(alias = "")]
        None = "NONE",
        LogicalNetwork = "LOGICAL_NETWORK",
        Cic1G = "CIC_1G",
        Cic10G = "CIC_10G",
        WindowsGuestImage = "WINDOWS_GUEST_IMAGE",
        Oracle = "ORACLE",
        SqlServerVirtualServer = "SQL_SERVER_VIRTUAL_SERVER",
        SqlServerDedicatedHypervisor = "SQL_SERVER_DEDICATED_HYPERVISOR",
        Monitoring = "MONITORING",
        CloudFoundryShared = "CLOUD_FOUNDRY_SHARED",
        VirtualPrivateCf = "VIRTUAL_PRIVATE_CF",
    }
}

closed_set! {
    /// The currency of a price list and of its bills (ISO 4217).
    pub enum Currency {
        /// Japanese yen: totals round to whole yen.
        Jpy = "JPY",
        /// US dollars: totals round to cents.
        Usd = "USD",
    }
}

/// One plan (flavor, size, edition) of a menu and its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSpec {
    pub plan: String,
    /// Tier label in the bill ("Flavor (1CPU-4GB)"); `None` = the plan key; `Some("")` = no tier.
    pub label: Option<String>,
    /// Per unit for metered patterns, per month for monthly fixed, per day for prorated daily.
    pub unit_price: String,
    /// Monthly cap of capped patterns.
    pub cap: Option<String>,
    /// vCPUs of a flavor (SQL Server on virtual servers).
    pub vcpus: Option<u32>,
}

/// A menu of the price list, as written by the operator. `effective_from` is the first month its
/// prices apply to; bills of earlier months keep the prices they had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuSpec {
    pub code: String,
    /// Service tier of the bill ("Enterprise Cloud 2.0").
    pub service: String,
    pub category: String,
    pub subcategory: String,
    pub name: String,
    pub region: String,
    pub unit: ChargeUnit,
    pub pattern: ChargePattern,
    pub rule: SpecialRule,
    /// The rule's amount: the 8VM+ flat price (guest image), the Windows monthly fee (Oracle).
    pub rule_amount: Option<String>,
    /// The rule's plan: the free Basic plan (monitoring).
    pub rule_plan: Option<String>,
    pub currency: Currency,
    pub resellable: bool,
    /// What a child contract must do to use it (e.g. register the end user's name).
    pub resellable_condition: Option<String>,
    pub sla_eligible: bool,
    pub effective_from: Month,
    pub plans: Vec<PlanSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuView {
    pub spec: MenuSpec,
    pub updated_at: DateTime<Utc>,
}

/// Creates or replaces the prices of a menu from a month on (operator only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpsertMenu {
    pub menu: MenuSpec,
}
call!(UpsertMenu => MenuView, "billing", "billing.menu_upsert.v1");

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuFilter {
    pub code: Option<String>,
    pub category: Option<String>,
    pub currency: Option<Currency>,
    /// The prices in force in this month; default: the current month.
    pub month: Option<Month>,
}

/// The price list in force in a month (any signed-in caller).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListMenus {
    pub filter: MenuFilter,
    pub page: PageArgs,
}
call!(ListMenus => Page<MenuView>, "billing", "billing.menus.v1", key: Scope(Billing, Read));

/// What metering needs to validate usage: every code with all plans it ever had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub code: String,
    pub plans: Vec<String>,
    pub resellable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MenuCatalog {}
call!(MenuCatalog => Vec<CatalogEntry>, "billing", "billing.catalog.v1");

/// A menu's prices changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MenuChanged {
    pub code: String,
    pub effective_from: Month,
}
event!(MenuChanged, "billing.menu_changed");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillStatus {
    Estimated,
    Fixed,
}

/// What a node of the bill tree is: the node's type, never read back from its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillLineKind {
    /// Tier 1: the contract's total.
    Contract,
    /// Tier 2: a tenant's total.
    Tenant,
    /// Tier 3.
    Service,
    /// Tier 4: a menu category.
    Category,
    /// Tier 5: a resource, or a tenant-wide charge of a menu.
    Resource,
    /// Tier 6: a plan (flavor, size, edition) of a resource.
    Plan,
    /// A usage line (an interval of use at one plan).
    Usage,
    /// The part above a capped pattern's monthly cap, taken off.
    Cap,
    /// A free allowance taken off.
    Free,
    /// An SLA service credit taken off a tenant's amount (after coupons, before tax).
    SlaCredit,
    /// Tier 2: a bill-level adjustment: a coupon, after the prices and before SLA credits and
    /// tax; or an operator's correction of a FIXED bill (label `請求訂正`), after the credits and
    /// before tax.
    Adjustment,
    /// Tier 2: the consumption tax (or the contract's own tax setting).
    Tax,
}

/// One node of the bill tree, in pre-order: tier 1 is the contract total, 2 a tenant (or an
/// adjustment, or the tax), 3 a service, 4 a category, 5 a resource, 6 a plan, 7 a usage line
/// (the legacy CSV's tiers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLine {
    pub tier: u32,
    pub kind: BillLineKind,
    /// The label of the legacy CSV (Japanese where it has one: `合計`, `テナント`, `無料利用分`…).
    pub label: String,
    /// The same label in English.
    pub label_en: String,
    pub detail: String,
    /// Displayed usage ("3739 Min"), empty when none.
    pub usage: String,
    pub amount: String,
    pub tenant_id: Option<String>,
    pub resource_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillView {
    pub contract_id: String,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    /// Σ tenant totals, each rounded down to the currency's smallest unit.
    pub subtotal: String,
    pub tax_percent: String,
    pub tax: String,
    pub total: String,
    pub lines: Vec<BillLine>,
}

/// One month's bill of several contracts (DataLoader batch). Contracts the caller may not see,
/// or whose usage the caller may not see, are absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetBills {
    pub contract_ids: Vec<String>,
    pub month: Month,
    /// A daily estimate: the month's charges up to the end of this day (1-based, UTC), or up to
    /// now when that is earlier. Always `ESTIMATED`. `None` = the month's bill.
    #[serde(default)]
    pub day: Option<u32>,
}
call!(GetBills => Vec<BillView>, "billing", "billing.bills_get.v1", key: Scope(Billing, Read));

/// The bills of several contracts, newest month first, one page each (DataLoader batch): the
/// current month and every earlier month with usage, 24 months back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListBills {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListBills => Vec<(String, Page<BillView>)>, "billing", "billing.bills_list.v1", key: Scope(Billing, Read));

/// A tenant's charges of a month: its part of the bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantUsageView {
    pub tenant_id: String,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    /// Sum of the lines, 6 decimal places.
    pub exact_amount: String,
    /// Rounded down to the currency's smallest unit.
    pub total: String,
    /// The tenant's subtree, tiers as in [`BillLine`].
    pub lines: Vec<BillLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetTenantUsage {
    pub tenant_ids: Vec<String>,
    pub month: Month,
}
call!(GetTenantUsage => Vec<TenantUsageView>, "billing", "billing.tenant_usage.v1", key: Scope(Billing, Read));

/// Fixes every bill of a month (operator only). Idempotent: closing a closed month changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CloseMonth {
    pub month: Month,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseMonthResult {
    pub month: Month,
    /// Bills fixed by this month's close.
    pub bills: u64,
    /// True when the month was already closed before this call.
    pub already_closed: bool,
    pub closed_at: DateTime<Utc>,
}
call!(CloseMonth => CloseMonthResult, "billing", "billing.close_month.v1");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Summary,
    Detail,
    Legacy,
}

/// A bill as a CSV file (seed 002's formats).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportBill {
    pub contract_id: String,
    pub month: Month,
    pub format: ExportFormat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    pub filename: String,
    pub content_type: String,
    pub body: String,
}
call!(ExportBill => ExportFile, "billing", "billing.export.v1", key: Scope(Billing, Read));

/// One contract's bill fixed by a month's close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedBill {
    pub contract_id: String,
    pub total: String,
    pub currency: Currency,
}

/// A month was closed: its bills are fixed (notification mails each contract's contact person).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonthClosed {
    pub month: Month,
    pub bills: Vec<FixedBill>,
}
event!(MonthClosed, "billing.month_closed");

/// The estimated bill of these contracts' month changed (usage arrived for one of their
/// tenants; a partner's bill includes its children's): live `billEstimate` subscriptions ask again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EstimateChanged {
    pub contract_ids: Vec<String>,
    pub month: Month,
}
event!(EstimateChanged, "billing.estimate_changed");

#[cfg(test)]
mod tests {
    use super::*;

    /// Months and currencies were strings: a message written then reads, and writes the same bytes.
    #[test]
    fn a_bill_keeps_its_wire_text() {
        let old = r#"{"contract_id":"ctr_1","month":"2026-04","status":"FIXED","currency":"JPY","subtotal":"1000","tax_percent":"10","tax":"100","total":"1100","lines":[{"tier":1,"kind":"CONTRACT","label":"合計","label_en":"Total","detail":"","usage":"","amount":"1100","tenant_id":null,"resource_id":null}]}"#;
        let b: BillView = serde_json::from_str(old).unwrap();
        assert_eq!(b.month, Month::new(2026, 4).unwrap());
        assert_eq!(b.currency, Currency::Jpy);
        assert_eq!(serde_json::to_string(&b).unwrap(), old);

        let old = r#"{"tenant_id":"ten_1","month":"2019-08","status":"ESTIMATED","currency":"USD","exact_amount":"1.500000","total":"1.50","lines":[]}"#;
        let u: TenantUsageView = serde_json::from_str(old).unwrap();
        assert_eq!(u.currency, Currency::Usd);
        assert_eq!(serde_json::to_string(&u).unwrap(), old);

        let req = r#"{"contract_ids":["ctr_1"],"month":"2026-04","day":null}"#;
        let g: GetBills = serde_json::from_str(req).unwrap();
        assert_eq!(serde_json::to_string(&g).unwrap(), req);
    }

    #[test]
    fn a_month_or_currency_that_is_not_one_is_refused() {
        let bad = |month: &str, currency: &str| {
            format!(
                r#"{{"tenant_id":"t","month":"{month}","status":"FIXED","currency":"{currency}","exact_amount":"0","total":"0","lines":[]}}"#
            )
        };
        assert!(serde_json::from_str::<TenantUsageView>(&bad("2026-04", "JPY")).is_ok());
        for (m, c) in [
            ("2026-13", "JPY"),
            ("2026-4", "JPY"),
            ("", "JPY"),
            ("2026-04", "EUR"),
        ] {
            assert!(
                serde_json::from_str::<TenantUsageView>(&bad(m, c)).is_err(),
                "{m} {c}"
            );
        }
    }
}
