//! The bill tree in pre-order, one typed node per row: what the GraphQL bill shows and what the
//! legacy CSV prints as its billing items (seed 002's tiers).
//!
//! Each node's kind comes from where it stands in the tree ([`BillLineKind`]), never from its
//! label; each label carries both languages, the Japanese one being the legacy CSV's exactly.
//!
//! Tiers: 1 the contract total (with tax), 2 each tenant, then the bill-level adjustments
//! (coupons, then a fixed bill's corrections) and the tax; 3 service, 4 category, 5 resource (or a tenant-wide charge of a menu),
//! 6 plan (or a resource's line without a plan), 7 a plan's usage line. A resource or plan whose
//! only line is a plain usage line shows that line's usage itself and has no child row. Amounts
//! of the contract, tenant, service, adjustment and tax rows are in the currency's unit (rounded
//! down); category and lower rows keep 6 decimal places.

use ecl_proto::billing::BillLineKind;
use rust_decimal::Decimal;

use super::{Bill, PlanNode, ResourceNode, TaxRule};
use crate::commercial::adjustments::AdjustmentKind;
use crate::rating::{ChargeLine, FreeReason, LineKind, Unit, amount6};

/// A label in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The legacy CSV's label.
    pub ja: String,
    pub en: String,
}

impl Label {
    fn both(ja: &str, en: &str) -> Self {
        Label {
            ja: ja.to_owned(),
            en: en.to_owned(),
        }
    }

    /// A name from the price list or the usage (a service, a menu, a status): one spelling.
    fn name(s: &str) -> Self {
        Label::both(s, s)
    }
}

/// The tier-2 label of the tax row.
pub const TAX_LABEL_JA: &str = "消費税相当額";
/// The label of a coupon row.
pub const COUPON_LABEL_JA: &str = "クーポン値引";
/// The label of a fixed bill's correction row.
pub const CORRECTION_LABEL_JA: &str = "請求訂正";

/// One node of the bill tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillNode {
    pub tier: usize,
    pub kind: BillLineKind,
    pub label: Label,
    pub detail: String,
    /// Displayed usage ("3739 Min"), empty when none.
    pub usage: String,
    pub amount: Decimal,
    pub tenant_id: Option<String>,
    pub resource_id: Option<String>,
}

/// Displayed usage: time rounded up to whole units ("3739 Min"), as seed 003 2.1 says the
/// display does; the charge itself used the exact value.
pub fn usage_display(l: &ChargeLine) -> String {
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

/// Kind, label and detail of a charge line's row.
fn line_row(l: &ChargeLine) -> (BillLineKind, Label, String) {
    match l.kind {
        LineKind::Free(reason) => (
            BillLineKind::Free,
            Label::both("無料利用分", "Free usage"),
            free_text(reason).to_owned(),
        ),
        LineKind::Cap => (
            BillLineKind::Cap,
            Label::both("上限額適用", "Cap applied"),
            l.description.clone(),
        ),
        LineKind::SlaCredit => (
            BillLineKind::SlaCredit,
            Label::both(crate::credits::CREDIT_LABEL, "SLA credit"),
            l.description.clone(),
        ),
        LineKind::Usage => {
            let label = match &l.status {
                Some(s) => s.clone(),
                None if !l.description.is_empty() => l.description.clone(),
                None => l.unit.label().to_owned(),
            };
            (BillLineKind::Usage, Label::name(&label), String::new())
        }
    }
}

/// A line that stands for its parent row: the parent shows its usage and gets no child row.
fn merges_into_parent(lines: &[ChargeLine]) -> Option<&ChargeLine> {
    match lines {
        [l] if l.kind == LineKind::Usage && l.status.is_none() => Some(l),
        _ => None,
    }
}

struct Walk<'a> {
    bill: &'a Bill,
    out: Vec<BillNode>,
    tenant: Option<String>,
    resource: Option<String>,
}

impl Walk<'_> {
    fn push(
        &mut self,
        tier: usize,
        kind: BillLineKind,
        label: Label,
        detail: String,
        usage: String,
        amount: Decimal,
    ) {
        self.out.push(BillNode {
            tier,
            kind,
            label,
            detail,
            usage,
            amount,
            tenant_id: self.tenant.clone(),
            resource_id: self.resource.clone(),
        });
    }

    fn money(&self, amount: Decimal) -> Decimal {
        self.bill.header.currency.round_down(amount)
    }

    fn line(&mut self, tier: usize, l: &ChargeLine) {
        let (kind, label, detail) = line_row(l);
        self.push(
            tier,
            kind,
            label,
            detail,
            usage_display(l),
            amount6(l.amount),
        );
    }

    fn resource(&mut self, tier: usize, r: &ResourceNode) {
        self.resource = r.resource_id.clone();
        let Some(id) = &r.resource_id else {
            // tenant-wide lines: one row each, at the resource tier (a plain charge is the
            // resource tier's own row; a free allowance, a cap or a credit keeps its kind)
            for l in &r.lines {
                let (kind, label, detail) = line_row(l);
                let kind = match kind {
                    BillLineKind::Usage => BillLineKind::Resource,
                    k => k,
                };
                self.push(
                    tier,
                    kind,
                    label,
                    detail,
                    usage_display(l),
                    amount6(l.amount),
                );
            }
            return;
        };
        let detail = match &r.resource_name {
            Some(name) => format!("Id:{id}, Name:{name}"),
            None => format!("Id:{id}"),
        };
        let name = Label::name(&r.menu.name);
        let amount = amount6(r.amount);
        if r.plans.is_empty()
            && let Some(l) = merges_into_parent(&r.lines)
        {
            let usage = usage_display(l);
            self.push(tier, BillLineKind::Resource, name, detail, usage, amount);
            return;
        }
        let qty = r.quantity.unwrap_or(Decimal::ONE).normalize().to_string();
        self.push(tier, BillLineKind::Resource, name, detail, qty, amount);
        for p in &r.plans {
            self.plan(tier + 1, p);
        }
        for l in &r.lines {
            self.line(tier + 1, l);
        }
    }

    fn plan(&mut self, tier: usize, p: &PlanNode) {
        let amount = amount6(p.amount);
        let label = Label::name(&p.label);
        if let Some(l) = merges_into_parent(&p.lines) {
            let usage = usage_display(l);
            self.push(
                tier,
                BillLineKind::Plan,
                label,
                String::new(),
                usage,
                amount,
            );
            return;
        }
        self.push(
            tier,
            BillLineKind::Plan,
            label,
            String::new(),
            String::new(),
            amount,
        );
        for l in &p.lines {
            self.line(tier + 1, l);
        }
    }
}

fn adjustment_label(kind: AdjustmentKind) -> Label {
    match kind {
        AdjustmentKind::Coupon => Label::both(COUPON_LABEL_JA, "Coupon"),
        AdjustmentKind::SlaCredit => Label::both(crate::credits::CREDIT_LABEL, "SLA credit"),
        AdjustmentKind::Correction => Label::both(CORRECTION_LABEL_JA, "Correction"),
    }
}

/// The detail of an adjustment row: a coupon's code; a correction's id and reason.
fn adjustment_detail(a: &crate::commercial::adjustments::Applied) -> String {
    match a.kind {
        AdjustmentKind::Correction => format!("Id:{}, Reason:{}", a.source, a.label),
        AdjustmentKind::Coupon | AdjustmentKind::SlaCredit => a.source.clone(),
    }
}

/// The bill's nodes in pre-order. `customer` is the billing customer number the contract row
/// names (the legacy file's `CustomerNumber:…`).
pub fn nodes(bill: &Bill, customer: &str) -> Vec<BillNode> {
    let h = &bill.header;
    let mut w = Walk {
        bill,
        out: Vec::new(),
        tenant: None,
        resource: None,
    };
    w.push(
        1,
        BillLineKind::Contract,
        Label::both("合計", "Total"),
        format!("CustomerNumber:{customer} [{}]", h.contract.contract_id),
        String::new(),
        w.money(bill.total),
    );
    for t in &bill.tenants {
        w.tenant = Some(t.tenant.tenant_id.clone());
        w.resource = None;
        w.push(
            2,
            BillLineKind::Tenant,
            Label::both("テナント", "Tenant"),
            format!(
                "Id:{}, Name:{}, RegionId:{}",
                t.tenant.tenant_id, t.tenant.name, t.tenant.region
            ),
            String::new(),
            w.money(t.total),
        );
        for s in &t.services {
            w.resource = None;
            let amount = w.money(s.amount);
            w.push(
                3,
                BillLineKind::Service,
                Label::name(&s.name),
                String::new(),
                String::new(),
                amount,
            );
            for c in &s.categories {
                w.resource = None;
                w.push(
                    4,
                    BillLineKind::Category,
                    Label::name(&c.name),
                    String::new(),
                    String::new(),
                    amount6(c.amount),
                );
                for r in &c.resources {
                    w.resource(5, r);
                }
            }
        }
    }
    w.tenant = None;
    w.resource = None;
    for a in &bill.adjustments {
        let amount = w.money(a.amount);
        w.push(
            2,
            BillLineKind::Adjustment,
            adjustment_label(a.kind),
            adjustment_detail(a),
            String::new(),
            amount,
        );
    }
    let class = match bill.tax.rule {
        TaxRule::Exempt => "非課税",
        TaxRule::JapaneseConsumption | TaxRule::Percent(_) => "合算",
    };
    let percent = bill.tax.percent.normalize();
    let amount = w.money(bill.tax.amount);
    w.push(
        2,
        BillLineKind::Tax,
        Label::both(TAX_LABEL_JA, "Tax"),
        format!("税区分:{class} 消費税率:{percent}%"),
        String::new(),
        amount,
    );
    w.out
}
