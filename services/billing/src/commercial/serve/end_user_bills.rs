//! A child's end-user bill (live for an open month, stored at close), its CSV exports with the
//! provenance columns, and the partner's margin per child.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    billing::{BillLineKind, ExportFile, ExportFormat},
    commercial::{
        EndUserBillView, EndUserLine, ExportEndUserBill, GetEndUserBills, GetMargins, MarginView,
    },
    contract::{ContractKind, ContractView},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::price_rules::proto_kind;
use super::{Shown, decode, encode};
use crate::bill::{Bill, BillStatus};
use crate::bill_view::status_of;
use crate::commercial::adjustments::{Pending, adjust};
use crate::commercial::coupons::Coupon;
use crate::commercial::end_user_bill::{EndUserPrices, LineProvenance, margin, provenance};
use crate::commercial::price_rules::{PriceRule, in_force};
use crate::commercial::store::end_user_bill;
use crate::entity::{contract, tenant};
use crate::estimate::USAGE_BATCH_READ;
use crate::exports as csv_export;
use crate::rating::{LineKind, Menu, Month, Resource};
use crate::{Billing, month};

/// What is stored of an end-user bill at close: both bills and the provenance, so a fixed month
/// reads back exactly and its CSV can be produced again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EndUserBillRow {
    pub partner_id: String,
    pub wholesale: Bill,
    pub end_user: Bill,
    pub provenance: Vec<LineProvenance>,
}

impl EndUserBillRow {
    /// Re-prices one child's usage: the wholesale bill and the end-user bill from the same usage.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn price(
        billing: &Billing,
        partner_id: &str,
        child: &contract::Model,
        tenants: &[tenant::Model],
        usage: &HashMap<String, Vec<Resource>>,
        menus: &[Menu],
        wholesale: &HashMap<String, crate::rating::TenantCharges>,
        rules: &[PriceRule],
        m: Month,
        until: chrono::DateTime<chrono::Utc>,
        status: BillStatus,
        tax: Option<crate::commercial::tax::TaxSetting>,
        pending: &Pending,
    ) -> AppResult<Self> {
        let live = in_force(rules, &child.id, m);
        let prices = EndUserPrices::new(menus, &live, &child.id);
        let own: HashMap<String, Vec<Resource>> = tenants
            .iter()
            .filter_map(|t| usage.get(&t.id).map(|u| (t.id.clone(), u.clone())))
            .collect();
        let end_user_charges = Billing::rate_usage(&prices.menus, &own, m, until)?;
        // the child's coupons come off its end-user bill, after the end-user prices and before
        // tax; its SLA credits off both bills, under the credited tenants (the partner passes the
        // provider's credit on), in the order of `commercial::adjustments`
        let credits_only = Pending {
            coupons: Vec::new(),
            credits: pending.credits.clone(),
        };
        let wholesale = adjust(
            billing.build(child, tenants, wholesale, m, status, None)?,
            &credits_only,
        );
        let end_user = adjust(
            billing.build(child, tenants, &end_user_charges, m, status, tax)?,
            pending,
        );
        let provenance = provenance(&end_user, &wholesale, &prices);
        Ok(EndUserBillRow {
            partner_id: partner_id.to_string(),
            wholesale,
            end_user,
            provenance,
        })
    }

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
            month: b.header.month.to_string(),
            status: status_of(b.header.status),
            currency: b.header.currency.code().to_string(),
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

impl Billing {
    /// A child's end-user bill of a month: stored at close, otherwise priced now.
    pub(crate) async fn end_user_bill(
        &self,
        ctx: &CallCtx,
        c: &ContractView,
        m: Month,
    ) -> AppResult<EndUserBillRow> {
        let mut rows = self.end_user_bills_for(ctx, &[c], m).await?;
        Ok(rows.remove(0))
    }

    /// The end-user bills of a batch of children for a month, in order: the stored ones of a
    /// closed month, the others priced now, with one read per table (stored bills, tenants,
    /// rules, tax settings, coupon registrations) and one usage request for every tenant of the
    /// batch, so a page of children costs what one child does.
    pub(crate) async fn end_user_bills_for(
        &self,
        ctx: &CallCtx,
        children: &[&ContractView],
        m: Month,
    ) -> AppResult<Vec<EndUserBillRow>> {
        if m > self.current_month() {
            return Err(AppError::invalid("month", format!("{m} has not begun")));
        }
        let mut partners: Vec<&str> = Vec::with_capacity(children.len());
        for c in children {
            partners.push(c.parent_id.as_deref().ok_or_else(|| {
                AppError::invalid("contractId", "only a child contract has an end-user bill")
            })?);
        }
        let closed = self.is_closed(m).await?;
        let mut stored: HashMap<String, EndUserBillRow> = HashMap::new();
        if closed && !children.is_empty() {
            for row in end_user_bill::Entity::find()
                .filter(
                    end_user_bill::Column::Id
                        .is_in(children.iter().map(|c| format!("{}|{m}", c.id))),
                )
                .all(&self.db)
                .await?
            {
                stored.insert(row.owner_id.clone(), decode(&row.body)?);
            }
        }
        let priced: Vec<&ContractView> = children
            .iter()
            .filter(|c| !stored.contains_key(&c.id))
            .copied()
            .collect();
        let ids: Vec<&str> = priced.iter().map(|c| c.id.as_str()).collect();
        let tenants: Vec<tenant::Model> = if ids.is_empty() {
            Vec::new()
        } else {
            tenant::Entity::find()
                .filter(tenant::Column::ContractId.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?
        };
        let status = if closed {
            BillStatus::Fixed
        } else {
            BillStatus::Estimated
        };
        let (usage, menus) = if closed || tenants.is_empty() {
            // a closed month without a stored end-user bill had no usage
            (HashMap::new(), Vec::new())
        } else {
            // one usage request for the batch, as the wholesale bills' reads
            (
                self.usage_batched(ctx, &tenants, m, USAGE_BATCH_READ)
                    .await?,
                self.price_list(m).await?,
            )
        };
        let until = self.clock.now();
        let wholesale = Self::rate_usage(&menus, &usage, m, until)?;
        let rules = self.rules_for(&partners).await?;
        let taxes = self.tax_settings_of(&ids).await?;
        let registrations = self.registrations_for(&ids).await?;
        let pairs: Vec<(&str, Month)> = ids.iter().map(|id| (*id, m)).collect();
        let mut credits = self.credits_for(&pairs).await?;
        let mut out = Vec::with_capacity(children.len());
        for (c, partner_id) in children.iter().zip(&partners) {
            if let Some(row) = stored.remove(&c.id) {
                out.push(row);
                continue;
            }
            let own: Vec<tenant::Model> = tenants
                .iter()
                .filter(|t| t.contract_id == c.id)
                .cloned()
                .collect();
            let coupons: Vec<Coupon> = registrations
                .get(&c.id)
                .into_iter()
                .flatten()
                .filter(|r| r.registration.applies(m))
                .map(|r| r.coupon.clone())
                .collect();
            out.push(EndUserBillRow::price(
                self,
                partner_id,
                &Self::contract_row(c),
                &own,
                &usage,
                &menus,
                &wholesale,
                rules.get(*partner_id).map(Vec::as_slice).unwrap_or(&[]),
                m,
                until,
                status,
                taxes.get(&c.id).copied(),
                &Pending {
                    coupons,
                    credits: credits.remove(&(c.id.clone(), m)).unwrap_or_default(),
                },
            )?);
        }
        Ok(out)
    }

    /// The children of `contracts` whose end-user bill the caller may see: the partner's side
    /// always (the contract service said it manages the child), the operator, and the child's own
    /// users when their partner shows them the end-user bill. One read for the batch.
    async fn end_user_bill_visible<'a>(
        &self,
        ctx: &CallCtx,
        contracts: &'a [ContractView],
    ) -> AppResult<Vec<&'a ContractView>> {
        let shown = self.shown_for(ctx, contracts).await?;
        Ok(contracts
            .iter()
            .filter(|c| c.kind == ContractKind::Child)
            .filter(|c| {
                if own_users(ctx, c) {
                    shown.get(&c.id) == Some(&Shown::EndUser)
                } else {
                    c.managed || ctx.principal.is_operator()
                }
            })
            .collect())
    }

    pub(crate) async fn get_end_user_bills(
        &self,
        ctx: &CallCtx,
        req: GetEndUserBills,
    ) -> AppResult<Vec<EndUserBillView>> {
        let m = month("month", &req.month)?;
        let visible = self.visible(ctx, req.contract_ids).await?;
        let seen = self.end_user_bill_visible(ctx, &visible).await?;
        let rows = self.end_user_bills_for(ctx, &seen, m).await?;
        Ok(seen
            .iter()
            .zip(&rows)
            .map(|(c, row)| {
                let view = row.view();
                if own_users(ctx, c) {
                    without_wholesale(view)
                } else {
                    view
                }
            })
            .collect())
    }

    pub(crate) async fn export_end_user_bill(
        &self,
        ctx: &CallCtx,
        req: ExportEndUserBill,
    ) -> AppResult<ExportFile> {
        let m = month("month", &req.month)?;
        let c = self
            .visible(ctx, vec![req.contract_id.clone()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found(format!("contract {}", req.contract_id)))?;
        if self
            .end_user_bill_visible(ctx, std::slice::from_ref(&c))
            .await?
            .is_empty()
        {
            return Err(AppError::not_found(format!(
                "end-user bill of {}",
                req.contract_id
            )));
        }
        let row = self.end_user_bill(ctx, &c, m).await?;
        let (suffix, body) = match req.format {
            ExportFormat::Summary => ("summary", csv_export::summary_csv(&row.end_user)),
            // the child's own users get no wholesale amount: the plain detail file
            ExportFormat::Detail if own_users(ctx, &c) => {
                ("detail", csv_export::detail_csv(&row.end_user))
            }
            ExportFormat::Detail => ("detail", row.detail_csv()),
            ExportFormat::Legacy => (
                "legacy",
                csv_export::legacy_csv(
                    &row.end_user,
                    &csv_export::LegacyOptions {
                        created_at: self.clock.now(),
                        billing_customer_number: Some(format!("{}00001", c.id)),
                    },
                ),
            ),
        };
        Ok(ExportFile {
            filename: format!("{}_{m}_end_user_{suffix}.csv", c.id),
            content_type: "text/csv; charset=utf-8".into(),
            body,
        })
    }

    /// What each partner of a batch earns per child in a month. A contract that is not a
    /// partner the caller manages has no margins (an empty list). One contract request for the
    /// partners, one read of their children, one for the children's visibility, and the
    /// children's end-user bills in one batch.
    pub(crate) async fn margins(
        &self,
        ctx: &CallCtx,
        req: GetMargins,
    ) -> AppResult<Vec<(String, Vec<MarginView>)>> {
        let m = month("month", &req.month)?;
        let partners: Vec<ContractView> = self
            .visible(ctx, req.partner_ids)
            .await?
            .into_iter()
            .filter(|p| p.kind == ContractKind::Partner && p.managed)
            .collect();
        if partners.is_empty() {
            return Ok(Vec::new());
        }
        let children: Vec<String> = contract::Entity::find()
            .filter(contract::Column::ParentId.is_in(partners.iter().map(|p| p.id.clone())))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        // the contract service narrows the children to the caller's contract groups
        let children = self.visible(ctx, children).await?;
        let refs: Vec<&ContractView> = children.iter().collect();
        let rows = self.end_user_bills_for(ctx, &refs, m).await?;
        let mut by_partner: HashMap<String, Vec<MarginView>> = HashMap::new();
        for (c, row) in children.iter().zip(&rows) {
            let mg = margin(&row.wholesale, &row.end_user);
            by_partner
                .entry(row.partner_id.clone())
                .or_default()
                .push(MarginView {
                    partner_id: row.partner_id.clone(),
                    child_id: c.id.clone(),
                    month: m.to_string(),
                    currency: row.end_user.header.currency.code().to_string(),
                    wholesale: mg.wholesale.to_string(),
                    end_user: mg.end_user.to_string(),
                    margin: mg.margin.to_string(),
                });
        }
        Ok(partners
            .into_iter()
            .map(|p| {
                let list = by_partner.remove(&p.id).unwrap_or_default();
                (p.id, list)
            })
            .collect())
    }
}

/// Whether the caller is one of the child's own users (not its partner's, not the operator).
fn own_users(ctx: &CallCtx, c: &ContractView) -> bool {
    !ctx.principal.is_operator() && ctx.principal.contract_id() == Some(c.id.as_str())
}

/// An end-user bill as the child's own users see it: no wholesale amount, no rule of the
/// partner's (what the partner pays and how it prices are the partner's business).
fn without_wholesale(mut view: EndUserBillView) -> EndUserBillView {
    view.wholesale_subtotal = None;
    for l in &mut view.lines {
        l.rule_id = None;
        l.rule_kind = None;
        l.wholesale_amount = None;
    }
    view
}

/// Stores the end-user bills of a month being closed (in the close's transaction).
pub(crate) fn end_user_rows(
    rows: &[(String, EndUserBillRow)],
    m: Month,
    now_us: i64,
) -> AppResult<Vec<end_user_bill::ActiveModel>> {
    use sea_orm::Set;
    rows.iter()
        .map(|(child, row)| {
            Ok(end_user_bill::ActiveModel {
                id: Set(format!("{child}|{m}")),
                owner_id: Set(child.clone()),
                month: Set(m.to_string()),
                body: Set(encode(row)?),
                created_at: Set(now_us),
            })
        })
        .collect()
}
