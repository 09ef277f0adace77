//! The three CSV renderings of a bill (seed 002): summary per workspace, detail per line, and the
//! legacy tiered record format ("usage fee format before October 2021").
//!
//! Output is UTF-8 with `\n` line ends. The summary and detail files quote a field only when it
//! needs it; the legacy file quotes every text field and leaves numbers (line number, record
//! type, tier, total line count) bare, exactly as seed 002's example.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::bill::{Bill, PlanNode, ResourceNode, TaxRule, TenantBill};
use crate::rating::{ChargeLine, FreeReason, LineKind, Unit, amount6};

/// Columns of the detail CSV, in seed 002's order.
pub const DETAIL_COLUMNS: [&str; 22] = [
    "Charge Type",
    "Contract ID",
    "External Contract ID",
    "Workspace ID",
    "Workspace Name",
    "Tenant ID",
    "Calculation Unit ID",
    "Category",
    "Subcategory",
    "Menu",
    "Detail",
    "Plan",
    "Region",
    "Description",
    "Resource ID",
    "Usage",
    "Unit",
    "Amount",
    "Currency",
    "Tax Class",
    "Target Month",
    "Status",
];

/// Columns of the summary CSV.
pub const SUMMARY_COLUMNS: [&str; 10] = [
    "Charge Type",
    "Contract ID",
    "External Contract ID",
    "Workspace ID",
    "Workspace Name",
    "Amount",
    "Currency",
    "Tax Class",
    "Target Month",
    "Status",
];

/// Record type numbers of the legacy format (its 2nd column). 1–5 are those of seed 002's
/// example; the break and end records are described there but their numbers are not shown, so
/// 0 and 9 are our choice.
pub mod record_type {
    pub const BREAK: u32 = 0;
    pub const BILLING_MONTH: u32 = 1;
    pub const FILE_CREATE_DATE: u32 = 2;
    pub const BILLING_ITEM: u32 = 3;
    pub const BILLING_STATUS: u32 = 4;
    pub const CONTRACT_IDENTIFIER: u32 = 5;
    pub const END: u32 = 9;
}

/// Tax class as written in the detail and summary files: "total" (合算) when tax is computed on
/// the total, "exempt" otherwise.
fn tax_class(rule: TaxRule) -> &'static str {
    match rule {
        TaxRule::Exempt => "exempt",
        TaxRule::JapaneseConsumption | TaxRule::Percent(_) => "total",
    }
}

fn charge_type(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Usage => "usage",
        LineKind::Cap => "cap",
        LineKind::Free(_) => "free_usage",
    }
}

/// A field quoted only when it has to be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        quoted(s)
    } else {
        s.to_owned()
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn row(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

fn money(bill: &Bill, amount: Decimal) -> String {
    bill.header.currency.round_down(amount).to_string()
}

/// Summary CSV: one "usage" row per workspace (Σ of its tenants' rounded totals), then the
/// contract's "tax" and "total" rows.
pub fn summary_csv(bill: &Bill) -> String {
    let h = &bill.header;
    let mut workspaces: Vec<(&str, &str, Decimal)> = Vec::new();
    for t in &bill.tenants {
        match workspaces.iter_mut().find(|w| w.0 == t.tenant.workspace_id) {
            Some(w) => w.2 += t.total,
            None => workspaces.push((&t.tenant.workspace_id, &t.tenant.workspace_name, t.total)),
        }
    }
    let common = |charge: &str, ws_id: &str, ws_name: &str, amount: String| {
        row(&[
            charge.to_owned(),
            h.contract.contract_id.clone(),
            h.contract.external_contract_id.clone().unwrap_or_default(),
            ws_id.to_owned(),
            ws_name.to_owned(),
            amount,
            h.currency.code().to_owned(),
            tax_class(h.tax_rule).to_owned(),
            h.month.to_string(),
            h.status.as_str().to_owned(),
        ])
    };
    let mut out = row(&SUMMARY_COLUMNS.map(str::to_owned));
    for (id, name, amount) in workspaces {
        out += &common("usage", id, name, money(bill, amount));
    }
    out += &common("tax", "", "", money(bill, bill.tax.amount));
    out += &common("total", "", "", money(bill, bill.total));
    out
}

/// Detail CSV: one row per charge line, then per tenant a "rounding" row (what rounding the
/// tenant total down took off), then the contract's "tax" row, so the Amount column adds up to
/// the bill's total.
pub fn detail_csv(bill: &Bill) -> String {
    let h = &bill.header;
    let mut out = row(&DETAIL_COLUMNS.map(str::to_owned));
    let base = |charge: &str, t: Option<&TenantBill>| -> Vec<String> {
        vec![
            charge.to_owned(),
            h.contract.contract_id.clone(),
            h.contract.external_contract_id.clone().unwrap_or_default(),
            t.map(|t| t.tenant.workspace_id.clone()).unwrap_or_default(),
            t.map(|t| t.tenant.workspace_name.clone())
                .unwrap_or_default(),
            t.map(|t| t.tenant.tenant_id.clone()).unwrap_or_default(),
        ]
    };
    let tail = |amount: String| -> Vec<String> {
        vec![
            amount,
            h.currency.code().to_owned(),
            tax_class(h.tax_rule).to_owned(),
            h.month.to_string(),
            h.status.as_str().to_owned(),
        ]
    };
    for t in &bill.tenants {
        for s in &t.services {
            for c in &s.categories {
                for r in &c.resources {
                    for l in r.all_lines() {
                        let mut f = base(charge_type(l.kind), Some(t));
                        let usage = l.kind == LineKind::Usage;
                        f.extend([
                            r.resource_id
                                .clone()
                                .unwrap_or_else(|| t.tenant.tenant_id.clone()),
                            r.menu.category.clone(),
                            r.menu.subcategory.clone(),
                            r.menu.name.clone(),
                            l.status.clone().unwrap_or_default(),
                            l.plan.clone().unwrap_or_default(),
                            r.menu.region.clone(),
                            l.description.clone(),
                            r.resource_id.clone().unwrap_or_default(),
                            if usage {
                                l.quantity.normalize().to_string()
                            } else {
                                String::new()
                            },
                            if usage {
                                l.unit.label().to_owned()
                            } else {
                                String::new()
                            },
                        ]);
                        f.extend(tail(amount6(l.amount).to_string()));
                        out += &row(&f);
                    }
                }
            }
        }
        let rounding = amount6(t.total - t.exact_amount);
        if !rounding.is_zero() {
            let mut f = base("rounding", Some(t));
            f.push(t.tenant.tenant_id.clone());
            f.extend(std::iter::repeat_n(String::new(), 6));
            f.push("Tenant total rounded down to the currency unit".to_owned());
            f.extend(std::iter::repeat_n(String::new(), 3));
            f.extend(tail(rounding.to_string()));
            out += &row(&f);
        }
    }
    let mut f = base("tax", None);
    f.extend(std::iter::repeat_n(String::new(), 7));
    f.push(format!("Tax {}%", bill.tax.percent.normalize()));
    f.extend(std::iter::repeat_n(String::new(), 3));
    f.extend(tail(money(bill, bill.tax.amount)));
    out += &row(&f);
    out
}

/// Parameters of the legacy file that are not part of the bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyOptions {
    /// The "File Create Date" record: when the file is produced.
    pub created_at: DateTime<Utc>,
    /// Shown as `CustomerNumber:…` on the total line; defaults to the contract's customer number.
    pub billing_customer_number: Option<String>,
}

struct Legacy {
    lines: Vec<String>,
    /// The billing items, structured: the bill tree that the GraphQL API shows.
    items: Vec<BillItem>,
    /// Tenant and resource of the rows being written.
    tenant: Option<String>,
    resource: Option<String>,
}

/// One billing item row of the legacy file: a node of the bill tree in pre-order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillItem {
    /// 1 contract total, 2 tenant or tax, 3 service, 4 category, 5 resource, 6 plan, 7 usage.
    pub tier: usize,
    pub label: String,
    pub detail: String,
    pub usage: String,
    pub fee: String,
    pub tenant_id: Option<String>,
    pub resource_id: Option<String>,
}

impl Legacy {
    fn next(&self) -> usize {
        self.lines.len() + 1
    }

    fn record(&mut self, rtype: u32, label: &str, value: &str, extra: &str) {
        let n = self.next();
        self.lines.push(format!(
            "{n},{rtype},{},{},{},\"\",\"\"",
            quoted(label),
            quoted(value),
            quoted(extra)
        ));
    }

    fn item(&mut self, tier: usize, label: &str, detail: &str, usage: &str, fee: &str) {
        self.items.push(BillItem {
            tier,
            label: label.to_owned(),
            detail: detail.to_owned(),
            usage: usage.to_owned(),
            fee: fee.to_owned(),
            tenant_id: self.tenant.clone(),
            resource_id: self.resource.clone(),
        });
        let n = self.next();
        let indented = format!("{}{label}", "  ".repeat(tier - 1));
        self.lines.push(format!(
            "{n},{},{tier},{},{},{},{}",
            record_type::BILLING_ITEM,
            quoted(&indented),
            quoted(detail),
            quoted(usage),
            quoted(fee)
        ));
    }

    fn bare(&mut self, rtype: u32, third: &str) {
        let n = self.next();
        self.lines
            .push(format!("{n},{rtype},{third},\"\",\"\",\"\",\"\""));
    }
}

/// Displayed usage: time rounded up to whole units ("3739 Min"), as seed 003 2.1 says the
/// display does; the charge itself used the exact value.
fn usage_display(l: &ChargeLine) -> String {
    if l.kind != LineKind::Usage {
        return String::new();
    }
    let q = if l.unit.seconds().is_some() {
        l.quantity.ceil()
    } else {
        l.quantity.normalize()
    };
    match l.unit {
        Unit::Count => q.to_string(),
        u => format!("{q} {}", u.label()),
    }
}

fn free_text(reason: FreeReason) -> &'static str {
    match reason {
        FreeReason::LogicalNetworkAllowance => "ロジカルネットワーク5本相当",
        FreeReason::CicOneGbpsLink => "CIC 1Gbps 1回線相当",
        FreeReason::VirtualPrivateCfSecondEnvironment => "2環境目 初回30日間",
    }
}

/// Label and detail of a line row.
fn line_label(l: &ChargeLine) -> (String, String) {
    match l.kind {
        LineKind::Free(reason) => ("無料利用分".to_owned(), free_text(reason).to_owned()),
        LineKind::Cap => ("上限額適用".to_owned(), l.description.clone()),
        LineKind::Usage => match &l.status {
            Some(s) => (s.clone(), String::new()),
            None if !l.description.is_empty() => (l.description.clone(), String::new()),
            None => (l.unit.label().to_owned(), String::new()),
        },
    }
}

/// A line that stands for its parent row: the parent shows its usage and gets no child row.
fn merges_into_parent(lines: &[ChargeLine]) -> Option<&ChargeLine> {
    match lines {
        [l] if l.kind == LineKind::Usage && l.status.is_none() => Some(l),
        _ => None,
    }
}

fn legacy_resource(out: &mut Legacy, tier: usize, r: &ResourceNode) {
    out.resource = r.resource_id.clone();
    let fee = amount6(r.amount).to_string();
    let Some(id) = &r.resource_id else {
        // tenant-wide lines: one row each, at the resource tier
        for l in &r.lines {
            let (label, detail) = line_label(l);
            out.item(
                tier,
                &label,
                &detail,
                &usage_display(l),
                &amount6(l.amount).to_string(),
            );
        }
        return;
    };
    let detail = match &r.resource_name {
        Some(name) => format!("Id:{id}, Name:{name}"),
        None => format!("Id:{id}"),
    };
    if r.plans.is_empty()
        && let Some(l) = merges_into_parent(&r.lines)
    {
        out.item(tier, &r.menu.name, &detail, &usage_display(l), &fee);
        return;
    }
    let qty = r.quantity.unwrap_or(Decimal::ONE).normalize().to_string();
    out.item(tier, &r.menu.name, &detail, &qty, &fee);
    for p in &r.plans {
        legacy_plan(out, tier + 1, p);
    }
    for l in &r.lines {
        let (label, detail) = line_label(l);
        out.item(
            tier + 1,
            &label,
            &detail,
            &usage_display(l),
            &amount6(l.amount).to_string(),
        );
    }
}

fn legacy_plan(out: &mut Legacy, tier: usize, p: &PlanNode) {
    let fee = amount6(p.amount).to_string();
    if let Some(l) = merges_into_parent(&p.lines) {
        out.item(tier, &p.label, "", &usage_display(l), &fee);
        return;
    }
    out.item(tier, &p.label, "", "", &fee);
    for l in &p.lines {
        let (label, detail) = line_label(l);
        out.item(
            tier + 1,
            &label,
            &detail,
            &usage_display(l),
            &amount6(l.amount).to_string(),
        );
    }
}

/// The legacy tiered CSV ("usage fee format before October 2021", seed 002).
///
/// Records: 1 billing month, 2 contract identifier, 3 break, then the billing items (tier 1 the
/// contract total with tax, tier 2 each tenant, tier 3 service, tier 4 category, tier 5 resource,
/// tier 6 plan, tier 7 usage line; the tax line at tier 2 after the tenants), billing status,
/// break, file create date, and an end record whose 3rd column is the total line count. Seed 002's
/// example shows every one of these lines but the two breaks (its lines 3 and 24) and the end
/// record; the item label is indented by two spaces per tier below the first. Amounts are those
/// of the example: the contract total, tenant, service and tax rows in the currency's unit
/// (rounded down — the example's service row shows 5870, not 5870.751682), category and lower
/// rows with 6 decimal places.
pub fn legacy_csv(bill: &Bill, options: &LegacyOptions) -> String {
    let mut text = legacy(bill, options).lines.join("\n");
    text.push('\n');
    text
}

/// The bill tree as the legacy file's billing items (tiers, labels, details, usage, fees).
pub fn bill_items(bill: &Bill) -> Vec<BillItem> {
    let options = LegacyOptions {
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        billing_customer_number: None,
    };
    legacy(bill, &options).items
}

fn legacy(bill: &Bill, options: &LegacyOptions) -> Legacy {
    let h = &bill.header;
    let mut out = Legacy {
        lines: Vec::new(),
        items: Vec::new(),
        tenant: None,
        resource: None,
    };
    out.record(
        record_type::BILLING_MONTH,
        "Billing Month",
        &h.month.to_string(),
        "",
    );
    out.record(
        record_type::CONTRACT_IDENTIFIER,
        "Contract Identifier",
        &h.contract.customer_number,
        &h.contract.contract_id,
    );
    out.bare(record_type::BREAK, "\"\"");

    let customer = options
        .billing_customer_number
        .as_deref()
        .unwrap_or(&h.contract.customer_number);
    out.item(
        1,
        "合計",
        &format!("CustomerNumber:{customer} [{}]", h.contract.contract_id),
        "",
        &money(bill, bill.total),
    );
    for t in &bill.tenants {
        out.tenant = Some(t.tenant.tenant_id.clone());
        out.resource = None;
        out.item(
            2,
            "テナント",
            &format!(
                "Id:{}, Name:{}, RegionId:{}",
                t.tenant.tenant_id, t.tenant.name, t.tenant.region
            ),
            "",
            &money(bill, t.total),
        );
        for s in &t.services {
            out.item(3, &s.name, "", "", &money(bill, s.amount));
            for c in &s.categories {
                out.item(4, &c.name, "", "", &amount6(c.amount).to_string());
                for r in &c.resources {
                    legacy_resource(&mut out, 5, r);
                }
            }
        }
    }
    out.tenant = None;
    out.resource = None;
    let class = match bill.tax.rule {
        TaxRule::Exempt => "非課税",
        TaxRule::JapaneseConsumption | TaxRule::Percent(_) => "合算",
    };
    out.item(
        2,
        "消費税相当額",
        &format!("税区分:{class} 消費税率:{}%", bill.tax.percent.normalize()),
        "",
        &money(bill, bill.tax.amount),
    );
    out.record(
        record_type::BILLING_STATUS,
        "Billing Status",
        h.status.as_str(),
        "",
    );
    out.bare(record_type::BREAK, "\"\"");
    out.record(
        record_type::FILE_CREATE_DATE,
        "File Create Date",
        &options
            .created_at
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        "",
    );
    let total_lines = out.next();
    out.bare(record_type::END, &total_lines.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{BillHeader, BillStatus, ContractInfo, TenantInfo};
    use crate::rating::testutil::{d, t};
    use crate::rating::{
        ChargePattern, Currency, Menu, Month, Period, PlanPrice, Resource, SpecialRule,
        TenantCharges, UsageInterval, rate_tenant,
    };

    /// Seed 002's legacy CSV example, as published (its lines 3 and 24 and the end record are
    /// not shown there).
    const EXAMPLE: &str = include_str!("../tests/fixtures/legacy_example_2019_08.csv");

    /// The moment the example file was created; also the estimate's cut-off.
    fn created() -> DateTime<Utc> {
        t(2019, 8, 30, 7, 25, 38)
    }

    /// The price list behind the example. The per-minute prices are the example's amounts
    /// divided by its minutes (649.135268 / 3739 = 0.173612 exactly, and so on); the caps are
    /// not in the example and are chosen high enough not to bite.
    fn example_menus() -> Vec<Menu> {
        let jpy = Currency::Jpy;
        vec![
            Menu::new(
                "compute",
                "Virtual Server",
                "Compute",
                Unit::Minute,
                ChargePattern::CappedPaygPlanChange,
                jpy,
            )
            .with_region("jp1")
            .with_plan(
                PlanPrice::new("1CPU-4GB", d("0.173612"))
                    .with_cap(d("7000"))
                    .with_label("Flavor (1CPU-4GB)"),
            ),
            Menu::new(
                "volume",
                "Virtual Server",
                "Volume",
                Unit::Minute,
                ChargePattern::CappedPayg,
                jpy,
            )
            .with_region("jp1")
            .with_plan(PlanPrice::new("15GB", d("0.014881")).with_cap(d("600"))),
            Menu::new(
                "logical-network",
                "Logical Network",
                "Network",
                Unit::Minute,
                ChargePattern::CappedPayg,
                jpy,
            )
            .with_region("jp1")
            .with_rule(SpecialRule::LogicalNetwork)
            .with_plan(
                PlanPrice::new("network", d("0.074405"))
                    .with_cap(d("3000"))
                    .without_tier(),
            ),
            Menu::new(
                "firewall",
                "Firewall",
                "Firewall Instance",
                Unit::Minute,
                ChargePattern::CappedPaygPlanChange,
                jpy,
            )
            .with_region("jp1")
            .with_plan(
                PlanPrice::new("vSRX 15.1X49-D105.1 Standard (2CPU-4GB-8IF)", d("0.694445"))
                    .with_cap(d("28000")),
            ),
            Menu::new(
                "load-balancer",
                "Load Balancer",
                "Load Balancer Instance",
                Unit::Minute,
                ChargePattern::CappedPaygPlanChange,
                jpy,
            )
            .with_region("jp1")
            .with_plan(
                PlanPrice::new(
                    "NetScaler VPX 12.1-52.15 Standard_Edition (50Mbps 2CPU-8GB-4IF)",
                    d("0.694445"),
                )
                .with_cap(d("28000")),
            ),
        ]
    }

    /// The example's usage: resources still running at the file's creation, except the firewall.
    fn example_charges() -> TenantCharges {
        let now = created();
        let ago = |m: i64| now - chrono::Duration::minutes(m);
        let id = "xxxxxxxxxxxxxxxxxxx";
        let resources = [
            Resource::new(id, "compute").with_interval(
                UsageInterval::new("1CPU-4GB", ago(3739), None).with_status("Running"),
            ),
            Resource::new(id, "volume")
                .with_name("xxxxxxxxx")
                .with_interval(UsageInterval::new("15GB", ago(3739), None)),
            Resource::new(id, "logical-network").with_interval(UsageInterval::new(
                "network",
                ago(3741),
                None,
            )),
            Resource::new(id, "firewall").with_interval(UsageInterval::new(
                "vSRX 15.1X49-D105.1 Standard (2CPU-4GB-8IF)",
                ago(3800),
                Some(ago(3800) + chrono::Duration::minutes(3714)),
            )),
            Resource::new(id, "load-balancer").with_interval(UsageInterval::new(
                "NetScaler VPX 12.1-52.15 Standard_Edition (50Mbps 2CPU-8GB-4IF)",
                ago(3725),
                None,
            )),
        ];
        let month = Month::parse("2019-08").unwrap();
        rate_tenant(&example_menus(), &resources, &Period::until(month, now)).unwrap()
    }

    fn example_bill() -> Bill {
        let header = BillHeader {
            contract: ContractInfo {
                contract_id: "econ1000XXXXXX".into(),
                external_contract_id: None,
                customer_number: "econ1000XXXXXX".into(),
            },
            month: Month::parse("2019-08").unwrap(),
            status: BillStatus::Estimated,
            currency: Currency::Jpy,
            tax_rule: TaxRule::JapaneseConsumption,
        };
        let tenant = TenantInfo {
            tenant_id: "xxxxxxxxxx".into(),
            name: "manual-tenant".into(),
            region: "jp1".into(),
            workspace_id: "ws-1".into(),
            workspace_name: "manual workspace".into(),
        };
        Bill::build(header, vec![(tenant, example_charges())]).unwrap()
    }

    fn example_options() -> LegacyOptions {
        LegacyOptions {
            created_at: created(),
            billing_customer_number: Some("econ1000XXXXXX00001".into()),
        }
    }

    #[test]
    fn seed_002_example_lines_and_totals() {
        let tc = example_charges();
        let line_amounts: Vec<String> = tc
            .resources
            .iter()
            .flat_map(|r| r.lines.iter().map(|l| l.amount.to_string()))
            .collect();
        assert_eq!(
            line_amounts,
            [
                "649.135268",
                "55.640059",
                "278.349105",
                "2579.168730",
                "2586.807625"
            ]
        );
        let minutes: Vec<String> = tc
            .resources
            .iter()
            .map(|r| r.lines[0].quantity.to_string())
            .collect();
        assert_eq!(minutes, ["3739", "3739", "3741", "3714", "3725"]);
        assert_eq!(tc.tenant_lines.len(), 1);
        assert_eq!(tc.tenant_lines[0].line.amount.to_string(), "-278.349105");
        assert_eq!(tc.total().to_string(), "5870.751682");

        let bill = example_bill();
        assert_eq!(bill.tenants[0].exact_amount.to_string(), "5870.751682");
        assert_eq!(bill.tenants[0].total.to_string(), "5870");
        assert_eq!(bill.tax.percent.to_string(), "8");
        assert_eq!(bill.tax.amount.to_string(), "469");
        assert_eq!(bill.total.to_string(), "6339");
        let vs = &bill.tenants[0].services[0].categories[0];
        assert_eq!(
            (vs.name.as_str(), vs.amount.to_string()),
            ("Virtual Server", "704.775327".to_owned())
        );
    }

    #[test]
    fn seed_002_example_legacy_csv_is_reproduced_line_for_line() {
        let out = legacy_csv(&example_bill(), &example_options());
        let lines: Vec<&str> = out.lines().collect();
        // every published line, at its own line number, byte for byte
        for expected in EXAMPLE.lines() {
            let n: usize = expected.split(',').next().unwrap().parse().unwrap();
            assert_eq!(lines[n - 1], expected, "line {n}");
        }
        // and nothing else but the records the example leaves out: two breaks and the end
        let shown: Vec<&str> = EXAMPLE.lines().collect();
        let rest: Vec<&&str> = lines.iter().filter(|l| !shown.contains(l)).collect();
        assert_eq!(
            rest,
            [
                &"3,0,\"\",\"\",\"\",\"\",\"\"",
                &"24,0,\"\",\"\",\"\",\"\",\"\"",
                &"26,9,26,\"\",\"\",\"\",\"\""
            ]
        );
        assert!(out.ends_with('\n'));
    }

    #[test]
    fn legacy_file_create_date_is_the_parameter() {
        let mut opts = example_options();
        opts.created_at = t(2024, 1, 2, 3, 4, 5);
        let out = legacy_csv(&example_bill(), &opts);
        assert!(
            out.lines().any(
                |l| l == "25,2,\"File Create Date\",\"2024-01-02 03:04:05 UTC\",\"\",\"\",\"\""
            )
        );
        // without a billing customer number the contract's customer number is shown
        opts.billing_customer_number = None;
        let out = legacy_csv(&example_bill(), &opts);
        assert!(out.contains("\"CustomerNumber:econ1000XXXXXX [econ1000XXXXXX]\""));
    }

    #[test]
    fn legacy_indents_two_spaces_per_tier_and_shows_caps_and_statuses() {
        // a two-phase capped VM with a plan change, a 10 % month, and a quote in a name
        let menu = example_menus().remove(0).with_plan(
            PlanPrice::new("2CPU-8GB", d("0.347224"))
                .with_cap(d("14000"))
                .with_label("Flavor (2CPU-8GB)"),
        );
        let month = Month::parse("2019-10").unwrap();
        let r = Resource::new("vm1", "compute")
            .with_name("web \"a\"")
            .with_interval(
                UsageInterval::new("2CPU-8GB", month.start(), Some(t(2019, 10, 31, 0, 0, 0)))
                    .with_status("Running"),
            )
            .with_interval(
                UsageInterval::new("1CPU-4GB", t(2019, 10, 31, 0, 0, 0), None)
                    .with_status("Running"),
            );
        let tc = rate_tenant(&[menu], &[r], &Period::whole(month)).unwrap();
        let mut bill = example_bill();
        bill.header.month = month;
        let bill = Bill::build(
            bill.header.clone(),
            vec![(bill.tenants[0].tenant.clone(), tc)],
        )
        .unwrap();
        let out = legacy_csv(&bill, &example_options());
        let items: Vec<&str> = out
            .lines()
            .filter(|l| l.split(',').nth(1) == Some("3"))
            .collect();
        for l in &items {
            let tier: usize = l.split(',').nth(2).unwrap().parse().unwrap();
            let label = l.split(',').nth(3).unwrap().trim_start_matches('"');
            let spaces = label.len() - label.trim_start_matches(' ').len();
            assert_eq!(spaces, (tier - 1) * 2, "{l}");
        }
        // 2CPU-8GB 30 d = 15000.0768 → 14000; 1CPU-4GB 1 d = 250.00128; phase II → 14000
        assert!(items.iter().any(|l| l.contains(
            ",5,\"        Compute\",\"Id:vm1, Name:web \"\"a\"\"\",\"1\",\"14000.000000\""
        )));
        assert!(
            items
                .iter()
                .any(|l| l
                    .contains(",7,\"            Running\",\"\",\"43200 Min\",\"15000.076800\""))
        );
        assert!(
            items
                .iter()
                .any(|l| l.contains(",7,\"            上限額適用\""))
        );
        assert!(
            items
                .iter()
                .any(|l| l.contains(",6,\"          上限額適用\"")),
            "phase-II cap under the resource"
        );
        assert!(
            items
                .iter()
                .any(|l| l.contains("\"税区分:合算 消費税率:10%\",\"\",\"1400\""))
        );
        assert!(items[0].ends_with(",\"15400\""));
    }

    #[test]
    fn legacy_usage_display_rounds_time_up() {
        let mut l = crate::rating::ChargeLine::usage(None, Unit::Minute);
        l.quantity = d("1.5");
        assert_eq!(usage_display(&l), "2 Min");
        l.quantity = d("3739");
        assert_eq!(usage_display(&l), "3739 Min");
        l.unit = Unit::Month;
        l.quantity = d("2");
        assert_eq!(usage_display(&l), "2 Month");
        l.kind = LineKind::Cap;
        assert_eq!(usage_display(&l), "");
    }

    #[test]
    fn detail_csv_has_seed_002_columns_and_adds_up_to_the_total() {
        let out = detail_csv(&example_bill());
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows[0], DETAIL_COLUMNS.join(","));
        assert_eq!(DETAIL_COLUMNS.len(), 22);
        assert_eq!(
            rows[1],
            "usage,econ1000XXXXXX,,ws-1,manual workspace,xxxxxxxxxx,xxxxxxxxxxxxxxxxxxx,Virtual Server,,Compute,\
             Running,1CPU-4GB,jp1,,xxxxxxxxxxxxxxxxxxx,3739,Min,649.135268,JPY,total,2019-08,estimated"
        );
        assert!(rows[4].starts_with("free_usage,econ1000XXXXXX,,ws-1,manual workspace,xxxxxxxxxx,xxxxxxxxxx,Logical Network,,Network,,,jp1,Free usage"));
        assert!(rows[4].ends_with(",,,,-278.349105,JPY,total,2019-08,estimated"));
        assert!(rows[7].starts_with("rounding,"));
        assert!(rows[7].contains(",-0.751682,JPY,"));
        assert!(rows[8].starts_with(
            "tax,econ1000XXXXXX,,,,,,,,,,,,Tax 8%,,,,469,JPY,total,2019-08,estimated"
        ));
        assert_eq!(rows.len(), 9);
        for r in &rows {
            assert_eq!(r.split(',').count(), 22, "{r}");
        }
        let sum: Decimal = rows[1..]
            .iter()
            .map(|r| r.split(',').nth(17).unwrap().parse::<Decimal>().unwrap())
            .sum();
        assert_eq!(sum, d("6339"));
    }

    #[test]
    fn summary_csv_is_per_workspace_then_tax_and_total() {
        let bill = example_bill();
        let mut tenants = vec![(bill.tenants[0].tenant.clone(), example_charges())];
        let mut other = bill.tenants[0].tenant.clone();
        other.tenant_id = "t2".into();
        other.workspace_id = "ws-2".into();
        other.workspace_name = "Second, Inc.".into();
        tenants.push((other, example_charges()));
        let mut third = bill.tenants[0].tenant.clone();
        third.tenant_id = "t3".into();
        tenants.push((third, example_charges()));
        let bill = Bill::build(bill.header.clone(), tenants).unwrap();
        let out = summary_csv(&bill);
        assert_eq!(
            out,
            "Charge Type,Contract ID,External Contract ID,Workspace ID,Workspace Name,Amount,Currency,Tax Class,Target Month,Status\n\
             usage,econ1000XXXXXX,,ws-1,manual workspace,11740,JPY,total,2019-08,estimated\n\
             usage,econ1000XXXXXX,,ws-2,\"Second, Inc.\",5870,JPY,total,2019-08,estimated\n\
             tax,econ1000XXXXXX,,,,1408,JPY,total,2019-08,estimated\n\
             total,econ1000XXXXXX,,,,19018,JPY,total,2019-08,estimated\n"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted(""), "\"\"");
    }
}
