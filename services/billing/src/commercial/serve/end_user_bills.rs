//! A child's end-user bill (live for an open month, stored at close), its CSV exports with the
//! provenance columns, and the partner's margin per child.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    billing::{ExportFile, ExportFormat},
    commercial::{
        ChildBillView, EndUserBillView, EndUserLine, ExportEndUserBill, GetEndUserBills,
        GetMargins, MarginView,
    },
    contract::{ContractKind, ContractView},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::price_rules::proto_kind;
use super::{decode, encode};
use crate::bill::{Bill, BillStatus};
use crate::bill_view::status_of;
use crate::commercial::end_user_bill::{EndUserPrices, LineProvenance, margin, provenance};
use crate::commercial::price_rules::{PriceRule, in_force};
use crate::commercial::store::end_user_bill;
use crate::entity::{contract, tenant};
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
    ) -> AppResult<Self> {
        let live = in_force(rules, &child.id, m);
        let prices = EndUserPrices::new(menus, &live, &child.id);
        let own: HashMap<String, Vec<Resource>> = tenants
            .iter()
            .filter_map(|t| usage.get(&t.id).map(|u| (t.id.clone(), u.clone())))
            .collect();
        let end_user_charges = Billing::rate_usage(&prices.menus, &own, m, until)?;
        let wholesale = billing.build(child, tenants, wholesale, m, status, None)?;
        let end_user = billing.build(child, tenants, &end_user_charges, m, status, tax)?;
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
            kind: "CONTRACT".into(),
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
                kind: "TENANT".into(),
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
                                    LineKind::Usage => "USAGE",
                                    LineKind::Cap => "CAP",
                                    LineKind::Free(_) => "FREE",
                                    LineKind::SlaCredit => "SLA_CREDIT",
                                }
                                .into(),
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
        lines.push(EndUserLine {
            tier: 2,
            kind: "TAX".into(),
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
            wholesale_subtotal: self.wholesale.subtotal.to_string(),
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
                        rule.map(|r| format!("{:?}", proto_kind(r.kind)).to_uppercase())
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
        if m > self.current_month() {
            return Err(AppError::invalid("month", format!("{m} has not begun")));
        }
        let partner_id = c.parent_id.clone().ok_or_else(|| {
            AppError::invalid("contractId", "only a child contract has an end-user bill")
        })?;
        let closed = self.is_closed(m).await?;
        if closed
            && let Some(row) = end_user_bill::Entity::find_by_id(format!("{}|{m}", c.id))
                .one(&self.db)
                .await?
        {
            return decode(&row.body);
        }
        let row = Self::contract_row(c);
        let tenants: Vec<tenant::Model> = tenant::Entity::find()
            .filter(tenant::Column::ContractId.eq(c.id.clone()))
            .all(&self.db)
            .await?;
        let status = if closed {
            BillStatus::Fixed
        } else {
            BillStatus::Estimated
        };
        let (usage, menus) = if closed {
            // a closed month without a stored end-user bill had no usage
            (HashMap::new(), Vec::new())
        } else {
            (
                self.usage(ctx, &tenants, m).await?,
                self.price_list(m).await?,
            )
        };
        let until = self.clock.now();
        let wholesale = Self::rate_usage(&menus, &usage, m, until)?;
        let rules: Vec<PriceRule> = self
            .rules_of(&partner_id)
            .await?
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        let tax = self.tax_setting_of(&c.id).await?;
        EndUserBillRow::price(
            self,
            &partner_id,
            &row,
            &tenants,
            &usage,
            &menus,
            &wholesale,
            &rules,
            m,
            until,
            status,
            tax,
        )
    }

    /// May the caller see this child's end-user bill? Its partner's side always (the contract
    /// service said it manages the child); the child's own users when the partner shows it.
    async fn may_see_end_user_bill(&self, ctx: &CallCtx, c: &ContractView) -> AppResult<bool> {
        if c.kind != ContractKind::Child {
            return Ok(false);
        }
        let own = ctx.principal.contract_id() == Some(c.id.as_str());
        if !own {
            return Ok(c.managed || ctx.principal.is_operator());
        }
        Ok(self.child_bill_view(&c.id).await? == ChildBillView::EndUser)
    }

    pub(crate) async fn get_end_user_bills(
        &self,
        ctx: &CallCtx,
        req: GetEndUserBills,
    ) -> AppResult<Vec<EndUserBillView>> {
        let m = month("month", &req.month)?;
        let mut out = Vec::new();
        for c in self.visible(ctx, req.contract_ids).await? {
            if self.may_see_end_user_bill(ctx, &c).await? {
                out.push(self.end_user_bill(ctx, &c, m).await?.view());
            }
        }
        Ok(out)
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
        if !self.may_see_end_user_bill(ctx, &c).await? {
            return Err(AppError::not_found(format!(
                "end-user bill of {}",
                req.contract_id
            )));
        }
        let row = self.end_user_bill(ctx, &c, m).await?;
        let (suffix, body) = match req.format {
            ExportFormat::Summary => ("summary", csv_export::summary_csv(&row.end_user)),
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

    pub(crate) async fn margins(
        &self,
        ctx: &CallCtx,
        req: GetMargins,
    ) -> AppResult<Vec<MarginView>> {
        let m = month("month", &req.month)?;
        let p = self.contract_for(ctx, &req.partner_id).await?;
        if p.kind != ContractKind::Partner || !p.managed {
            return Err(AppError::forbidden(
                "margins are for the partner's managers",
            ));
        }
        let children: Vec<String> = contract::Entity::find()
            .filter(contract::Column::ParentId.eq(p.id.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut out = Vec::new();
        // the contract service narrows the children to the caller's contract groups
        for c in self.visible(ctx, children).await? {
            let row = self.end_user_bill(ctx, &c, m).await?;
            let mg = margin(&row.wholesale, &row.end_user);
            out.push(MarginView {
                child_id: c.id.clone(),
                month: m.to_string(),
                currency: row.end_user.header.currency.code().to_string(),
                wholesale: mg.wholesale.to_string(),
                end_user: mg.end_user.to_string(),
                margin: mg.margin.to_string(),
            });
        }
        Ok(out)
    }
}

/// The rows of the end-user bills of a month being closed.
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
