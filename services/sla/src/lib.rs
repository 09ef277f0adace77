//! The SLA service (SPEC §8; seed 004): incidents and maintenance windows, uptime per month,
//! bare-metal part replacements, claims, and the credits billing puts on bills.
//!
//! * Pure rules, unit-tested: `uptime.rs` (the 43,200-minute month, downtime as a union of
//!   failures minus maintenance), `credit_rate.rs` (the credit table), `part_replacement.rs`
//!   (T4 days, the missed appointment), `claims.rs` (30 days, overdue, two months later).
//! * One use case per file: `record_incident.rs`, `restore_incident.rs`,
//!   `schedule_maintenance.rs`, `record_part_replacement.rs`, `file_claim.rs`, `decide_claim.rs`,
//!   `availability.rs`; `lists.rs` holds the batched reads.
//! * Incidents and maintenance ask notification for their notices (`NoticeRequested`), an
//!   approval asks billing for the credit (`CreditApproved`), both through the outbox.

mod access;
mod affected;
mod availability;
pub mod claims;
pub mod credit_rate;
mod decide_claim;
pub mod entity;
mod file_claim;
mod lists;
mod migration;
mod notices;
pub mod part_replacement;
mod record_incident;
mod record_part_replacement;
mod restore_incident;
mod schedule_maintenance;
mod tenants;
pub mod uptime;
mod views;

use ecl_bus::{Bus, EventRouter, Router};
use ecl_kernel::SharedClock;
use ecl_proto::{
    Event,
    sla::{
        DecideClaim, FileClaim, GetAvailability, ListClaims, ListCredits, ListTenantIncidents,
        RecordIncident, RecordPartReplacement, RestoreIncident, ScheduleMaintenance,
    },
    tenant::TenantChanged,
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub const NAME: &str = "sla";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "incidents, maintenance, uptime, part replacements, claims and service credits",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

pub struct Sla {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<migration::Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Sla {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
    });
    let router = Router::default()
        .route(|s: Arc<Sla>, ctx, req: RecordIncident| async move {
            s.record_incident(&ctx, req.input).await
        })
        .route(|s: Arc<Sla>, ctx, req: RestoreIncident| async move {
            s.restore_incident(&ctx, &req.id, req.restored_at).await
        })
        .route(|s: Arc<Sla>, ctx, req: ScheduleMaintenance| async move {
            s.schedule_maintenance(&ctx, req.input).await
        })
        .route(|s: Arc<Sla>, ctx, req: RecordPartReplacement| async move {
            s.record_part_replacement(&ctx, req.input).await
        })
        .route(
            |s: Arc<Sla>, ctx, req: FileClaim| async move { s.file_claim(&ctx, req.input).await },
        )
        .route(|s: Arc<Sla>, ctx, req: DecideClaim| async move {
            s.decide_claim(&ctx, &req.id, req.approve, req.reason).await
        })
        .route(|s: Arc<Sla>, ctx, req: GetAvailability| async move {
            s.availability_of(&ctx, req.contract_ids, req.month).await
        })
        .route(|s: Arc<Sla>, ctx, req: ListClaims| async move {
            s.claims_of(&ctx, req.contract_ids, req.page).await
        })
        .route(|s: Arc<Sla>, ctx, req: ListCredits| async move {
            s.credits_of(&ctx, req.contract_ids, req.page).await
        })
        .route(|s: Arc<Sla>, ctx, req: ListTenantIncidents| async move {
            s.incidents_of(&ctx, req.tenant_ids, req.page).await
        });
    let events = EventRouter::default().on(|s: Arc<Sla>, _ctx, id, ev: TenantChanged| async move {
        s.inbox
            .handle(&id, TenantChanged::TOPIC, |txn| {
                Box::pin(async move { tenants::on_tenant(txn, ev).await })
            })
            .await?;
        Ok(())
    });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}
