//! The price list: operators maintain menus (one version per code and effective month), the
//! seeded menus of the billing guide, the list readable by month, and the catalog other
//! components check usage against.

use chrono::DateTime;
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::{
    Page,
    billing::{CatalogEntry, ListMenus, MenuChanged, MenuSpec, MenuView},
    page::Cursor,
};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait, sea_query::OnConflict,
};

use crate::{
    Billing, NAME,
    entity::menu,
    menus,
    rating::{Menu, Month},
};
use std::{collections::HashMap, sync::Arc};

/// One month's price list as rating uses it.
pub(crate) struct MonthPrices {
    /// Menu code → its place in the price list (the order of a bill's lines).
    pub(crate) order: HashMap<String, i64>,
    pub(crate) menus: Vec<Menu>,
}

impl Billing {
    pub(crate) async fn seed(&self) -> AppResult<()> {
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

    pub(crate) async fn upsert_menu(&self, ctx: &CallCtx, spec: MenuSpec) -> AppResult<MenuView> {
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

    pub(crate) async fn store_menu(&self, ctx: &CallCtx, spec: MenuSpec) -> AppResult<MenuView> {
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
            effective_from: Set(spec.effective_from.to_string()),
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
                    effective_from: spec.effective_from,
                },
            )
            .await?;
        self.forget_prices();
        Ok(MenuView {
            spec,
            updated_at: now,
        })
    }

    /// The menus in force in `m`, ready to rate with, and their price-list order: parsed once per
    /// month and kept in this process until the price list changes (`MenuChanged`, from this
    /// replica or another), so rating a batch of bills reads the price list at most once.
    pub(crate) async fn prices_in(&self, m: Month) -> AppResult<Arc<MonthPrices>> {
        let key = m.to_string();
        if let Some(p) = self.prices.read().get(&key) {
            return Ok(p.clone());
        }
        let rows = self.menus_in(m).await?;
        let prices = Arc::new(MonthPrices {
            order: rows.iter().map(|(r, _)| (r.code.clone(), r.seq)).collect(),
            menus: rows
                .iter()
                .map(|(_, s)| menus::to_menu(s))
                .collect::<AppResult<_>>()?,
        });
        self.prices.write().insert(key, prices.clone());
        Ok(prices)
    }

    /// Forgets the parsed price lists (a menu changed).
    pub(crate) fn forget_prices(&self) {
        self.prices.write().clear();
    }

    /// Every stored version, parsed, in price-list order.
    pub(crate) async fn all_menus(&self) -> AppResult<Vec<(menu::Model, MenuSpec)>> {
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

    pub(crate) async fn list_menus(
        &self,
        ctx: &CallCtx,
        req: ListMenus,
    ) -> AppResult<Page<MenuView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        let m = req.filter.month.unwrap_or_else(|| self.current_month());
        let f = &req.filter;
        let all: Vec<(menu::Model, MenuSpec)> = self
            .menus_in(m)
            .await?
            .into_iter()
            .filter(|(_, s)| {
                f.code.as_ref().is_none_or(|c| &s.code == c)
                    && f.category.as_ref().is_none_or(|c| &s.category == c)
                    && f.currency.is_none_or(|c| s.currency == c)
            })
            .collect();
        // in price-list order; a cursor is a menu's (seq, code)
        let page = req.page.slice(
            all,
            |_, c| Ok((c.created_at_us, c.id.clone())),
            |(r, _), k| (r.seq, &r.code).cmp(&(k.0, &k.1)),
        )?;
        let edges = page
            .items
            .into_iter()
            .map(|(r, s)| {
                (
                    Cursor {
                        created_at_us: r.seq,
                        id: r.code.clone(),
                    },
                    MenuView {
                        spec: s,
                        updated_at: DateTime::from_timestamp_micros(r.updated_at)
                            .unwrap_or_default(),
                    },
                )
            })
            .collect();
        Ok(Page {
            edges,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            total_count: page.total_count,
        })
    }

    pub(crate) async fn catalog(&self, ctx: &CallCtx) -> AppResult<Vec<CatalogEntry>> {
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
}
