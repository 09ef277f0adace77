//! Closing a month: `closeMonth` rates every tenant once, builds every contract's bill (a
//! partner's with its children's tenants) and stores them as JSON. A fixed bill is read back,
//! never re-rated, so later price or usage changes cannot touch it.

use std::collections::HashMap;

use chrono::DateTime;
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::billing::{self as proto, CloseMonthResult};
use sea_orm::{EntityTrait, QueryOrder, Set, TransactionTrait, sea_query::OnConflict};

use crate::{
    Billing,
    bill::BillStatus,
    entity::{closed_month, contract, fixed_bill, tenant},
    month,
};

impl Billing {
    /// Fixes every bill of a month. Only a month that is over can be closed; closing it again
    /// answers what the first close did.
    pub(crate) async fn close_month(
        &self,
        ctx: &CallCtx,
        month_s: &str,
    ) -> AppResult<CloseMonthResult> {
        match &ctx.principal {
            Principal::Anonymous => return Err(AppError::unauthenticated()),
            p if !p.is_operator() => {
                return Err(AppError::forbidden("only operators close billing months"));
            }
            _ => {}
        }
        let m = month("month", month_s)?;
        if m >= self.current_month() {
            return Err(AppError::invalid(
                "month",
                format!("{m} is not over yet: only past months can be closed"),
            ));
        }
        if let Some(done) = closed_month::Entity::find_by_id(m.to_string())
            .one(&self.db)
            .await?
        {
            return Ok(CloseMonthResult {
                month: m.to_string(),
                bills: done.bills as u64,
                already_closed: true,
                closed_at: DateTime::from_timestamp_micros(done.closed_at).unwrap_or_default(),
            });
        }
        let started = std::time::Instant::now();
        let tenants = tenant::Entity::find()
            .order_by_asc(tenant::Column::CreatedAt)
            .order_by_asc(tenant::Column::Id)
            .all(&self.db)
            .await?;
        let menus = self.price_list(m).await?;
        let usage = self.usage(ctx, &tenants, m).await?;
        let rated = std::time::Instant::now();
        let charges = Self::rate_usage(&menus, &usage, m, self.clock.now())?;
        let rating = rated.elapsed();
        let taxes = self.tax_settings().await?;
        let contracts = contract::Entity::find().all(&self.db).await?;
        let parent_of: HashMap<&str, Option<&str>> = contracts
            .iter()
            .map(|c| (c.id.as_str(), c.parent_id.as_deref()))
            .collect();
        let mut by_contract: HashMap<&str, Vec<tenant::Model>> = HashMap::new();
        for t in tenants.iter().filter(|t| charges.contains_key(&t.id)) {
            by_contract
                .entry(&t.contract_id)
                .or_default()
                .push(t.clone());
        }
        let mut rows = Vec::new();
        let mut fixed = Vec::new();
        // referred contracts' bills, for the agencies' statements
        let mut direct_bills: HashMap<String, crate::bill::Bill> = HashMap::new();
        for c in &contracts {
            // own tenants, then (for a partner) each child's
            let mut ts: Vec<tenant::Model> =
                by_contract.get(c.id.as_str()).cloned().unwrap_or_default();
            for child in contracts
                .iter()
                .filter(|x| parent_of.get(x.id.as_str()).copied().flatten() == Some(c.id.as_str()))
            {
                ts.extend(
                    by_contract
                        .get(child.id.as_str())
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            if ts.is_empty() {
                continue;
            }
            let bill = self.build(
                c,
                &ts,
                &charges,
                m,
                BillStatus::Fixed,
                taxes.get(&c.id).copied(),
            )?;
            let mut bill = self.apply_credits(bill).await?;
            self.apply_coupons(&mut bill).await?;
            fixed.push(proto::FixedBill {
                contract_id: c.id.clone(),
                total: bill.total.to_string(),
                currency: bill.header.currency.code().to_string(),
            });
            rows.push(fixed_bill::ActiveModel {
                id: Set(format!("{}|{m}", c.id)),
                contract_id: Set(c.id.clone()),
                month: Set(m.to_string()),
                body: Set(serde_json::to_string(&bill).map_err(AppError::internal)?),
            });
            if c.kind == ecl_proto::contract::ContractKind::Direct {
                direct_bills.insert(c.id.clone(), bill);
            }
        }
        let commercial = crate::commercial::serve::close_month(
            self,
            &crate::commercial::serve::Closing {
                month: m,
                contracts: &contracts,
                tenants: &by_contract,
                usage: &usage,
                menus: &menus,
                charges: &charges,
                direct_bills: &direct_bills,
                taxes: &taxes,
                rating,
            },
        )
        .await?;
        let n = rows.len() as u64;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        for chunk in rows.chunks(200) {
            fixed_bill::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(fixed_bill::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        use ecl_kernel::OnUnique as _;
        commercial.insert(&txn).await?;
        closed_month::Entity::insert(closed_month::ActiveModel {
            month: Set(m.to_string()),
            bills: Set(n as i64),
            closed_at: Set(now.timestamp_micros()),
        })
        .exec(&txn)
        .await
        // Only the month's own row being there already means another close won the race.
        .on_unique("closed_months", &["month"], || {
            AppError::conflict(format!("{m} is being closed by another request"))
        })?;
        // Announced with the close itself: the notification service mails each contract's
        // contact person that its bill is fixed (CONTRACT_FEE).
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &proto::MonthClosed {
                    month: m.to_string(),
                    bills: fixed,
                },
            )
            .await?;
        tracing::info!(month = %m, bills = n, elapsed = ?started.elapsed(), "month closed");
        Ok(CloseMonthResult {
            month: m.to_string(),
            bills: n,
            already_closed: false,
            closed_at: now,
        })
    }
}
