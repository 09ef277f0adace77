//! The legacy tiered CSV of seed 002 ("usage fee format before October 2021"): numbered records,
//! billing items indented by tier, Japanese labels exactly as the example.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::csv::{money, quoted};
use crate::bill::{Bill, PlanNode, ResourceNode, TaxRule};
use crate::rating::{ChargeLine, FreeReason, LineKind, Unit, amount6};

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
pub(super) fn usage_display(l: &ChargeLine) -> String {
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
