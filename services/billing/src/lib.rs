//! ECL billing: the price list, rating, bills (estimated live, fixed at close) and CSV exports.
//!
//! Read top-down: the descriptor ([`module`]), then what it routes (the handler table in
//! `init`), then one file per use case:
//!
//! | file | rule |
//! | --- | --- |
//! | `price_list.rs` | operators maintain menus; the seeded price list; menus by month; the catalog |
//! | `read_models.rs` | contracts, tenants and tenant usage months kept from events |
//! | `visible_contracts.rs` | which contracts a caller may see bills of |
//! | `estimate.rs` | an unclosed month rated from metering's usage (up to now, or a day) |
//! | `bills.rs` | a month's bill (fixed once closed, else estimated); the 24-month history |
//! | `bill_view.rs` | a bill as the API shows it |
//! | `tenant_usage.rs` | a tenant's part of its contract's bill |
//! | `close_month.rs` | fixing every bill of a month that is over, once, tenant chunk by chunk |
//! | `fixed_bill_parts.rs` | a fixed bill stored as its totals plus one row per tenant |
//! | `live_estimates.rs` | telling live subscribers whose estimate moved |
//! | `exports/` | the summary, detail and legacy CSV files and the `ExportBill` use case |
//! | `commercial/` | price rules and end-user bills, coupons, agencies, tax settings (issue 13); corrections of fixed bills |
//! | `migration.rs`, `entity.rs` | billing's tables |
//!
//! The pure parts are free of I/O so the money rules can be pinned by unit tests:
//! [`rating`] turns a month of usage into charge lines (charge patterns and special rules of
//! seed 003), [`bill`] assembles them into the bill tree with seed 002's rounding and tax.

pub mod bill;
mod bill_view;
mod bills;
mod close_month;
pub mod commercial;
mod credits;
mod entity;
mod estimate;
pub mod exports;
mod fixed_bill_parts;
mod live_estimates;
pub mod menus;
mod migration;
mod payments;
mod price_list;
pub mod rating;
mod read_models;
mod seed_menus;
mod sla_charges;
mod tenant_summaries;
mod tenant_usage;
mod visible_contracts;

use std::sync::Arc;

use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppResult, Principal, SharedClock};
use ecl_proto::{
    Event,
    billing::{
        CloseMonth, ExportBill, GetBills, GetTenantUsage, ListBills, ListMenus, MenuCatalog,
        MenuChanged, UpsertMenu,
    },
    contract::ContractChanged,
    metering::UsageChanged,
    sla::{CreditApproved, MenuCharges, OverdueContracts, RecordPayment},
    tenant::TenantChanged,
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use sea_orm::DatabaseConnection;

pub use bills::HISTORY_MONTHS;
use migration::Migrator;
use rating::Month;

pub const NAME: &str = "billing";

/// The billing target.
pub fn module() -> Module {
    Module {
        name: NAME,
        about: "price list, rating, bills, exports",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

/// The service state every use case works with.
pub struct Billing {
    pub(crate) db: DatabaseConnection,
    pub(crate) bus: Bus,
    pub(crate) clock: SharedClock,
    pub(crate) outbox: Outbox,
    pub(crate) inbox: Inbox,
    /// A FIXED bill is due at the end of the month this many months after its own.
    pub(crate) payment_due_months: u32,
    /// Parsed price lists by month (`price_list::prices_in`).
    pub(crate) prices:
        parking_lot::RwLock<std::collections::HashMap<String, Arc<price_list::MonthPrices>>>,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Billing {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
        payment_due_months: ctx.settings.payment_due_months,
        prices: Default::default(),
    });
    svc.seed().await?;
    let router = Router::default()
        .route(|s: Arc<Billing>, ctx, req: UpsertMenu| async move {
            s.upsert_menu(&ctx, req.menu).await
        })
        .route(|s: Arc<Billing>, ctx, req: ListMenus| async move { s.list_menus(&ctx, req).await })
        .route(|s: Arc<Billing>, ctx, _: MenuCatalog| async move { s.catalog(&ctx).await })
        .route(|s: Arc<Billing>, ctx, req: GetBills| async move { s.get_bills(&ctx, req).await })
        .route(|s: Arc<Billing>, ctx, req: ListBills| async move { s.list_bills(&ctx, req).await })
        .route(|s: Arc<Billing>, ctx, req: GetTenantUsage| async move {
            s.tenant_usage(&ctx, req).await
        })
        .route(|s: Arc<Billing>, ctx, req: CloseMonth| async move {
            s.close_month(&ctx, req.month).await
        })
        .route(|s: Arc<Billing>, ctx, req: ExportBill| async move { s.export(&ctx, req).await })
        .route(|s: Arc<Billing>, ctx, req: RecordPayment| async move {
            s.record_payment(&ctx, req.input).await
        })
        .route(
            |s: Arc<Billing>, ctx, req: OverdueContracts| async move { s.overdue(&ctx, req).await },
        )
        .route(
            |s: Arc<Billing>, ctx, req: MenuCharges| async move { s.menu_charges(&ctx, req).await },
        );
    let router = commercial::serve::routes(router);
    // Each handler's writes share the inbox's transaction: a redelivered event has no effect
    // (an old `ContractChanged` redelivered after a newer one would otherwise undo it).
    let events = EventRouter::default()
        .on(
            |s: Arc<Billing>, _ctx, id, ev: ContractChanged| async move {
                let svc = s.clone();
                s.inbox
                    .handle(&id, ContractChanged::TOPIC, |txn| {
                        Box::pin(async move { svc.on_contract(txn, ev).await })
                    })
                    .await?;
                Ok(())
            },
        )
        .on(|s: Arc<Billing>, _ctx, id, ev: TenantChanged| async move {
            let svc = s.clone();
            s.inbox
                .handle(&id, TenantChanged::TOPIC, |txn| {
                    Box::pin(async move { svc.on_tenant(txn, ev).await })
                })
                .await?;
            Ok(())
        })
        .on(|s: Arc<Billing>, _ctx, id, ev: CreditApproved| async move {
            let svc = s.clone();
            s.inbox
                .handle(&id, CreditApproved::TOPIC, |txn| {
                    Box::pin(async move { svc.on_credit_approved(txn, ev).await })
                })
                .await?;
            Ok(())
        })
        .on(|s: Arc<Billing>, ctx, id, ev: UsageChanged| async move {
            let svc = s.clone();
            let hint = ev.clone();
            s.inbox
                .handle(&id, UsageChanged::TOPIC, |txn| {
                    Box::pin(async move { svc.on_usage(txn, ev).await })
                })
                .await?;
            // After the commit, outside the inbox's transaction (it holds an embedded store's
            // only connection): live estimates are a hint, sent again on the next change.
            s.announce_estimates(&ctx, &hint).await
        })
        // Changes no stored state (drops this replica's parsed price lists): nothing to record.
        .on(|s: Arc<Billing>, _ctx, _id, _ev: MenuChanged| async move {
            s.forget_prices();
            Ok(())
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

/// A month named by a request, or `INVALID_INPUT` on `field`.
pub(crate) fn month(field: &str, s: &str) -> AppResult<Month> {
    Month::parse_as(field, s)
}

impl Billing {
    pub(crate) fn system(&self, ctx: &CallCtx) -> CallCtx {
        ctx.as_principal(Principal::system(NAME))
    }

    pub(crate) fn current_month(&self) -> Month {
        Month::containing(self.clock.now())
    }
}
