//! Recording usage (SPEC §5): who may, what a well-formed event is, and storing a batch — every
//! event validated against the read models and the price list, a repeated id counted once, the
//! touched tenant-months announced through the outbox and the carried month states kept up, all
//! in one transaction.

use crate::{
    Metering,
    catalog::Catalog,
    entity::{known_contract, known_tenant, usage_event},
    month_starts,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Month, Principal};
use ecl_proto::{
    Event,
    contract::ContractKind,
    metering::{
        UsageChanged, UsageEvent, UsageKind, UsageOutcome, UsageRejection, UsageReported,
        UsageResult,
    },
};
use ecl_store::read_models;
use rust_decimal::Decimal;
use sea_orm::{
    ConnectionTrait, TransactionTrait,
    sea_query::{OnConflict, Query},
};
use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
};

/// Most events one `RecordUsage` call may carry.
pub const MAX_BATCH: usize = 10_000;
/// Rows per INSERT statement: 11 parameters a row stays under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;

fn rejected(id: &str, code: UsageRejection, message: impl Into<String>) -> UsageResult {
    UsageResult {
        id: id.to_string(),
        outcome: UsageOutcome::Rejected,
        code: Some(code),
        message: Some(message.into()),
    }
}

fn outcome(id: &str, outcome: UsageOutcome) -> UsageResult {
    UsageResult {
        id: id.to_string(),
        outcome,
        code: None,
        message: None,
    }
}

/// Checks an event's own fields; `None` when it is well formed.
fn malformed(e: &UsageEvent) -> Option<String> {
    let field = |name: &str, v: &str, max: usize| -> Option<String> {
        if v.trim().is_empty() {
            Some(format!("{name} must not be empty"))
        } else if v.len() > max {
            Some(format!("{name} is longer than {max} characters"))
        } else {
            None
        }
    };
    field("id", &e.id, 128)
        .or_else(|| field("tenantId", &e.tenant_id, 64))
        .or_else(|| field("resourceId", &e.resource_id, 128))
        .or_else(|| field("menuCode", &e.menu_code, 64))
        .or_else(|| {
            (e.kind == UsageKind::Start && e.plan.as_deref().is_none_or(|p| p.trim().is_empty()))
                .then(|| "a START event needs a plan".to_string())
        })
        .or_else(|| {
            let q = e.quantity.as_deref()?;
            match q.parse::<Decimal>() {
                Ok(d) if !d.is_sign_negative() => None,
                _ => Some(format!("quantity {q:?} is not a non-negative decimal")),
            }
        })
        .or_else(|| {
            let n = [&e.plan, &e.status, &e.resource_name]
                .iter()
                .filter_map(|v| v.as_deref())
                .any(|v| v.len() > 200);
            n.then(|| "plan, status and resourceName are at most 200 characters".to_string())
        })
}

impl Metering {
    pub(crate) async fn record(
        &self,
        ctx: &CallCtx,
        events: Vec<UsageEvent>,
    ) -> AppResult<Vec<UsageResult>> {
        match &ctx.principal {
            Principal::Anonymous => return Err(AppError::unauthenticated()),
            p if !p.is_operator() => {
                return Err(AppError::forbidden(
                    "usage is recorded by the provider's operators and resource controllers",
                ));
            }
            _ => {}
        }
        if events.is_empty() || events.len() > MAX_BATCH {
            return Err(AppError::invalid(
                "events",
                format!("a batch holds 1 to {MAX_BATCH} events"),
            ));
        }
        self.ingest(ctx, events).await
    }

    /// Validates and stores a batch (a `RecordUsage` request); one result per event, in order.
    pub async fn ingest(
        &self,
        ctx: &CallCtx,
        events: Vec<UsageEvent>,
    ) -> AppResult<Vec<UsageResult>> {
        let catalog = self.catalog(ctx).await?;
        // Reads before the transaction: a SQLite transaction that reads and then writes fails
        // when another writer committed in between.
        let (mut results, accepted) = self.validate(&self.db, &catalog, &events).await?;
        if accepted.is_empty() {
            return Ok(results);
        }
        let txn = self.db.begin().await?;
        let announced = self
            .insert(&txn, ctx, &events, &mut results, &accepted)
            .await?;
        txn.commit().await?;
        self.wal.after_commit(&self.db).await;
        if announced {
            self.outbox.wake();
        }
        Ok(results)
    }

    /// One result per event, in order, and the positions of the events to store.
    pub(crate) async fn validate<C: ConnectionTrait>(
        &self,
        db: &C,
        catalog: &Catalog,
        events: &[UsageEvent],
    ) -> AppResult<(Vec<UsageResult>, Vec<usize>)> {
        // The tenants of the batch and whether their contract is a child, in two queries.
        let tenant_ids: Vec<String> = events
            .iter()
            .map(|e| e.tenant_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let tenants: HashMap<String, known_tenant::Model> =
            read_models::tenants::<known_tenant::Entity, _>(db, &tenant_ids)
                .await?
                .into_iter()
                .map(|t| (t.id.clone(), t))
                .collect();
        let contract_ids: Vec<String> = tenants
            .values()
            .map(|t| t.contract_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let children: HashSet<String> =
            read_models::contracts_of_kind::<known_contract::Entity, _>(
                db,
                &contract_ids,
                ContractKind::Child,
            )
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();

        let mut results: Vec<UsageResult> = Vec::with_capacity(events.len());
        let mut seen: HashSet<&str> = HashSet::with_capacity(events.len());
        let mut rows: Vec<usize> = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let r = if let Some(m) = malformed(e) {
                rejected(&e.id, UsageRejection::InvalidEvent, m)
            } else if !seen.insert(e.id.as_str()) {
                outcome(&e.id, UsageOutcome::Duplicate)
            } else {
                match tenants.get(&e.tenant_id) {
                    None => rejected(
                        &e.id,
                        UsageRejection::UnknownTenant,
                        format!("tenant {} is not known", e.tenant_id),
                    ),
                    Some(t) if t.deleted => rejected(
                        &e.id,
                        UsageRejection::UnknownTenant,
                        format!("tenant {} was deleted", e.tenant_id),
                    ),
                    Some(t) => match catalog.get(&e.menu_code) {
                        None => rejected(
                            &e.id,
                            UsageRejection::UnknownMenu,
                            format!("menu {} is not in the price list", e.menu_code),
                        ),
                        Some(m) if e.plan.as_ref().is_some_and(|p| !m.plans.contains(p)) => {
                            rejected(
                                &e.id,
                                UsageRejection::UnknownPlan,
                                format!(
                                    "menu {} has no plan {}",
                                    e.menu_code,
                                    e.plan.as_deref().unwrap_or_default()
                                ),
                            )
                        }
                        Some(m) if !m.resellable && children.contains(&t.contract_id) => rejected(
                            &e.id,
                            UsageRejection::NotResellable,
                            format!(
                                "menu {} is not resellable: a child contract may not use it",
                                e.menu_code
                            ),
                        ),
                        Some(_) => {
                            rows.push(i);
                            outcome(&e.id, UsageOutcome::Accepted)
                        }
                    },
                }
            };
            results.push(r);
        }
        Ok((results, rows))
    }

    /// Inserts the accepted events (a repeated id is a duplicate, counted once) and announces the
    /// touched tenant-months through the outbox, in `txn`; true when it added to the outbox.
    pub(crate) async fn insert<C: ConnectionTrait>(
        &self,
        txn: &C,
        ctx: &CallCtx,
        events: &[UsageEvent],
        results: &mut [UsageResult],
        accepted: &[usize],
    ) -> AppResult<bool> {
        let now = self.clock.now();
        let rows: Vec<(usize, &UsageEvent)> = accepted.iter().map(|&i| (i, &events[i])).collect();
        let tenants: BTreeSet<&str> = rows.iter().map(|(_, e)| e.tenant_id.as_str()).collect();
        month_starts::lock(txn, &tenants).await?;
        let mut inserted: HashSet<String> = HashSet::with_capacity(rows.len());
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut stmt = Query::insert();
            stmt.into_table(usage_event::Entity).columns([
                usage_event::Column::Id,
                usage_event::Column::TenantId,
                usage_event::Column::ResourceId,
                usage_event::Column::MenuCode,
                usage_event::Column::Kind,
                usage_event::Column::At,
                usage_event::Column::Plan,
                usage_event::Column::Status,
                usage_event::Column::Quantity,
                usage_event::Column::ResourceName,
                usage_event::Column::ReceivedAt,
            ]);
            for (_, e) in chunk {
                stmt.values_panic([
                    e.id.clone().into(),
                    e.tenant_id.clone().into(),
                    e.resource_id.clone().into(),
                    e.menu_code.clone().into(),
                    e.kind.into(),
                    e.at.timestamp_micros().into(),
                    e.plan.clone().into(),
                    e.status.clone().into(),
                    e.quantity.clone().into(),
                    e.resource_name.clone().into(),
                    now.timestamp_micros().into(),
                ]);
            }
            stmt.on_conflict(
                OnConflict::column(usage_event::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col(usage_event::Column::Id);
            for row in txn.query_all(&stmt).await? {
                inserted.insert(row.try_get::<String>("", "id")?);
            }
        }
        let mut touched: BTreeSet<(String, Month)> = BTreeSet::new();
        for (i, e) in &rows {
            if inserted.contains(&e.id) {
                touched.insert((e.tenant_id.clone(), Month::containing(e.at)));
            } else {
                results[*i] = outcome(&e.id, UsageOutcome::Duplicate);
            }
        }
        month_starts::follow(
            txn,
            rows.iter()
                .map(|(_, e)| e)
                .filter(|e| inserted.contains(&e.id))
                .map(|e| {
                    let key = (
                        e.tenant_id.clone(),
                        e.resource_id.clone(),
                        e.menu_code.clone(),
                    );
                    (key, e.at)
                }),
        )
        .await?;
        metrics::counter!("ecl_metering_events_stored_total").increment(inserted.len() as u64);
        if touched.is_empty() {
            return Ok(false);
        }
        self.outbox
            .add(
                txn,
                &ctx.trace_id,
                &UsageChanged {
                    tenant_months: touched.into_iter().collect(),
                },
            )
            .await?;
        Ok(true)
    }

    /// A batch from the usage stream (`metering.usage_reported`): stored like a `RecordUsage`
    /// batch, in the inbox's transaction so a redelivered batch has no effect; rejected events
    /// are counted and logged (nobody waits for their results).
    pub(crate) async fn on_usage_reported(
        self: Arc<Self>,
        ctx: CallCtx,
        id: String,
        ev: UsageReported,
    ) -> AppResult<()> {
        // The price list first: no transaction stays open across a call to billing.
        let catalog = self.catalog(&ctx).await?;
        let inbox = self.inbox.clone();
        let svc = self.clone();
        let handled = inbox
            .handle(&id, UsageReported::TOPIC, |txn| {
                Box::pin(async move {
                    let (mut results, accepted) = svc.validate(txn, &catalog, &ev.events).await?;
                    let announced = svc
                        .insert(txn, &ctx, &ev.events, &mut results, &accepted)
                        .await?;
                    Ok((results, announced))
                })
            })
            .await?;
        let Some((results, announced)) = handled else {
            return Ok(());
        };
        self.wal.after_commit(&self.db).await;
        if announced {
            self.outbox.wake();
        }
        let rejected = results
            .iter()
            .filter(|r| r.outcome == UsageOutcome::Rejected)
            .count();
        if rejected > 0 {
            metrics::counter!("ecl_metering_rejected_total").increment(rejected as u64);
            tracing::warn!(
                rejected,
                first = ?results.iter().find(|r| r.outcome == UsageOutcome::Rejected),
                "usage stream: events rejected"
            );
        }
        Ok(())
    }
}
