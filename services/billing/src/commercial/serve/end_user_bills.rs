//! A child's end-user bill (live for an open month, stored at close) and its CSV exports; how it
//! reads is [`super::end_user_view`], what the partner earns on it [`super::margins`].

use std::collections::HashMap;
use std::time::Instant;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    billing::{ExportFile, ExportFormat},
    commercial::{EndUserBillView, ExportEndUserBill, GetEndUserBills},
    contract::{ContractKind, ContractView},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{Shown, decode, encode};
use crate::Billing;
use crate::bill::{Bill, BillStatus};
use crate::commercial::adjustments::{Pending, adjust};
use crate::commercial::coupons::Coupon;
use crate::commercial::end_user_bill::{EndUserPrices, LineProvenance, provenance};
use crate::commercial::price_rules::in_force;
use crate::commercial::store::end_user_bill;
use crate::entity::{contract, tenant};
use crate::estimate::USAGE_BATCH_READ;
use crate::exports as csv_export;
use crate::rating::{Month, TenantCharges};

/// What is stored of an end-user bill at close: the bill, each line's provenance and what the
/// child costs the partner, so a fixed month reads back exactly and its CSV can be produced again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EndUserBillRow {
    pub partner_id: String,
    pub wholesale: Wholesale,
    pub end_user: Bill,
    pub provenance: Vec<LineProvenance>,
}

/// What an end-user bill keeps of the wholesale bill beside it (the wholesale amount of each
/// line is in the provenance). Rows stored before kept the whole wholesale bill: its subtotal is
/// read from them, the rest ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Wholesale {
    /// The child's wholesale subtotal, its SLA credits applied.
    pub subtotal: rust_decimal::Decimal,
}

/// Where pricing an end-user bill spent its time: re-pricing proper (rating the usage at the
/// end-user prices, counted by the caller, and tracing each line to its rule and wholesale
/// amount), and building the two bill trees and adjusting them, which the wholesale bill's close
/// counts as building bills.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Spent {
    pub repricing: std::time::Duration,
    pub building: std::time::Duration,
}

impl EndUserBillRow {
    /// One child's end-user bill from its tenants' charges at wholesale and at its end-user
    /// prices ([`Billing::rate_usage_priced`]): both bills built and adjusted, each end-user line
    /// traced to its rule and wholesale amount.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn price(
        billing: &Billing,
        partner_id: &str,
        child: &contract::Model,
        tenants: &[tenant::Model],
        prices: &EndUserPrices,
        wholesale: &mut HashMap<String, TenantCharges>,
        end_user_charges: &mut HashMap<String, TenantCharges>,
        m: Month,
        status: BillStatus,
        tax: Option<crate::commercial::tax::TaxSetting>,
        pending: &Pending,
        spent: &mut Spent,
    ) -> AppResult<Self> {
        let t0 = Instant::now();
        // the child's coupons come off its end-user bill, after the end-user prices and before
        // tax; its SLA credits off both bills, under the credited tenants (the partner passes the
        // provider's credit on), in the order of `commercial::adjustments`
        let credits_only = Pending {
            coupons: Vec::new(),
            credits: pending.credits.clone(),
        };
        let wholesale = adjust(
            billing.build_owned(child, tenants, wholesale, m, status, None)?,
            &credits_only,
        );
        let end_user = adjust(
            billing.build_owned(child, tenants, end_user_charges, m, status, tax)?,
            pending,
        );
        let t1 = Instant::now();
        let provenance = provenance(&end_user, &wholesale, prices);
        spent.building += t1 - t0;
        spent.repricing += t1.elapsed();
        Ok(EndUserBillRow {
            partner_id: partner_id.to_string(),
            wholesale: Wholesale {
                subtotal: wholesale.subtotal,
            },
            end_user,
            provenance,
        })
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
            let rules = rules.get(*partner_id).map(Vec::as_slice).unwrap_or(&[]);
            let prices = EndUserPrices::new(&menus, &in_force(rules, &c.id, m), &c.id);
            let mut rated = Self::rate_usage_priced(
                &menus,
                Some(&prices.menus),
                own.iter().filter_map(|t| usage.get_key_value(&t.id)),
                m,
                until,
            )?;
            out.push(EndUserBillRow::price(
                self,
                partner_id,
                &Self::contract_row(c),
                &own,
                &prices,
                &mut rated.wholesale,
                &mut rated.end_user,
                m,
                status,
                taxes.get(&c.id).copied(),
                &Pending {
                    coupons,
                    credits: credits.remove(&(c.id.clone(), m)).unwrap_or_default(),
                },
                &mut Spent::default(),
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
        let m = req.month;
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
        let m = req.month;
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
