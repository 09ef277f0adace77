//! The billing service around the pure rating/bill/export code: the price list, read models of
//! contracts and tenants, bills over the bus (estimated live, fixed at close) and CSV exports.
//!
//! * An unclosed month's bill is rated when asked, from metering's current usage intervals, so a
//!   new estimate is visible as soon as metering has stored the usage (no refresh lag). The
//!   current month is rated up to "now"; a past month not yet closed over its whole length.
//! * `closeMonth` rates every tenant once, builds every contract's bill (a partner's with its
//!   children's tenants) and stores them as JSON: a fixed bill is read back, never re-rated, so
//!   later price or usage changes cannot touch it.
//! * Which contracts a caller may see is the contract service's call (`GetContracts` with the
//!   caller's context); whether they may see usage is `Principal::may_see_usage`.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use chrono::DateTime;
use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult, Principal, SharedClock};
use ecl_proto::{
    Event, Page,
    billing::{
        self as proto, BillLine, BillView, CatalogEntry, CloseMonth, CloseMonthResult, ExportBill,
        ExportFile, ExportFormat, GetBills, GetTenantUsage, ListBills, ListMenus, MenuCatalog,
        MenuChanged, MenuSpec, MenuView, TenantUsageView, UpsertMenu,
    },
    contract::{ContractChanged, ContractKind, ContractView, GetContracts},
    metering::{GetUsage, ResourceUsage, UsageChanged},
    page::Cursor,
    tenant::TenantChanged,
};
use ecl_runtime::{Ctx, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use futures::StreamExt;
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait, sea_query::OnConflict,
};
use sea_orm_migration::prelude::*;

use crate::{
    NAME,
    bill::{Bill, BillHeader, BillStatus, ContractInfo, TenantInfo},
    csv_export::{self, LegacyOptions},
    entity::{closed_month, contract, fixed_bill, menu, tenant, tenant_month},
    menus,
    rating::{Currency, Menu, Month, Period, Resource, TenantCharges, UsageInterval, rate_tenant},
};

/// Months of history readable (seed 002: the past 24 months).
pub const HISTORY_MONTHS: usize = 24;
/// Tenants per `GetUsage` request when a whole month is rated: small enough that a reply stays
/// far below the broker's message size limit (16 MiB) for tenants of a few thousand resources.
const USAGE_BATCH: usize = 5;
/// `GetUsage` requests in flight while rating a month (metering reads while billing rates).
const USAGE_IN_FLIGHT: usize = 4;

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Billing),
            Box::new(ecl_store::inbox::CreateInbox),
            Box::new(crate::commercial::store::M0002Commercial),
        ]
    }
    fn migration_table_name() -> DynIden {
        "billing_migrations".into_iden()
    }
}

/// Frozen, like every migration: states its own DDL (a change to a table is a new migration;
/// `migrations_build_what_the_entities_expect` checks the sum against the entities).
struct M0001Billing;

impl MigrationName for M0001Billing {
    fn name(&self) -> &str {
        "m0001_billing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Billing {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string, string_null};
        let tables = [
            Table::create()
                .table("menus")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("code"))
                .col(string("effective_from"))
                .col(big_integer("seq"))
                .col(string("body"))
                .col(big_integer("updated_at"))
                .to_owned(),
            Table::create()
                .table("billing_contracts")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("kind"))
                .col(string_null("parent_id"))
                .col(string_null("external_id"))
                .to_owned(),
            Table::create()
                .table("billing_tenants")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("contract_id"))
                .col(string("name"))
                .col(string("region"))
                .col(string("workspace_id"))
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("tenant_months")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("tenant_id"))
                .col(string("month"))
                .to_owned(),
            Table::create()
                .table("fixed_bills")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("contract_id"))
                .col(string("month"))
                .col(string("body"))
                .to_owned(),
            Table::create()
                .table("closed_months")
                .if_not_exists()
                .col(string("month").primary_key())
                .col(big_integer("bills"))
                .col(big_integer("closed_at"))
                .to_owned(),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        for (table, column) in [
            ("menus", "code"),
            ("billing_contracts", "parent_id"),
            ("billing_tenants", "contract_id"),
            ("tenant_months", "tenant_id"),
            ("fixed_bills", "contract_id"),
        ] {
            manager
                .create_index(ecl_store::index(table, column))
                .await?;
        }
        Ok(())
    }
}

pub struct Billing {
    pub(crate) db: DatabaseConnection,
    pub(crate) bus: Bus,
    pub(crate) clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
}

pub(crate) async fn init(ctx: Ctx) -> anyhow::Result<Started> {
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
            s.close_month(&ctx, &req.month).await
        })
        .route(|s: Arc<Billing>, ctx, req: ExportBill| async move { s.export(&ctx, req).await });
    let router = crate::commercial::serve::routes(router);
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
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

pub(crate) fn month(field: &str, s: &str) -> AppResult<Month> {
    Month::parse(s).map_err(|e| AppError::invalid(field, format!("{s:?}: {e}")))
}

fn currency_of(charges: &[(TenantInfo, TenantCharges)]) -> AppResult<Currency> {
    let mut found: Option<Currency> = None;
    for (_, c) in charges {
        for cur in c
            .resources
            .iter()
            .map(|r| r.menu.currency)
            .chain(c.tenant_lines.iter().map(|t| t.menu.currency))
        {
            match found {
                None => found = Some(cur),
                Some(f) if f != cur => {
                    return Err(AppError::conflict(
                        "the contract used menus priced in different currencies",
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(found.unwrap_or(Currency::Jpy))
}

pub(crate) fn status_of(s: BillStatus) -> proto::BillStatus {
    match s {
        BillStatus::Estimated => proto::BillStatus::Estimated,
        BillStatus::Fixed => proto::BillStatus::Fixed,
    }
}

fn line_kind(tier: usize, label: &str) -> &'static str {
    match (tier, label) {
        (_, "無料利用分") => "FREE",
        (_, "上限額適用") => "CAP",
        (1, _) => "CONTRACT",
        (2, "消費税相当額") => "TAX",
        (2, _) => "TENANT",
        (3, _) => "SERVICE",
        (4, _) => "CATEGORY",
        (5, _) => "RESOURCE",
        (6, _) => "PLAN",
        _ => "USAGE",
    }
}

fn lines_of(bill: &Bill) -> Vec<BillLine> {
    csv_export::bill_items(bill)
        .into_iter()
        .map(|i| BillLine {
            tier: i.tier as u32,
            kind: line_kind(i.tier, &i.label).to_string(),
            label: i.label,
            detail: i.detail,
            usage: i.usage,
            amount: i.fee,
            tenant_id: i.tenant_id,
            resource_id: i.resource_id,
        })
        .collect()
}

pub fn bill_view(bill: &Bill) -> BillView {
    BillView {
        contract_id: bill.header.contract.contract_id.clone(),
        month: bill.header.month.to_string(),
        status: status_of(bill.header.status),
        currency: bill.header.currency.code().to_string(),
        subtotal: bill.subtotal.to_string(),
        tax_percent: bill.tax.percent.normalize().to_string(),
        tax: bill.tax.amount.to_string(),
        total: bill.total.to_string(),
        lines: lines_of(bill),
    }
}

/// A month as a list cursor (the bill list is ordered by month, newest first).
fn month_cursor(m: Month) -> String {
    Cursor {
        created_at_us: 0,
        id: m.to_string(),
    }
    .encode()
}

impl Billing {
    pub(crate) fn system(&self, ctx: &CallCtx) -> CallCtx {
        ctx.as_principal(Principal::system(NAME))
    }

    pub(crate) fn current_month(&self) -> Month {
        Month::containing(self.clock.now())
    }

    // ---- price list -------------------------------------------------------------------------

    async fn seed(&self) -> AppResult<()> {
        for spec in menus::seeds() {
            let id = format!("{}@{}", spec.code, spec.effective_from);
            if menu::Entity::find_by_id(id).one(&self.db).await?.is_none() {
                self.store_menu(
                    &CallCtx::new(Principal::system(NAME), Default::default()),
                    spec,
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn upsert_menu(&self, ctx: &CallCtx, spec: MenuSpec) -> AppResult<MenuView> {
        match &ctx.principal {
            Principal::Anonymous => return Err(AppError::unauthenticated()),
            p if !p.is_operator() => {
                return Err(AppError::forbidden(
                    "only operators maintain the price list",
                ));
            }
            _ => {}
        }
        self.store_menu(ctx, spec).await
    }

    async fn store_menu(&self, ctx: &CallCtx, spec: MenuSpec) -> AppResult<MenuView> {
        let menu = menus::to_menu(&spec)?;
        let mut spec = spec;
        spec.code = menu.info.code.clone();
        let id = format!("{}@{}", spec.code, spec.effective_from);
        // Read before the transaction: on SQLite a transaction that reads and then writes may not
        // upgrade to a writer while the outbox relay deletes what it published.
        let existing = menu::Entity::find()
            .filter(menu::Column::Code.eq(spec.code.clone()))
            .one(&self.db)
            .await?;
        let seq = match existing {
            Some(m) => m.seq,
            None => {
                menu::Entity::find()
                    .order_by_desc(menu::Column::Seq)
                    .one(&self.db)
                    .await?
                    .map_or(0, |m| m.seq)
                    + 1
            }
        };
        let txn = self.db.begin().await?;
        let now = self.clock.now();
        let row = menu::ActiveModel {
            id: Set(id),
            code: Set(spec.code.clone()),
            effective_from: Set(spec.effective_from.clone()),
            seq: Set(seq),
            body: Set(serde_json::to_string(&spec).map_err(AppError::internal)?),
            updated_at: Set(now.timestamp_micros()),
        };
        menu::Entity::insert(row)
            .on_conflict(
                OnConflict::column(menu::Column::Id)
                    .update_columns([menu::Column::Body, menu::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &MenuChanged {
                    code: spec.code.clone(),
                    effective_from: spec.effective_from.clone(),
                },
            )
            .await?;
        Ok(MenuView {
            spec,
            updated_at: now,
        })
    }

    /// Every stored version, parsed, in price-list order.
    async fn all_menus(&self) -> AppResult<Vec<(menu::Model, MenuSpec)>> {
        let rows = menu::Entity::find()
            .order_by_asc(menu::Column::Seq)
            .order_by_asc(menu::Column::EffectiveFrom)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|r| {
                let spec: MenuSpec = serde_json::from_str(&r.body).map_err(AppError::internal)?;
                Ok((r, spec))
            })
            .collect()
    }

    /// The version of each code in force in `m`, in price-list order.
    pub(crate) async fn menus_in(&self, m: Month) -> AppResult<Vec<(menu::Model, MenuSpec)>> {
        let key = m.to_string();
        let mut out: Vec<(menu::Model, MenuSpec)> = Vec::new();
        for (row, spec) in self.all_menus().await? {
            if row.effective_from > key {
                continue;
            }
            match out.last_mut() {
                // same code, later version (rows are ordered by seq, then effective_from)
                Some(last) if last.0.code == row.code => *last = (row, spec),
                _ => out.push((row, spec)),
            }
        }
        Ok(out)
    }

    async fn list_menus(&self, ctx: &CallCtx, req: ListMenus) -> AppResult<Page<MenuView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        let limit = req.page.limit()? as usize;
        let after = req.page.after_key()?.map(|c| c.id);
        let m = match &req.filter.month {
            Some(s) => month("filter.month", s)?,
            None => self.current_month(),
        };
        let f = &req.filter;
        let all: Vec<(menu::Model, MenuSpec)> = self
            .menus_in(m)
            .await?
            .into_iter()
            .filter(|(_, s)| {
                f.code.as_ref().is_none_or(|c| &s.code == c)
                    && f.category.as_ref().is_none_or(|c| &s.category == c)
                    && f.currency.as_ref().is_none_or(|c| &s.currency == c)
            })
            .collect();
        let total = all.len() as u64;
        let start = match after {
            Some(code) => all
                .iter()
                .position(|(r, _)| r.code == code)
                .map_or(all.len(), |i| i + 1),
            None => 0,
        };
        let rest = &all[start.min(all.len())..];
        let edges = rest
            .iter()
            .take(limit)
            .map(|(r, s)| {
                (
                    Cursor {
                        created_at_us: r.seq,
                        id: r.code.clone(),
                    }
                    .encode(),
                    MenuView {
                        spec: s.clone(),
                        updated_at: DateTime::from_timestamp_micros(r.updated_at)
                            .unwrap_or_default(),
                    },
                )
            })
            .collect();
        Ok(Page {
            edges,
            has_next_page: rest.len() > limit,
            total_count: total,
        })
    }

    async fn catalog(&self, ctx: &CallCtx) -> AppResult<Vec<CatalogEntry>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden(
                "the catalog is for platform components",
            ));
        }
        let mut out: Vec<CatalogEntry> = Vec::new();
        for (row, spec) in self.all_menus().await? {
            let plans = spec.plans.iter().map(|p| p.plan.clone());
            match out.iter_mut().find(|e| e.code == row.code) {
                Some(e) => {
                    for p in plans {
                        if !e.plans.contains(&p) {
                            e.plans.push(p);
                        }
                    }
                    // the newest version decides
                    e.resellable = spec.resellable;
                }
                None => out.push(CatalogEntry {
                    code: row.code.clone(),
                    plans: plans.collect(),
                    resellable: spec.resellable,
                }),
            }
        }
        Ok(out)
    }

    // ---- read models ------------------------------------------------------------------------

    async fn on_contract<C: ConnectionTrait>(&self, db: &C, ev: ContractChanged) -> AppResult<()> {
        let c = ev.contract;
        let kind = match c.kind {
            ContractKind::Child => "CHILD",
            ContractKind::Partner => "PARTNER",
            ContractKind::Direct => "DIRECT",
        };
        let row = contract::ActiveModel {
            id: Set(c.id),
            kind: Set(kind.into()),
            parent_id: Set(c.parent_id),
            external_id: Set(c.external_id),
        };
        contract::Entity::insert(row)
            .on_conflict(
                OnConflict::column(contract::Column::Id)
                    .update_columns([contract::Column::ExternalId])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        Ok(())
    }

    async fn on_tenant<C: ConnectionTrait>(&self, db: &C, ev: TenantChanged) -> AppResult<()> {
        // Deleted tenants are kept: their months still have bills.
        let t = ev.tenant;
        let row = tenant::ActiveModel {
            id: Set(t.id),
            contract_id: Set(t.contract_id),
            name: Set(t.name),
            region: Set(t.region),
            workspace_id: Set(t.workspace_id),
            created_at: Set(t.created_at.timestamp_micros()),
        };
        tenant::Entity::insert(row)
            .on_conflict(
                OnConflict::column(tenant::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    async fn on_usage<C: ConnectionTrait>(&self, db: &C, ev: UsageChanged) -> AppResult<()> {
        let rows: Vec<tenant_month::ActiveModel> = ev
            .tenant_months
            .into_iter()
            .map(|(t, m)| tenant_month::ActiveModel {
                id: Set(format!("{t}|{m}")),
                tenant_id: Set(t),
                month: Set(m),
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        tenant_month::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(tenant_month::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    /// Tells live `billEstimate` subscribers whose current-month estimate moved: the tenants'
    /// contracts and, a partner's bill including its children's, their partners. Past months are
    /// not announced (only the current month is estimated live).
    async fn announce_estimates(&self, ctx: &CallCtx, ev: &UsageChanged) -> AppResult<()> {
        let current = self.current_month().to_string();
        let tenant_ids: Vec<String> = ev
            .tenant_months
            .iter()
            .filter(|(_, m)| *m == current)
            .map(|(t, _)| t.clone())
            .collect();
        if tenant_ids.is_empty() {
            return Ok(());
        }
        let owners: BTreeSet<String> = tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(tenant_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| t.contract_id)
            .collect();
        let mut ids = owners.clone();
        ids.extend(
            contract::Entity::find()
                .filter(contract::Column::Id.is_in(owners))
                .all(&self.db)
                .await?
                .into_iter()
                .filter_map(|c| c.parent_id),
        );
        if ids.is_empty() {
            return Ok(());
        }
        // Straight to the bus, not the outbox: a lost hint only delays a live estimate, which
        // the next usage refreshes, and the rows it could guard are not written here.
        self.bus
            .publish(
                &ctx.trace_id,
                &proto::EstimateChanged {
                    contract_ids: ids.into_iter().collect(),
                    month: current,
                },
            )
            .await
    }

    // ---- bills ------------------------------------------------------------------------------

    /// The contracts of `ids` the caller may see and whose usage they may see.
    pub(crate) async fn visible(&self, ctx: &CallCtx, ids: Vec<String>) -> AppResult<Vec<ContractView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        if !ctx.principal.may_see_usage() {
            return Err(AppError::forbidden(
                "your role does not show usage and bills",
            ));
        }
        self.bus.call(ctx, &GetContracts { ids }).await
    }

    /// Tenants billed to a contract: its own, and for a partner its children's (roll-up).
    async fn billed_tenants(&self, contract_id: &str) -> AppResult<Vec<tenant::Model>> {
        let children: Vec<String> = contract::Entity::find()
            .filter(contract::Column::ParentId.eq(contract_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut ids = children;
        ids.insert(0, contract_id.to_string());
        let mut ts = tenant::Entity::find()
            .filter(tenant::Column::ContractId.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        // own tenants first, then each child's, each by creation
        ts.sort_by_key(|t| {
            (
                ids.iter().position(|c| *c == t.contract_id),
                t.created_at,
                t.id.clone(),
            )
        });
        Ok(ts)
    }

    /// The price list in force in a month, in price-list order.
    pub(crate) async fn price_list(&self, m: Month) -> AppResult<Vec<Menu>> {
        self.menus_in(m)
            .await?
            .iter()
            .map(|(_, s)| menus::to_menu(s))
            .collect()
    }

    /// The month's usage of tenants, as rating takes it: one `GetUsage` request per batch of
    /// tenants; each tenant's resources in bill order (price-list order, then creation).
    /// Tenants without usage are absent.
    pub(crate) async fn usage(
        &self,
        ctx: &CallCtx,
        tenants: &[tenant::Model],
        m: Month,
    ) -> AppResult<HashMap<String, Vec<Resource>>> {
        let order: HashMap<String, i64> = self
            .menus_in(m)
            .await?
            .iter()
            .map(|(r, _)| (r.code.clone(), r.seq))
            .collect();
        let mut out = HashMap::new();
        let sys = self.system(ctx);
        let requests: Vec<_> = tenants
            .chunks(USAGE_BATCH)
            .map(|chunk| {
                let req = GetUsage {
                    tenant_ids: chunk.iter().map(|t| t.id.clone()).collect(),
                    month: m.to_string(),
                };
                let (bus, sys) = (self.bus.clone(), sys.clone());
                Box::pin(async move { bus.call(&sys, &req).await })
                    as futures::future::BoxFuture<
                        'static,
                        AppResult<Vec<(String, Vec<ResourceUsage>)>>,
                    >
            })
            .collect();
        let mut replies = futures::stream::iter(requests).buffered(USAGE_IN_FLIGHT);
        while let Some(usage) = replies.next().await {
            for (tenant_id, resources) in usage? {
                if resources.is_empty() {
                    continue;
                }
                let mut resources: Vec<Resource> = resources
                    .into_iter()
                    .map(to_resource)
                    .collect::<AppResult<_>>()?;
                resources.sort_by(|a, b| {
                    (order.get(&a.menu_code), a.effective_created_at(), &a.id).cmp(&(
                        order.get(&b.menu_code),
                        b.effective_created_at(),
                        &b.id,
                    ))
                });
                out.insert(tenant_id, resources);
            }
        }
        Ok(out)
    }

    /// Rates tenants for a month at the prices of `menus` (the price list, or a child's
    /// end-user prices).
    pub(crate) fn rate_usage(
        menus: &[Menu],
        usage: &HashMap<String, Vec<Resource>>,
        m: Month,
        until: DateTime<chrono::Utc>,
    ) -> AppResult<HashMap<String, TenantCharges>> {
        let period = Period::until(m, until);
        usage
            .iter()
            .map(|(tenant_id, resources)| {
                let charges = rate_tenant(menus, resources, &period).map_err(|e| {
                    tracing::error!(tenant = %tenant_id, "rating failed: {e}");
                    AppError::conflict(format!("usage of tenant {tenant_id} cannot be rated: {e}"))
                })?;
                Ok((tenant_id.clone(), charges))
            })
            .collect()
    }

    /// Rates tenants for a month at wholesale prices.
    async fn rate(
        &self,
        ctx: &CallCtx,
        tenants: &[tenant::Model],
        m: Month,
        until: DateTime<chrono::Utc>,
    ) -> AppResult<HashMap<String, TenantCharges>> {
        let menus = self.price_list(m).await?;
        let usage = self.usage(ctx, tenants, m).await?;
        Self::rate_usage(&menus, &usage, m, until)
    }

    /// `tax`: the contract's tax setting (see [`crate::commercial::tax::tax_rule`]).
    pub(crate) fn build(
        &self,
        c: &contract::Model,
        tenants: &[tenant::Model],
        charges: &HashMap<String, TenantCharges>,
        m: Month,
        status: BillStatus,
        tax: Option<crate::commercial::tax::TaxSetting>,
    ) -> AppResult<Bill> {
        let parts: Vec<(TenantInfo, TenantCharges)> = tenants
            .iter()
            .filter_map(|t| {
                charges.get(&t.id).map(|ch| {
                    (
                        TenantInfo {
                            tenant_id: t.id.clone(),
                            name: t.name.clone(),
                            region: t.region.clone(),
                            workspace_id: t.workspace_id.clone(),
                            workspace_name: t.workspace_id.clone(),
                        },
                        ch.clone(),
                    )
                })
            })
            .collect();
        let currency = currency_of(&parts)?;
        let header = BillHeader {
            contract: ContractInfo {
                contract_id: c.id.clone(),
                external_contract_id: c.external_id.clone(),
                customer_number: c.id.clone(),
            },
            month: m,
            status,
            currency,
            tax_rule: crate::commercial::tax::tax_rule(currency, tax),
        };
        Bill::build(header, parts).map_err(|e| AppError::conflict(e.to_string()))
    }

    pub(crate) fn contract_row(view: &ContractView) -> contract::Model {
        contract::Model {
            id: view.id.clone(),
            kind: format!("{:?}", view.kind).to_uppercase(),
            parent_id: view.parent_id.clone(),
            external_id: view.external_id.clone(),
        }
    }

    pub(crate) async fn is_closed(&self, m: Month) -> AppResult<bool> {
        Ok(closed_month::Entity::find_by_id(m.to_string())
            .one(&self.db)
            .await?
            .is_some())
    }

    /// The bill of one (visible) contract for a month: the stored one once the month is closed,
    /// otherwise rated now.
    pub(crate) async fn bill(&self, ctx: &CallCtx, c: &ContractView, m: Month) -> AppResult<Bill> {
        if m > self.current_month() {
            return Err(AppError::invalid("month", format!("{m} has not begun")));
        }
        let row = Self::contract_row(c);
        if self.is_closed(m).await? {
            if let Some(f) = fixed_bill::Entity::find_by_id(format!("{}|{m}", c.id))
                .one(&self.db)
                .await?
            {
                return serde_json::from_str(&f.body).map_err(AppError::internal);
            }
            return self.build(&row, &[], &HashMap::new(), m, BillStatus::Fixed, None);
        }
        let tenants = self.billed_tenants(&c.id).await?;
        let charges = self.rate(ctx, &tenants, m, self.clock.now()).await?;
        let tax = self.tax_setting_of(&c.id).await?;
        self.build(&row, &tenants, &charges, m, BillStatus::Estimated, tax)
    }

    async fn get_bills(&self, ctx: &CallCtx, req: GetBills) -> AppResult<Vec<BillView>> {
        let m = month("month", &req.month)?;
        let mut out = Vec::new();
        for c in self.visible(ctx, req.contract_ids).await? {
            let bill = match req.day {
                None => self.bill(ctx, &c, m).await?,
                Some(day) => self.daily(ctx, &c, m, day).await?,
            };
            out.push(bill_view(&bill));
        }
        Ok(out)
    }

    /// The daily estimate: the month rated up to the end of `day` (or now, if earlier).
    async fn daily(&self, ctx: &CallCtx, c: &ContractView, m: Month, day: u32) -> AppResult<Bill> {
        if day == 0 || day > m.days() {
            return Err(AppError::invalid(
                "day",
                format!("{m} has days 1 to {}", m.days()),
            ));
        }
        if m > self.current_month() {
            return Err(AppError::invalid("month", format!("{m} has not begun")));
        }
        let end_of_day = m.start() + chrono::Duration::days(i64::from(day));
        let until = Ord::min(end_of_day, self.clock.now());
        let tenants = self.billed_tenants(&c.id).await?;
        let charges = self.rate(ctx, &tenants, m, until).await?;
        let tax = self.tax_setting_of(&c.id).await?;
        self.build(
            &Self::contract_row(c),
            &tenants,
            &charges,
            m,
            BillStatus::Estimated,
            tax,
        )
    }

    /// Months listed for a contract, newest first: the current month, then back to the first
    /// month with usage, at most [`HISTORY_MONTHS`] in all.
    async fn months_of(&self, contract_id: &str) -> AppResult<Vec<Month>> {
        let tenant_ids: Vec<String> = self
            .billed_tenants(contract_id)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        let first = tenant_month::Entity::find()
            .filter(tenant_month::Column::TenantId.is_in(tenant_ids))
            .order_by_asc(tenant_month::Column::Month)
            .one(&self.db)
            .await?
            .and_then(|r| Month::parse(&r.month).ok());
        let mut m = self.current_month();
        let mut out = vec![m];
        while out.len() < HISTORY_MONTHS && first.is_some_and(|f| m > f) {
            m = m.prev();
            out.push(m);
        }
        Ok(out)
    }

    async fn list_bills(
        &self,
        ctx: &CallCtx,
        req: ListBills,
    ) -> AppResult<Vec<(String, Page<BillView>)>> {
        let limit = req.page.limit()? as usize;
        let after = req
            .page
            .after_key()?
            .map(|c| month("after", &c.id))
            .transpose()?;
        let visible = self.visible(ctx, req.contract_ids.clone()).await?;
        let mut out = Vec::with_capacity(req.contract_ids.len());
        for id in req.contract_ids {
            let Some(c) = visible.iter().find(|c| c.id == id) else {
                out.push((id, Page::empty()));
                continue;
            };
            let months = self.months_of(&c.id).await?;
            let total = months.len() as u64;
            let rest: Vec<Month> = months
                .into_iter()
                .filter(|m| after.is_none_or(|a| *m < a))
                .collect();
            let mut edges = Vec::new();
            for m in rest.iter().take(limit) {
                edges.push((month_cursor(*m), bill_view(&self.bill(ctx, c, *m).await?)));
            }
            out.push((
                id,
                Page {
                    edges,
                    has_next_page: rest.len() > limit,
                    total_count: total,
                },
            ));
        }
        Ok(out)
    }

    async fn tenant_usage(
        &self,
        ctx: &CallCtx,
        req: GetTenantUsage,
    ) -> AppResult<Vec<TenantUsageView>> {
        let m = month("month", &req.month)?;
        let tenants = tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(req.tenant_ids.clone()))
            .all(&self.db)
            .await?;
        let contract_ids: Vec<String> = tenants
            .iter()
            .map(|t| t.contract_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let visible = self.visible(ctx, contract_ids).await?;
        let mut out = Vec::new();
        for c in &visible {
            let own: Vec<tenant::Model> = tenants
                .iter()
                .filter(|t| t.contract_id == c.id)
                .cloned()
                .collect();
            // The contract's own bill (not a partner's roll-up): its tenants' parts.
            let bill = if self.is_closed(m).await? {
                self.bill(ctx, c, m).await?
            } else {
                let charges = self.rate(ctx, &own, m, self.clock.now()).await?;
                let tax = self.tax_setting_of(&c.id).await?;
                self.build(
                    &Self::contract_row(c),
                    &own,
                    &charges,
                    m,
                    BillStatus::Estimated,
                    tax,
                )?
            };
            let lines = lines_of(&bill);
            for t in &own {
                let part = bill.tenants.iter().find(|b| b.tenant.tenant_id == t.id);
                out.push(TenantUsageView {
                    tenant_id: t.id.clone(),
                    month: m.to_string(),
                    status: status_of(bill.header.status),
                    currency: bill.header.currency.code().to_string(),
                    exact_amount: part.map_or(Decimal::ZERO, |p| p.exact_amount).to_string(),
                    total: part
                        .map_or(bill.header.currency.round_down(Decimal::ZERO), |p| p.total)
                        .to_string(),
                    lines: lines
                        .iter()
                        .filter(|l| l.tenant_id.as_deref() == Some(t.id.as_str()))
                        .cloned()
                        .collect(),
                });
            }
        }
        Ok(out)
    }

    /// Fixes every bill of a month. Only a month that is over can be closed; closing it again
    /// answers what the first close did.
    pub async fn close_month(&self, ctx: &CallCtx, month_s: &str) -> AppResult<CloseMonthResult> {
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
        let mut direct_bills: HashMap<String, Bill> = HashMap::new();
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
            if c.kind == "DIRECT" {
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
        commercial.insert(&txn).await?;
        closed_month::Entity::insert(closed_month::ActiveModel {
            month: Set(m.to_string()),
            bills: Set(n as i64),
            closed_at: Set(now.timestamp_micros()),
        })
        .exec(&txn)
        .await
        .map_err(|_| AppError::conflict(format!("{m} is being closed by another request")))?;
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

    async fn export(&self, ctx: &CallCtx, req: ExportBill) -> AppResult<ExportFile> {
        let m = month("month", &req.month)?;
        let c = self
            .visible(ctx, vec![req.contract_id.clone()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found(format!("contract {}", req.contract_id)))?;
        let bill = self.bill(ctx, &c, m).await?;
        let (suffix, body) = match req.format {
            ExportFormat::Summary => ("summary", csv_export::summary_csv(&bill)),
            ExportFormat::Detail => ("detail", csv_export::detail_csv(&bill)),
            ExportFormat::Legacy => (
                "legacy",
                csv_export::legacy_csv(
                    &bill,
                    &LegacyOptions {
                        created_at: self.clock.now(),
                        // One billing account per contract: its number is the contract id and
                        // the account's 5-digit sequence (seed 002 shows `…00001`).
                        billing_customer_number: Some(format!("{}00001", c.id)),
                    },
                ),
            ),
        };
        Ok(ExportFile {
            filename: format!("{}_{m}_{suffix}.csv", c.id),
            content_type: "text/csv; charset=utf-8".into(),
            body,
        })
    }
}

fn to_resource(r: ResourceUsage) -> AppResult<Resource> {
    let mut res = Resource::new(r.resource_id, r.menu_code);
    res.name = r.name;
    res.created_at = r.created_at;
    for iv in r.intervals {
        let quantity: Decimal = iv.quantity.parse().map_err(AppError::internal)?;
        res.intervals.push(UsageInterval {
            start: iv.start,
            end: iv.end,
            plan: iv.plan,
            status: iv.status,
            quantity,
        });
    }
    Ok(res)
}

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{closed_month, contract, fixed_bill, menu, tenant, tenant_month};
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(
            crate::NAME,
            "billing_migrations",
            |backend| {
                vec![
                    entity_ddl(backend, menu::Entity),
                    entity_ddl(backend, contract::Entity),
                    entity_ddl(backend, tenant::Entity),
                    entity_ddl(backend, tenant_month::Entity),
                    entity_ddl(backend, fixed_bill::Entity),
                    entity_ddl(backend, closed_month::Entity),
                ]
                .into_iter()
                .chain(crate::commercial::store::entity_ddls(backend))
                .collect()
            },
        )
        .await;
    }
}
