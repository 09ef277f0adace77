//! The metering service (SPEC §5): usage events about resources, deduplicated by the producer's
//! event id, stored in batches, and turned into per-resource usage intervals for billing.
//!
//! Usage arrives two ways: `RecordUsage` over request/reply (the GraphQL `recordUsage` mutation)
//! and the `metering.usage_reported` event stream that internal producers (resource controllers)
//! publish in batches over AMQP. Both run the same [`Metering::ingest`]: validate every event
//! against local read models (tenants and contracts fed by their services' events, the price
//! list's codes fetched from billing and cached), then insert the accepted ones with multi-row
//! `INSERT … ON CONFLICT DO NOTHING RETURNING id` so a repeated id counts once, and announce the
//! touched tenant-months (`UsageChanged`) through the outbox in the same transaction.

mod entity;
pub mod intervals;

use chrono::{DateTime, Utc};
use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult, Principal, SharedClock};
use ecl_proto::{
    Event,
    billing::{MenuCatalog, MenuChanged},
    contract::{ContractChanged, ContractKind},
    metering::{
        CountEvents, GetUsage, RecordUsage, ResourceUsage, UsageChanged, UsageEvent, UsageKind,
        UsageOutcome, UsageReported, UsageResult,
    },
    tenant::TenantChanged,
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use entity::{known_contract, known_tenant, usage_event};
use parking_lot::RwLock;
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set, TransactionTrait,
    sea_query::{OnConflict, Query},
};
use sea_orm_migration::prelude::*;
use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

pub const NAME: &str = "metering";
/// Most events one `RecordUsage` call may carry.
pub const MAX_BATCH: usize = 10_000;
/// Rows per INSERT statement: 11 parameters a row stays under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;
/// How long the price list's codes are trusted before asking billing again (a `MenuChanged`
/// event drops them at once).
const CATALOG_TTL: Duration = Duration::from_secs(5);

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "usage events, per-resource usage intervals",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Usage),
            Box::new(ecl_store::inbox::CreateInbox),
        ]
    }
    fn migration_table_name() -> DynIden {
        "metering_migrations".into_iden()
    }
}

/// Frozen: states its own DDL, never derived from today's entities (a change to the tables is a
/// new migration; `migrations_build_what_the_entities_expect` checks the sum).
struct M0001Usage;

impl MigrationName for M0001Usage {
    fn name(&self) -> &str {
        "m0001_usage"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Usage {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, boolean, string, string_null};
        manager
            .create_table(
                Table::create()
                    .table("usage_events")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("tenant_id"))
                    .col(string("resource_id"))
                    .col(string("menu_code"))
                    .col(string("kind"))
                    .col(big_integer("at"))
                    .col(string_null("plan"))
                    .col(string_null("status"))
                    .col(string_null("quantity"))
                    .col(string_null("resource_name"))
                    .col(big_integer("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-usage_events-tenant_id")
                    .table("usage_events")
                    .col("tenant_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("known_tenants")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("contract_id"))
                    .col(boolean("deleted"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("known_contracts")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("kind"))
                    .to_owned(),
            )
            .await
    }
}

/// A price-list code as metering checks it.
struct CatalogMenu {
    plans: HashSet<String>,
    resellable: bool,
}

type Catalog = Arc<HashMap<String, CatalogMenu>>;

pub struct Metering {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
    /// The price list's codes and when they were fetched.
    catalog: RwLock<Option<(Instant, Catalog)>>,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Metering {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
        catalog: RwLock::new(None),
    });
    let router =
        Router::default()
            .route(|s: Arc<Metering>, ctx, req: RecordUsage| async move {
                s.record(&ctx, req.events).await
            })
            .route(|s: Arc<Metering>, ctx, req: GetUsage| async move { s.usage(&ctx, req).await })
            .route(|s: Arc<Metering>, ctx, _: CountEvents| async move { s.count(&ctx).await });
    // Each handler's writes share the inbox's transaction: a redelivered event has no effect.
    let events = EventRouter::default()
        .on(|s: Arc<Metering>, ctx, id, ev: UsageReported| async move {
            // The price list first: no transaction stays open across a call to billing.
            let catalog = s.catalog(&ctx).await?;
            let inbox = s.inbox.clone();
            let svc = s.clone();
            let handled = inbox
                .handle(&id, UsageReported::TOPIC, |txn| {
                    Box::pin(async move {
                        let (mut results, accepted) =
                            svc.validate(txn, &catalog, &ev.events).await?;
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
            if announced {
                s.outbox.wake();
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
        })
        .on(|s: Arc<Metering>, _ctx, id, ev: TenantChanged| async move {
            let svc = s.clone();
            s.inbox
                .handle(&id, TenantChanged::TOPIC, |txn| {
                    Box::pin(async move { svc.on_tenant(txn, ev).await })
                })
                .await?;
            Ok(())
        })
        .on(
            |s: Arc<Metering>, _ctx, id, ev: ContractChanged| async move {
                let svc = s.clone();
                s.inbox
                    .handle(&id, ContractChanged::TOPIC, |txn| {
                        Box::pin(async move { svc.on_contract(txn, ev).await })
                    })
                    .await?;
                Ok(())
            },
        )
        // Changes no stored state (drops this replica's cached price list): nothing to record.
        .on(|s: Arc<Metering>, _ctx, _id, _ev: MenuChanged| async move {
            *s.catalog.write() = None;
            Ok(())
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

fn rejected(id: &str, code: &str, message: impl Into<String>) -> UsageResult {
    UsageResult {
        id: id.to_string(),
        outcome: UsageOutcome::Rejected,
        code: Some(code.to_string()),
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

fn kind_str(k: UsageKind) -> &'static str {
    match k {
        UsageKind::Start => "START",
        UsageKind::Stop => "STOP",
        UsageKind::Change => "CHANGE",
    }
}

fn kind_parse(s: &str) -> UsageKind {
    match s {
        "START" => UsageKind::Start,
        "STOP" => UsageKind::Stop,
        _ => UsageKind::Change,
    }
}

/// `YYYY-MM` of an instant (billing months are calendar months, UTC).
fn month_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
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
    fn system_ctx(&self, ctx: &CallCtx) -> CallCtx {
        ctx.as_principal(Principal::system(NAME))
    }

    async fn record(&self, ctx: &CallCtx, events: Vec<UsageEvent>) -> AppResult<Vec<UsageResult>> {
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

    /// The price list's codes, from cache or from billing.
    async fn catalog(&self, ctx: &CallCtx) -> AppResult<Catalog> {
        if let Some((at, c)) = &*self.catalog.read()
            && at.elapsed() < CATALOG_TTL
        {
            return Ok(c.clone());
        }
        let entries = self
            .bus
            .call(&self.system_ctx(ctx), &MenuCatalog {})
            .await?;
        let map: HashMap<String, CatalogMenu> = entries
            .into_iter()
            .map(|e| {
                (
                    e.code,
                    CatalogMenu {
                        plans: e.plans.into_iter().collect(),
                        resellable: e.resellable,
                    },
                )
            })
            .collect();
        let map = Arc::new(map);
        *self.catalog.write() = Some((Instant::now(), map.clone()));
        Ok(map)
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
        if announced {
            self.outbox.wake();
        }
        Ok(results)
    }

    /// One result per event, in order, and the positions of the events to store.
    async fn validate<C: ConnectionTrait>(
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
        let tenants: HashMap<String, known_tenant::Model> = known_tenant::Entity::find()
            .filter(known_tenant::Column::Id.is_in(tenant_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        let contract_ids: BTreeSet<String> =
            tenants.values().map(|t| t.contract_id.clone()).collect();
        let children: HashSet<String> = known_contract::Entity::find()
            .filter(known_contract::Column::Id.is_in(contract_ids))
            .filter(known_contract::Column::Kind.eq("CHILD"))
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();

        let mut results: Vec<UsageResult> = Vec::with_capacity(events.len());
        let mut seen: HashSet<&str> = HashSet::with_capacity(events.len());
        let mut rows: Vec<usize> = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let r = if let Some(m) = malformed(e) {
                rejected(&e.id, "INVALID_EVENT", m)
            } else if !seen.insert(e.id.as_str()) {
                outcome(&e.id, UsageOutcome::Duplicate)
            } else {
                match tenants.get(&e.tenant_id) {
                    None => rejected(
                        &e.id,
                        "UNKNOWN_TENANT",
                        format!("tenant {} is not known", e.tenant_id),
                    ),
                    Some(t) if t.deleted => rejected(
                        &e.id,
                        "UNKNOWN_TENANT",
                        format!("tenant {} was deleted", e.tenant_id),
                    ),
                    Some(t) => match catalog.get(&e.menu_code) {
                        None => rejected(
                            &e.id,
                            "UNKNOWN_MENU",
                            format!("menu {} is not in the price list", e.menu_code),
                        ),
                        Some(m) if e.plan.as_ref().is_some_and(|p| !m.plans.contains(p)) => {
                            rejected(
                                &e.id,
                                "UNKNOWN_PLAN",
                                format!(
                                    "menu {} has no plan {}",
                                    e.menu_code,
                                    e.plan.as_deref().unwrap_or_default()
                                ),
                            )
                        }
                        Some(m) if !m.resellable && children.contains(&t.contract_id) => rejected(
                            &e.id,
                            "NOT_RESELLABLE",
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
    async fn insert<C: ConnectionTrait>(
        &self,
        txn: &C,
        ctx: &CallCtx,
        events: &[UsageEvent],
        results: &mut [UsageResult],
        accepted: &[usize],
    ) -> AppResult<bool> {
        let now = self.clock.now();
        let rows: Vec<(usize, &UsageEvent)> = accepted.iter().map(|&i| (i, &events[i])).collect();
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
                    kind_str(e.kind).into(),
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
        let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
        for (i, e) in &rows {
            if inserted.contains(&e.id) {
                touched.insert((e.tenant_id.clone(), month_of(e.at)));
            } else {
                results[*i] = outcome(&e.id, UsageOutcome::Duplicate);
            }
        }
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

    /// The intervals of the tenants' resources touching the month (platform components only).
    async fn usage(
        &self,
        ctx: &CallCtx,
        req: GetUsage,
    ) -> AppResult<Vec<(String, Vec<ResourceUsage>)>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden("usage intervals are for billing"));
        }
        let month = month_range(&req.month)?;
        let rows = usage_event::Entity::find()
            .filter(usage_event::Column::TenantId.is_in(req.tenant_ids.clone()))
            .filter(usage_event::Column::At.lt(month.1.timestamp_micros()))
            .all(&self.db)
            .await?;
        let mut by_tenant: HashMap<String, Vec<intervals::Ev>> = HashMap::new();
        for r in rows {
            by_tenant
                .entry(r.tenant_id.clone())
                .or_default()
                .push(intervals::Ev {
                    id: r.id,
                    resource_id: r.resource_id,
                    menu_code: r.menu_code,
                    kind: kind_parse(&r.kind),
                    at: DateTime::from_timestamp_micros(r.at).unwrap_or_default(),
                    plan: r.plan,
                    status: r.status,
                    quantity: r.quantity,
                    name: r.resource_name,
                });
        }
        Ok(req
            .tenant_ids
            .into_iter()
            .map(|t| {
                let evs = by_tenant.remove(&t).unwrap_or_default();
                let usage = intervals::derive(evs, month.0, month.1);
                (t, usage)
            })
            .collect())
    }

    async fn count(&self, ctx: &CallCtx) -> AppResult<u64> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden("operators only"));
        }
        Ok(usage_event::Entity::find().count(&self.db).await?)
    }

    async fn on_tenant<C: ConnectionTrait>(&self, db: &C, ev: TenantChanged) -> AppResult<()> {
        let row = known_tenant::ActiveModel {
            id: Set(ev.tenant.id),
            contract_id: Set(ev.tenant.contract_id),
            deleted: Set(ev.change == "deleted"),
        };
        known_tenant::Entity::insert(row)
            .on_conflict(
                OnConflict::column(known_tenant::Column::Id)
                    .update_columns([known_tenant::Column::Deleted])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        Ok(())
    }

    async fn on_contract<C: ConnectionTrait>(&self, db: &C, ev: ContractChanged) -> AppResult<()> {
        let kind = match ev.contract.kind {
            ContractKind::Child => "CHILD",
            ContractKind::Partner => "PARTNER",
            ContractKind::Direct => "DIRECT",
        };
        let row = known_contract::ActiveModel {
            id: Set(ev.contract.id),
            kind: Set(kind.to_string()),
        };
        known_contract::Entity::insert(row)
            .on_conflict(
                OnConflict::column(known_contract::Column::Id)
                    .update_columns([known_contract::Column::Kind])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        Ok(())
    }
}

/// `[first instant, first instant of the next month)` of a `YYYY-MM`.
fn month_range(month: &str) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let bad = || AppError::invalid("month", format!("month {month:?} is not YYYY-MM"));
    let (y, m) = month.split_once('-').ok_or_else(bad)?;
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let start = chrono::NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
    let next = if m == 12 {
        chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
    }
    .ok_or_else(bad)?;
    let at = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    Ok((at(start).ok_or_else(bad)?, at(next).ok_or_else(bad)?))
}

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{known_contract, known_tenant, usage_event};
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(
            crate::NAME,
            "metering_migrations",
            |backend| {
                vec![
                    entity_ddl(backend, usage_event::Entity),
                    entity_ddl(backend, known_tenant::Entity),
                    entity_ddl(backend, known_contract::Entity),
                ]
            },
        )
        .await;
    }
}
