//! Deciding a claim (operator): once — a decided claim is a `CONFLICT`. A rejection needs a
//! reason. An approval computes the amount from what the platform recorded (never typed in):
//! for uptime, the month's credits of the claimed menu over the contract's tenants; for a
//! server, the month's part-replacement rates added up (capped at 100 %) times its charges.
//! The claim, its credit and the `CreditApproved` event for billing are one transaction; the
//! credit lands on the bill two months after the approval.

use crate::{
    Sla, access,
    claims::credit_month,
    credit_rate::credit_amount,
    entity::{claim, credit, part_replacement},
    part_replacement::month_percent,
    views,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal, validate};
use ecl_proto::{
    billing::Currency,
    sla::{BreachKind, ClaimStatus, ClaimView, CreditApproved, MenuCharges},
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};

impl Sla {
    pub(crate) async fn decide_claim(
        &self,
        ctx: &CallCtx,
        id: &str,
        approve: bool,
        reason: Option<String>,
    ) -> AppResult<ClaimView> {
        access::operator(ctx, "decide claims")?;
        let found = claim::Entity::find_by_id(id.trim())
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found(format!("claim {id}")))?;
        if found.status != ClaimStatus::Pending {
            return Err(AppError::conflict(format!(
                "claim {id} is decided already ({})",
                found.status
            )));
        }
        let reason = match reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => Some(validate::text("reason", r, 5_000)?),
            _ if !approve => {
                return Err(AppError::invalid("reason", "a rejection needs a reason"));
            }
            _ => None,
        };
        let now = self.clock.now();
        let mut decided = claim::Model {
            status: if approve {
                ClaimStatus::Approved
            } else {
                ClaimStatus::Rejected
            },
            reason,
            decided_by: Some(ctx.principal.label()),
            decided_at: Some(now.timestamp_micros()),
            ..found.clone()
        };
        let mut credit_row = None;
        if approve {
            let (parts, currency) = self.amount(ctx, &found).await?;
            let amount: Decimal = parts.iter().map(|(_, a)| *a).sum();
            if amount <= Decimal::ZERO {
                return Err(AppError::invalid(
                    "approve",
                    "the platform computes no credit for this breach: reject it with a reason",
                ));
            }
            // A credit comes from charges, and charges from a menu of the price list.
            let currency = currency.ok_or_else(|| {
                AppError::internal(format!(
                    "no currency for the charges of {}",
                    found.menu_code
                ))
            })?;
            let seen = self.visible(ctx, vec![found.contract_id.clone()]).await?;
            let bill_month = credit_month(now);
            decided.amount = Some(amount.to_string());
            decided.currency = Some(currency);
            decided.bill_month = Some(bill_month);
            credit_row = Some(credit::Model {
                id: ecl_kernel::ids::new_id("crd"),
                claim_id: found.id.clone(),
                contract_id: found.contract_id.clone(),
                parent_id: seen
                    .get(&found.contract_id)
                    .and_then(|c| c.parent_id.clone()),
                amount: amount.to_string(),
                tenant_amounts: serde_json::to_string(
                    &parts
                        .iter()
                        .map(|(t, a)| (t.clone(), a.to_string()))
                        .collect::<Vec<_>>(),
                )
                .map_err(AppError::internal)?,
                currency,
                failure_month: found.month,
                bill_month,
                label: format!("SLA credit {} {}", found.month, found.menu_code),
                approved_at: now.timestamp_micros(),
            });
        }
        let txn = self.db.begin().await?;
        let done = claim::Entity::update_many()
            .col_expr(claim::Column::Status, Expr::value(decided.status))
            .col_expr(claim::Column::Reason, Expr::value(decided.reason.clone()))
            .col_expr(claim::Column::Amount, Expr::value(decided.amount.clone()))
            .col_expr(claim::Column::Currency, Expr::value(decided.currency))
            .col_expr(claim::Column::BillMonth, Expr::value(decided.bill_month))
            .col_expr(
                claim::Column::DecidedBy,
                Expr::value(decided.decided_by.clone()),
            )
            .col_expr(claim::Column::DecidedAt, Expr::value(decided.decided_at))
            .filter(claim::Column::Id.eq(&found.id))
            .filter(claim::Column::Status.eq(ClaimStatus::Pending))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(AppError::conflict(format!("claim {id} is decided already")));
        }
        match credit_row {
            Some(c) => {
                credit::Entity::insert(credit::ActiveModel::from(c.clone()))
                    .exec_without_returning(&txn)
                    .await?;
                let ev = CreditApproved {
                    credit: views::credit(&c),
                };
                self.outbox.commit_with(txn, &ctx.trace_id, &ev).await?;
            }
            None => txn.commit().await?,
        }
        views::claim(&decided)
    }

    /// What a claim is worth now, by tenant, and in which currency.
    async fn amount(
        &self,
        ctx: &CallCtx,
        c: &claim::Model,
    ) -> AppResult<(Vec<(String, Decimal)>, Option<Currency>)> {
        let month = c.month;
        match c.breach_kind {
            BreachKind::Incident => {
                let rows = self
                    .availability(ctx, std::slice::from_ref(&c.contract_id), month)
                    .await?
                    .remove(&c.contract_id)
                    .unwrap_or_default();
                let mut parts = Vec::new();
                let mut currency = None;
                for r in rows.into_iter().filter(|r| r.menu_code == c.menu_code) {
                    let credit = r.credit.parse::<Decimal>().unwrap_or(Decimal::ZERO);
                    if credit > Decimal::ZERO {
                        parts.push((r.tenant_id, credit));
                    }
                    currency = r.currency;
                }
                Ok((parts, currency))
            }
            BreachKind::PartReplacement => {
                let server = c.breach_key.rsplit('|').next().unwrap_or_default();
                let (lo, hi) = month.range();
                let parts = part_replacement::Entity::find()
                    .filter(part_replacement::Column::ContractId.eq(&c.contract_id))
                    .filter(part_replacement::Column::ResourceId.eq(server))
                    .filter(part_replacement::Column::DetectedAt.gte(lo.timestamp_micros()))
                    .filter(part_replacement::Column::DetectedAt.lt(hi.timestamp_micros()))
                    .all(&self.db)
                    .await?;
                let now = self.clock.now();
                let mut rates = Vec::new();
                for p in &parts {
                    rates.push(views::part(p, now)?.rate_percent);
                }
                let Some(first) = parts.first() else {
                    return Ok((Vec::new(), None));
                };
                let system = ctx.as_principal(Principal::system(crate::NAME));
                let charge = self
                    .bus
                    .call(
                        &system,
                        &MenuCharges {
                            month,
                            pairs: vec![(first.tenant_id.clone(), first.menu_code.clone())],
                        },
                    )
                    .await?
                    .into_iter()
                    .next();
                let Some(charge) = charge else {
                    return Ok((Vec::new(), None));
                };
                let p1: Decimal = charge.amount.parse().unwrap_or(Decimal::ZERO);
                let credit = credit_amount(p1, month_percent(rates));
                Ok((vec![(first.tenant_id.clone(), credit)], charge.currency))
            }
        }
    }
}
