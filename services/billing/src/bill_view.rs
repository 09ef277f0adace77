//! A bill as the API shows it (`BillView`): its totals and its lines, tier by tier, rendered
//! from the bill tree as the CSV files are.

use ecl_proto::billing::{self as proto, BillLine, BillView};

use crate::bill::{Bill, BillStatus, lines::nodes};

pub(crate) fn status_of(s: BillStatus) -> proto::BillStatus {
    match s {
        BillStatus::Estimated => proto::BillStatus::Estimated,
        BillStatus::Fixed => proto::BillStatus::Fixed,
    }
}

/// The bill tree's nodes ([`crate::bill::lines`]) as the API's lines: the kind is the node's
/// own, the label the legacy one (Japanese where it has one) with its English beside it.
pub(crate) fn lines_of(bill: &Bill) -> Vec<BillLine> {
    let customer = &bill.header.contract.customer_number;
    nodes(bill, customer)
        .into_iter()
        .map(|n| BillLine {
            tier: n.tier as u32,
            kind: n.kind,
            label: n.label.ja,
            label_en: n.label.en,
            detail: n.detail,
            usage: n.usage,
            amount: n.amount.to_string(),
            tenant_id: n.tenant_id,
            resource_id: n.resource_id,
        })
        .collect()
}

pub(crate) fn bill_view(bill: &Bill) -> BillView {
    BillView {
        contract_id: bill.header.contract.contract_id.clone(),
        month: bill.header.month,
        status: status_of(bill.header.status),
        currency: bill.header.currency.into(),
        subtotal: bill.subtotal.to_string(),
        tax_percent: bill.tax.percent.normalize().to_string(),
        tax: bill.tax.amount.to_string(),
        total: bill.total.to_string(),
        lines: lines_of(bill),
    }
}
