//! The legacy tiered CSV of seed 002 ("usage fee format before October 2021"): numbered records,
//! billing items indented by tier, Japanese labels exactly as the example.

use chrono::{DateTime, Utc};

use super::csv::quoted;
use crate::bill::Bill;
#[cfg(test)]
pub(super) use crate::bill::lines::usage_display;
use crate::bill::lines::{BillNode, nodes};

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

    /// A billing item: a node of the bill tree, its Japanese label indented by tier.
    fn item(&mut self, node: &BillNode) {
        let n = self.next();
        let tier = node.tier;
        let indented = format!("{}{}", "  ".repeat(tier - 1), node.label.ja);
        self.lines.push(format!(
            "{n},{},{tier},{},{},{},{}",
            record_type::BILLING_ITEM,
            quoted(&indented),
            quoted(&node.detail),
            quoted(&node.usage),
            quoted(&node.amount.to_string())
        ));
    }

    fn bare(&mut self, rtype: u32, third: &str) {
        let n = self.next();
        self.lines
            .push(format!("{n},{rtype},{third},\"\",\"\",\"\",\"\""));
    }
}

/// The legacy tiered CSV ("usage fee format before October 2021", seed 002).
///
/// Records: 1 billing month, 2 contract identifier, 3 break, then the billing items (the bill
/// tree's nodes of [`crate::bill::lines`] with their Japanese labels: tier 1 the contract total
/// with tax, tier 2 each tenant, tier 3 service, tier 4 category, tier 5 resource, tier 6 plan,
/// tier 7 usage line; coupons, a fixed bill's corrections (`請求訂正`) and the tax line at tier 2
/// after the tenants), billing status, break, file create date, and an end record whose 3rd column is the total line count. Seed 002's
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

fn legacy(bill: &Bill, options: &LegacyOptions) -> Legacy {
    let h = &bill.header;
    let mut out = Legacy { lines: Vec::new() };
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
    for node in nodes(bill, customer) {
        out.item(&node);
    }
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
