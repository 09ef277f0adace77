//! A bill as the API shows it (`BillView`): its totals and its lines, tier by tier.

use ecl_proto::billing::{self as proto, BillLine, BillView};

use crate::{
    bill::{Bill, BillStatus},
    exports,
};

pub(crate) fn status_of(s: BillStatus) -> proto::BillStatus {
    match s {
        BillStatus::Estimated => proto::BillStatus::Estimated,
        BillStatus::Fixed => proto::BillStatus::Fixed,
    }
}

pub(crate) fn line_kind(tier: usize, label: &str) -> &'static str {
    match (tier, label) {
        (_, "無料利用分") => "FREE",
        (_, "上限額適用") => "CAP",
        (1, _) => "CONTRACT",
        (2, "消費税相当額") => "TAX",
        (2, _) => "TENANT",
        (3, _) => "SERVICE",
        (4, _) => "CATEGORY",
        (5, _) => "RESOURCE",
        (6, _) => "PLAN",
        _ => "USAGE",
    }
}

pub(crate) fn lines_of(bill: &Bill) -> Vec<BillLine> {
    exports::bill_items(bill)
        .into_iter()
        .map(|i| BillLine {
            tier: i.tier as u32,
            kind: line_kind(i.tier, &i.label).to_string(),
            label: i.label,
            detail: i.detail,
            usage: i.usage,
            amount: i.fee,
            tenant_id: i.tenant_id,
            resource_id: i.resource_id,
        })
        .collect()
}

pub(crate) fn bill_view(bill: &Bill) -> BillView {
    BillView {
        contract_id: bill.header.contract.contract_id.clone(),
        month: bill.header.month.to_string(),
        status: status_of(bill.header.status),
        currency: bill.header.currency.code().to_string(),
        subtotal: bill.subtotal.to_string(),
        tax_percent: bill.tax.percent.normalize().to_string(),
        tax: bill.tax.amount.to_string(),
        total: bill.total.to_string(),
        lines: lines_of(bill),
    }
}
