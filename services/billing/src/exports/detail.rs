//! The detail CSV of seed 002: one row per charge line, a rounding row per tenant, the tax row.

use super::csv::{money, row, tax_class};
use crate::bill::{Bill, TenantBill};
use crate::commercial::adjustments::AdjustmentKind;
use crate::rating::{LineKind, amount6};

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

fn charge_type(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Usage => "usage",
        LineKind::Cap => "cap",
        LineKind::Free(_) => "free_usage",
        LineKind::SlaCredit => "sla_credit",
    }
}

pub(super) fn adjustment_type(kind: AdjustmentKind) -> &'static str {
    match kind {
        AdjustmentKind::Coupon => "coupon",
        AdjustmentKind::SlaCredit => "sla_credit",
        AdjustmentKind::Correction => "correction",
    }
}

/// Detail CSV: one row per charge line (SLA credits among them, under their tenant), then per
/// tenant a "rounding" row (what rounding the tenant total down took off), then a "coupon" row
/// per coupon (its code in Detail), a "correction" row per correction of a fixed bill (its id in
/// Detail, its reason in Description) and the contract's "tax" row, so the Amount column adds up
/// to the bill's total.
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
    // bill-level adjustments (coupons, corrections), after the tenants, before the tax
    for a in &bill.adjustments {
        let mut f = base(adjustment_type(a.kind), None);
        f.extend(std::iter::repeat_n(String::new(), 4));
        f.push(a.source.clone());
        f.extend(std::iter::repeat_n(String::new(), 2));
        f.push(a.label.clone());
        f.extend(std::iter::repeat_n(String::new(), 3));
        f.extend(tail(money(bill, a.amount)));
        out += &row(&f);
    }
    let mut f = base("tax", None);
    f.extend(std::iter::repeat_n(String::new(), 7));
    f.push(format!("Tax {}%", bill.tax.percent.normalize()));
    f.extend(std::iter::repeat_n(String::new(), 3));
    f.extend(tail(money(bill, bill.tax.amount)));
    out += &row(&f);
    out
}
