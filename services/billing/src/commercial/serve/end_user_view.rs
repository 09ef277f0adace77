//! An end-user bill as the API and the detail CSV show it: the bill tree flattened, each charge
//! line with the rule that priced it and its wholesale amount.

use ecl_proto::{
    billing::BillLineKind,
    commercial::{EndUserBillView, EndUserLine},
};

use super::end_user_bills::EndUserBillRow;
use super::price_rules::proto_kind;
use crate::bill_view::status_of;
use crate::exports as csv_export;
use crate::rating::LineKind;

impl EndUserBillRow {
    /// The bill tree flattened: contract, tenants, each charge line with its provenance, tax.
    pub(crate) fn view(&self) -> EndUserBillView {
        let b = &self.end_user;
        let mut lines = vec![EndUserLine {
            tier: 1,
            kind: BillLineKind::Contract,
            label: b.header.contract.contract_id.clone(),
            detail: String::new(),
            usage: String::new(),
            amount: b.total.to_string(),
            tenant_id: None,
            resource_id: None,
            rule_id: None,
            rule_kind: None,
            wholesale_amount: None,
        }];
        let mut p = self.provenance.iter();
        for t in &b.tenants {
            lines.push(EndUserLine {
                tier: 2,
                kind: BillLineKind::Tenant,
                label: t.tenant.name.clone(),
                detail: t.tenant.tenant_id.clone(),
                usage: String::new(),
                amount: t.total.to_string(),
                tenant_id: Some(t.tenant.tenant_id.clone()),
                resource_id: None,
                rule_id: None,
                rule_kind: None,
                wholesale_amount: None,
            });
            for s in &t.services {
                for c in &s.categories {
                    for r in &c.resources {
                        for l in r.all_lines() {
                            let prov = p.next();
                            lines.push(EndUserLine {
                                tier: 7,
                                kind: match l.kind {
                                    LineKind::Usage => BillLineKind::Usage,
                                    LineKind::Cap => BillLineKind::Cap,
                                    LineKind::Free(_) => BillLineKind::Free,
                                    LineKind::SlaCredit => BillLineKind::SlaCredit,
                                },
                                label: r.menu.name.clone(),
                                detail: [l.plan.clone(), l.status.clone()]
                                    .into_iter()
                                    .flatten()
                                    .chain(
                                        (!l.description.is_empty()).then(|| l.description.clone()),
                                    )
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                usage: if l.kind == LineKind::Usage {
                                    format!("{} {}", l.quantity.normalize(), l.unit.label())
                                        .trim()
                                        .to_string()
                                } else {
                                    String::new()
                                },
                                amount: l.amount.to_string(),
                                tenant_id: Some(t.tenant.tenant_id.clone()),
                                resource_id: r.resource_id.clone(),
                                rule_id: prov.and_then(|x| x.rule.as_ref()).map(|r| r.id.clone()),
                                rule_kind: prov
                                    .and_then(|x| x.rule.as_ref())
                                    .map(|r| proto_kind(r.kind)),
                                wholesale_amount: prov.map(|x| x.wholesale.to_string()),
                            });
                        }
                    }
                }
            }
        }
        lines.extend(b.adjustments.iter().map(|a| EndUserLine {
            tier: 2,
            kind: BillLineKind::Adjustment,
            label: a.label.clone(),
            detail: a.source.clone(),
            usage: String::new(),
            amount: a.amount.to_string(),
            tenant_id: None,
            resource_id: None,
            rule_id: None,
            rule_kind: None,
            wholesale_amount: None,
        }));
        lines.push(EndUserLine {
            tier: 2,
            kind: BillLineKind::Tax,
            label: format!("Tax {}%", b.tax.percent.normalize()),
            detail: String::new(),
            usage: String::new(),
            amount: b.tax.amount.to_string(),
            tenant_id: None,
            resource_id: None,
            rule_id: None,
            rule_kind: None,
            wholesale_amount: None,
        });
        EndUserBillView {
            contract_id: b.header.contract.contract_id.clone(),
            partner_id: self.partner_id.clone(),
            month: b.header.month,
            status: status_of(b.header.status),
            currency: b.header.currency.into(),
            wholesale_subtotal: Some(self.wholesale.subtotal.to_string()),
            subtotal: b.subtotal.to_string(),
            tax_percent: b.tax.percent.normalize().to_string(),
            tax: b.tax.amount.to_string(),
            total: b.total.to_string(),
            lines,
        }
    }

    /// The detail CSV of the end-user bill with three provenance columns: the rows of
    /// [`csv_export::detail_csv`] (one per charge line, in tree order, then a rounding row per
    /// tenant and the tax row), each charge row followed by its rule and wholesale amount.
    pub(crate) fn detail_csv(&self) -> String {
        let csv = csv_export::detail_csv(&self.end_user);
        let mut rows = csv.split_inclusive('\n');
        let mut out = String::with_capacity(csv.len() + csv.len() / 4);
        let mut push = |row: &str, extra: [String; 3]| {
            out.push_str(row.trim_end_matches('\n'));
            for e in extra {
                out.push(',');
                out.push_str(&e);
            }
            out.push('\n');
        };
        if let Some(header) = rows.next() {
            push(
                header,
                [
                    "Price Rule ID".into(),
                    "Price Rule Kind".into(),
                    "Wholesale Amount".into(),
                ],
            );
        }
        let mut p = self.provenance.iter();
        for t in &self.end_user.tenants {
            let n: usize = t
                .services
                .iter()
                .flat_map(|s| &s.categories)
                .flat_map(|c| &c.resources)
                .map(|r| r.all_lines().count())
                .sum();
            for _ in 0..n {
                let (Some(row), prov) = (rows.next(), p.next()) else {
                    break;
                };
                let rule = prov.and_then(|x| x.rule.as_ref());
                push(
                    row,
                    [
                        rule.map(|r| r.id.clone()).unwrap_or_default(),
                        rule.map(|r| proto_kind(r.kind).as_str().to_owned())
                            .unwrap_or_default(),
                        prov.map(|x| x.wholesale.to_string()).unwrap_or_default(),
                    ],
                );
            }
            if !(t.total - t.exact_amount).is_zero()
                && let Some(row) = rows.next()
            {
                push(row, Default::default());
            }
        }
        for row in rows {
            push(row, Default::default());
        }
        out
    }
}
