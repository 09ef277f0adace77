//! Contract service (SPEC §2): partner (parent), child and direct contracts, their customer
//! information, search, change and abolition. It is the authority on the contract tree, so other
//! services ask it how a caller relates to a contract.
//!
//! Read top-down: the descriptor ([`module`]), then what it routes ([`router`]), then one file
//! per use case:
//!
//! | file | rule |
//! | --- | --- |
//! | `access.rs` | who may see, change and manage which contract (SPEC §1) |
//! | `visibility.rs` | the caller's access with their groups; `NOT_FOUND` outside their tree |
//! | `create_contract.rs` | partner and direct contracts by the operator, children by the partner; the owner user |
//! | `update_contract.rs` | changing name, external id and customer information |
//! | `abolish_contract.rs` | abolition: no active children, tenants only when forced |
//! | `search.rs` | one, many, search and children, filtered and paginated in the query |
//! | `groups.rs` | contract groups narrowing a parent user's view |
//! | `audience.rs` | a notice's audience as the contract tree sees it |
//! | `customer.rs`, `external_id.rs` | the customer information and external id rules |
//! | `views.rs` | stored contracts as the messages show them |
//! | `migration.rs`, `entity.rs` | the contract tables |

mod abolish_contract;
mod access;
mod audience;
mod create_contract;
mod customer;
mod entity;
mod external_id;
mod groups;
mod migration;
mod places;
mod search;
mod update_contract;
mod views;
mod visibility;

use ecl_bus::{Bus, EventRouter, Router};
use ecl_kernel::SharedClock;
use ecl_proto::{Event, contract::*, identity::UserDeleted};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub const NAME: &str = "contract";
const ACTIVE: &str = "ACTIVE";
const ABOLISHED: &str = "ABOLISHED";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "partner, child and direct contracts; contract groups; coupons",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

pub struct Contracts {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
    places: places::Places,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<migration::Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Contracts {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
        places: Default::default(),
    });
    // A deleted user leaves the contract groups they were assigned to (in the inbox's
    // transaction: a redelivered event has no effect).
    let events =
        EventRouter::default().on(|s: Arc<Contracts>, _ctx, id, ev: UserDeleted| async move {
            let svc = s.clone();
            s.inbox
                .handle(&id, UserDeleted::TOPIC, |txn| {
                    Box::pin(async move { svc.forget_user(txn, &ev.user_id).await })
                })
                .await?;
            Ok(())
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router(), events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

fn router() -> Router<Contracts> {
    Router::default()
        .route(|s: Arc<Contracts>, ctx, req: CreateContract| async move { s.create(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: UpdateContract| async move { s.update(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: AbolishContract| async move { s.abolish(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: GetContract| async move { s.get(&ctx, &req.id).await })
        .route(|s: Arc<Contracts>, ctx, req: GetContracts| async move { s.get_many(&ctx, req.ids).await })
        .route(|s: Arc<Contracts>, ctx, req: GetManaged| async move { s.get_managed(&ctx, req.ids).await })
        .route(|s: Arc<Contracts>, ctx, req: SearchContracts| async move { s.search(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: ListChildren| async move { s.children(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: CreateContractGroup| async move { s.create_group(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: SetGroupChild| async move { s.set_group_child(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: SetGroupUser| async move { s.set_group_user(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: ListContractGroups| async move { s.list_groups(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: NoticeAudience| async move { s.notice_audience(&ctx, req).await })
}
