//! The summary CSV of seed 002: one row per workspace, then the contract's tax and total.

use rust_decimal::Decimal;

use super::csv::{money, row, tax_class};
use crate::bill::Bill;

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

/// Summary CSV: one "usage" row per workspace (Σ of its tenants' rounded totals, SLA credits
/// taken off), a "coupon" row per coupon, a "correction" row per correction of a fixed bill, then
/// the contract's "tax" and "total" rows.
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
    for a in &bill.adjustments {
        out += &common(
            super::detail::adjustment_type(a.kind),
            "",
            "",
            money(bill, a.amount),
        );
    }
    out += &common("tax", "", "", money(bill, bill.tax.amount));
    out += &common("total", "", "", money(bill, bill.total));
    out
}
