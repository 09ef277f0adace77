//! Notification service (SPEC §7; seeds 000 / 001): notices — release information, failures,
//! maintenance, contract and fee mails — their recipients by the seeds' table, each user's
//! opt-outs, the partner's suppression per child, delivery by e-mail with a delivery log, and the
//! `NoticePublished` announcements the gateway's live `notices` subscriptions filter.
//!
//! * `publish.rs`: the one use case behind `publishNotice` and the `NoticeRequested` event.
//! * `audience.rs` + `recipients.rs`: who receives it (three bus requests, then a pure function).
//! * `sender.rs` + `mailer.rs`: the delivery log worked off over SMTP (or into `.eml` files).
//! * `preferences.rs`, `suppression.rs`, `lists.rs`, `fees.rs`: the rest of the API.

mod audience;
pub mod entity;
mod fees;
mod lists;
mod mailer;
mod migration;
mod preferences;
mod publish;
pub mod recipients;
mod sender;
mod suppression;

use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult, ErrorCode, Principal, SharedClock};
use ecl_proto::{
    billing::MonthClosed,
    notification::{
        Category, DeliveryStats, GetPreferences, GetSuppressions, ListDeliveries, ListNotices,
        NoticeRequested, NoticeView, PublishNotice, SetPreference, SuppressCategories,
    },
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::Outbox;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub const NAME: &str = "notification";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "notices by e-mail (SMTP) and subscription; recipients, opt-outs, suppression",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

pub struct Notifications {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    sender: sender::Handle,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<migration::Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    // Where events this service keeps failing on become dead letters. The handlers themselves
    // are idempotent by their own unique keys (a notice per source event id, a delivery per
    // notice and recipient), because they resolve recipients over the bus: a transaction held
    // across those requests would be a long one.
    let inbox = ecl_store::Inbox::start(db.clone(), NAME);
    let mailer = mailer::Mailer::from_settings(&ctx.settings)?;
    let sender = sender::start(db.clone(), mailer, &ctx.settings);
    let svc = Arc::new(Notifications {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        sender,
    });
    let router = Router::default()
        .route(|s: Arc<Notifications>, ctx, req: PublishNotice| async move {
            if !matches!(ctx.principal, Principal::User { .. }) || !ctx.principal.is_operator() {
                return Err(denied(&ctx.principal, "only operators publish notices"));
            }
            s.publish(&ctx, "operator", None, req.input).await
        })
        .route(|s: Arc<Notifications>, ctx, req: ListNotices| async move {
            s.list_notices(&ctx, req).await
        })
        .route(|s: Arc<Notifications>, ctx, req: ListDeliveries| async move {
            s.list_deliveries(&ctx, req).await
        })
        .route(|s: Arc<Notifications>, ctx, req: GetPreferences| async move {
            s.preferences(&ctx, req.user_ids).await
        })
        .route(|s: Arc<Notifications>, ctx, req: SetPreference| async move {
            s.set_preference(&ctx, req).await
        })
        .route(|s: Arc<Notifications>, ctx, req: GetSuppressions| async move {
            s.suppressions(&ctx, req.contract_ids).await
        })
        .route(|s: Arc<Notifications>, ctx, req: SuppressCategories| async move {
            s.suppress(&ctx, req).await
        })
        .route(|s: Arc<Notifications>, ctx, req: DeliveryStats| async move {
            s.stats(&ctx, req).await
        });
    let events = EventRouter::default()
        .on(
            |s: Arc<Notifications>, ctx, id, ev: NoticeRequested| async move {
                on_notice_requested(&s, &ctx, &id, ev).await
            },
        )
        .on(
            |s: Arc<Notifications>, ctx, id, ev: MonthClosed| async move {
                s.on_month_closed(&ctx, &id, ev).await
            },
        );
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

/// A service asked for a notice (the SLA service's incidents and maintenance windows). Kept small
/// so a transactional inbox can wrap it; idempotent by itself through the event id. A request
/// that can never succeed (bad input, unknown tenant) is logged and acknowledged: redelivering
/// it would fail the same way forever.
pub async fn on_notice_requested(
    s: &Notifications,
    ctx: &CallCtx,
    event_id: &str,
    ev: NoticeRequested,
) -> AppResult<()> {
    match s.publish(ctx, &ev.source, Some(event_id), ev.input).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code, ErrorCode::InvalidInput | ErrorCode::NotFound) => {
            tracing::warn!(event = event_id, source = %ev.source, "notice request refused: {e}");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn denied(who: &Principal, why: &str) -> AppError {
    match who {
        Principal::Anonymous => AppError::unauthenticated(),
        _ => AppError::forbidden(why),
    }
}

fn ts(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn category(s: &str) -> AppResult<Category> {
    Category::parse(s).ok_or_else(|| AppError::internal(format!("unknown stored category {s}")))
}

pub(crate) fn view(n: &entity::notice::Model) -> NoticeView {
    NoticeView {
        id: n.id.clone(),
        category: Category::parse(&n.category).unwrap_or(Category::Release),
        title: n.title.clone(),
        body: n.body.clone(),
        title_ja: n.title_ja.clone(),
        body_ja: n.body_ja.clone(),
        contract_ids: serde_json::from_str(&n.contract_ids).unwrap_or_default(),
        tenant_ids: serde_json::from_str(&n.tenant_ids).unwrap_or_default(),
        starts_at: n.starts_at.map(ts),
        ends_at: n.ends_at.map(ts),
        source: n.source.clone(),
        recipients: n.recipients as u64,
        created_at: ts(n.created_at),
    }
}
