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
//!
//! Where each rule lives: `record_usage` (who may record, what a well-formed event is, storing a
//! batch once), `catalog` (the price list's codes events are checked against), `read_models`
//! (tenants and contracts as their services announce them), `intervals` (events → intervals),
//! `month_starts` (what each resource carries into each month, kept as events arrive),
//! `get_usage` (a month's intervals for billing, bounded by the month), `migration` (frozen
//! steps), `entity` (the tables).

mod catalog;
mod entity;
mod get_usage;
pub mod intervals;
mod migration;
mod month_starts;
mod read_models;
mod record_usage;

pub use record_usage::MAX_BATCH;

use catalog::Catalog;
use ecl_bus::{Bus, EventRouter, Router};
use ecl_kernel::SharedClock;
use ecl_proto::{
    Event,
    billing::MenuChanged,
    contract::ContractChanged,
    metering::{CountEvents, GetUsage, RecordUsage, UsageReported},
    tenant::TenantChanged,
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use parking_lot::RwLock;
use sea_orm::DatabaseConnection;
use std::{sync::Arc, time::Instant};

pub const NAME: &str = "metering";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "usage events, per-resource usage intervals",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

pub struct Metering {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
    /// The price list's codes and when they were fetched.
    catalog: RwLock<Option<(Instant, Catalog)>>,
    /// Every batch stored is a commit: the SQLite log is checkpointed every few dozen.
    wal: ecl_store::wal::WalCheckpoints,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<migration::Migrator>(&db, NAME).await?;
    month_starts::backfill(&db).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Metering {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
        catalog: RwLock::new(None),
        wal: Default::default(),
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
            s.on_usage_reported(ctx, id, ev).await
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
            s.forget_catalog();
            Ok(())
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}
