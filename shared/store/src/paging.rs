//! Cursor pagination over any table ordered by (creation time, id) — the one implementation every
//! service's lists use.

use ecl_kernel::AppResult;
use ecl_proto::{
    Page, PageArgs,
    page::{Cursor, Window},
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// `key > at` in the (created, id) order.
fn after<C: ColumnTrait>((created, id): (C, C), at: &Cursor) -> Condition {
    Condition::any().add(created.gt(at.created_at_us)).add(
        Condition::all()
            .add(created.eq(at.created_at_us))
            .add(id.gt(at.id.clone())),
    )
}

/// `key < at` in the (created, id) order.
fn before<C: ColumnTrait>((created, id): (C, C), at: &Cursor) -> Condition {
    Condition::any().add(created.lt(at.created_at_us)).add(
        Condition::all()
            .add(created.eq(at.created_at_us))
            .add(id.lt(at.id.clone())),
    )
}

/// What a window reads, and the rows beyond its far end that say whether there is a page on
/// the other side: for a forward page after a cursor, the rows up to and including it; for a
/// backward page before a cursor, the rows from it on. `None` without a cursor (nothing there).
struct Plan {
    /// The rows the page is read from, `limit + 1` of them to learn whether more follow.
    within: Condition,
    /// The rows on the other side of the cursor, if any.
    beyond: Option<Condition>,
    order: Order,
    limit: u32,
}

fn plan<C: ColumnTrait>(window: Window, cols: (C, C)) -> Plan {
    match window {
        Window::Forward { limit, after: at } => Plan {
            within: at.as_ref().map_or_else(Condition::all, |c| after(cols, c)),
            beyond: at.as_ref().map(|c| after(cols, c).not()),
            order: Order::Asc,
            limit,
        },
        Window::Backward { limit, before: at } => Plan {
            within: at.as_ref().map_or_else(Condition::all, |c| before(cols, c)),
            beyond: at.as_ref().map(|c| before(cols, c).not()),
            order: Order::Desc,
            limit,
        },
    }
}

/// One page of `E` rows matching `cond` — `args.first` after `args.after`, or `args.last`
/// before `args.before` — with the total count of `cond` (0 without its `COUNT` when
/// `args.skip_total`), and whether rows precede and follow the page (exact both ways: one more
/// `COUNT` when a cursor is given). `key` gives a row's
/// (created_at µs, id); `view` turns a row into the item. Edges are in list order either way.
pub async fn page<E, V, C>(
    db: &C,
    cond: Condition,
    args: &PageArgs,
    cols: (E::Column, E::Column),
    key: impl Fn(&E::Model) -> (i64, String),
    view: impl Fn(&E::Model) -> V,
) -> AppResult<Page<V>>
where
    E: EntityTrait,
    E::Model: Sync + crate::sqlite_reads::SqliteRow,
    C: ConnectionTrait + 'static,
{
    let window = args.window()?;
    let backward = matches!(window, Window::Backward { .. });
    let plan = plan(window, cols);
    let limit = plan.limit as usize;
    let total = if args.skip_total {
        0
    } else {
        E::find().filter(cond.clone()).count(db).await?
    };
    let beyond = match plan.beyond {
        Some(b) => E::find().filter(cond.clone().add(b)).count(db).await? > 0,
        None => false,
    };
    let mut rows = crate::sqlite_reads::all(
        db,
        E::find()
            .filter(cond.add(plan.within))
            .order_by(cols.0, plan.order.clone())
            .order_by(cols.1, plan.order)
            .limit(limit as u64 + 1),
    )
    .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if backward {
        rows.reverse();
    }
    let edges = rows
        .iter()
        .map(|r| {
            let (created_at_us, id) = key(r);
            (Cursor { created_at_us, id }, view(r))
        })
        .collect();
    let (has_next_page, has_previous_page) = if backward {
        (beyond, more)
    } else {
        (more, beyond)
    };
    Ok(Page {
        edges,
        has_next_page,
        has_previous_page,
        total_count: total,
    })
}

/// One page of `E` rows for each value of `group_col` in `groups` (the same `cond` and `args`
/// for all: a DataLoader batch such as "tenants of these 100 contracts"), in two statements
/// whatever the number of groups — a grouped `COUNT` and a windowed select
/// (`ROW_NUMBER() OVER (PARTITION BY group ORDER BY created, id)`) that keeps `limit + 1` rows per
/// group — where calling [`page`] per group costs two statements per group. With
/// `args.skip_total` the `COUNT` is left out (totals 0). Groups without rows get an empty page.
/// `group_of` gives a row's group.
#[allow(clippy::too_many_arguments)]
pub async fn page_each<E, V, C>(
    db: &C,
    groups: (E::Column, &[String]),
    cond: Condition,
    args: &PageArgs,
    order: (E::Column, E::Column),
    group_of: impl Fn(&E::Model) -> String,
    key: impl Fn(&E::Model) -> (i64, String),
    view: impl Fn(&E::Model) -> V,
) -> AppResult<std::collections::HashMap<String, Page<V>>>
where
    E: EntityTrait,
    E::Model: Sync + crate::sqlite_reads::SqliteRow,
    C: ConnectionTrait + 'static,
{
    page_each_as::<E, E::Model, V, C>(db, groups, cond, args, order, group_of, key, view).await
}

/// [`page_each`] reading only the columns of the partial model `M` (a `DerivePartialModel`
/// of `E`): a list that shows a few of a table's columns does not copy the others out of the
/// database row by row (the walk's user pages leave out the password hash and the lockout
/// counters).
#[allow(clippy::too_many_arguments)]
pub async fn page_each_as<E, M, V, C>(
    db: &C,
    (group_col, groups): (E::Column, &[String]),
    cond: Condition,
    args: &PageArgs,
    (created_col, id_col): (E::Column, E::Column),
    group_of: impl Fn(&M) -> String,
    key: impl Fn(&M) -> (i64, String),
    view: impl Fn(&M) -> V,
) -> AppResult<std::collections::HashMap<String, Page<V>>>
where
    E: EntityTrait,
    M: sea_orm::PartialModelTrait + crate::sqlite_reads::SqliteRow + Sync,
    C: ConnectionTrait + 'static,
{
    use sea_orm::QueryTrait;
    let window = args.window()?;
    let backward = matches!(window, Window::Backward { .. });
    let plan = plan(window, (created_col, id_col));
    let limit = plan.limit;
    let mut out = std::collections::HashMap::new();
    if groups.is_empty() {
        return Ok(out);
    }
    // The groups' pages straight off the list-order index, one group at a time, where the
    // store reads directly (`sqlite_reads::each_group`); one windowed statement otherwise.
    let per_group = crate::sqlite_reads::is_direct(db).then(|| {
        M::select_cols(E::find().select_only())
            .filter(
                Condition::all()
                    .add(group_col.eq(groups[0].clone()))
                    .add(cond.clone())
                    .add(plan.within.clone()),
            )
            .order_by(created_col, plan.order.clone())
            .order_by(id_col, plan.order.clone())
            .limit(u64::from(limit) + 1)
            .build(db.get_database_backend())
    });
    let cond = cond.add(group_col.is_in(groups.iter().cloned()));

    // Rows per group: all of `cond`, and those beyond the cursor (for the far side's flag).
    let count = |cond: Condition| async move {
        let counts: Vec<(String, i64)> = E::find()
            .select_only()
            .column(group_col)
            .column_as(id_col.count(), "n")
            .filter(cond)
            .group_by(group_col)
            .into_tuple()
            .all(db)
            .await?;
        Ok::<_, sea_orm::DbErr>(
            counts
                .into_iter()
                .map(|(g, n)| (g, u64::try_from(n).unwrap_or(0)))
                .collect::<std::collections::HashMap<String, u64>>(),
        )
    };
    let counts = if args.skip_total {
        std::collections::HashMap::new()
    } else {
        count(cond.clone()).await?
    };
    let beyond = match plan.beyond {
        Some(b) => count(cond.clone().add(b)).await?,
        None => std::collections::HashMap::new(),
    };

    let direct = match &per_group {
        Some(stmt) => crate::sqlite_reads::each_group::<M, C>(db, stmt, groups).await?,
        None => None,
    };
    let rows = match direct {
        Some(rows) => rows,
        None => {
            let within = cond.add(plan.within);
            let cols = (group_col, created_col, id_col);
            window_rows::<E, M, C>(db, within, plan.order, limit, cols).await?
        }
    };

    let mut by_group: std::collections::HashMap<String, Vec<(i64, String, M)>> =
        std::collections::HashMap::new();
    for r in rows {
        let (created, id) = key(&r);
        by_group
            .entry(group_of(&r))
            .or_default()
            .push((created, id, r));
    }
    for g in groups {
        let mut rows = by_group.remove(g).unwrap_or_default();
        // In reading order (backward: nearest the cursor first), cut, then in list order.
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        if backward {
            rows.reverse();
        }
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        if backward {
            rows.reverse();
        }
        let beyond = beyond.get(g).is_some_and(|n| *n > 0);
        let (has_next_page, has_previous_page) = if backward {
            (beyond, more)
        } else {
            (more, beyond)
        };
        let edges = rows
            .iter()
            .map(|(created_at_us, id, r)| {
                let cursor = Cursor {
                    created_at_us: *created_at_us,
                    id: id.clone(),
                };
                (cursor, view(r))
            })
            .collect();
        out.insert(
            g.clone(),
            Page {
                edges,
                has_next_page,
                has_previous_page,
                total_count: counts.get(g).copied().unwrap_or(0),
            },
        );
    }
    Ok(out)
}

/// A page of each group in one statement: `ROW_NUMBER() OVER (PARTITION BY group ORDER BY
/// created, id)` numbers each group's rows of `cond`, and the first `limit + 1` of each are kept.
async fn window_rows<E, M, C>(
    db: &C,
    cond: Condition,
    order: Order,
    limit: u32,
    (group_col, created_col, id_col): (E::Column, E::Column, E::Column),
) -> Result<Vec<M>, sea_orm::DbErr>
where
    E: EntityTrait,
    M: sea_orm::PartialModelTrait + crate::sqlite_reads::SqliteRow,
    C: ConnectionTrait + 'static,
{
    use sea_orm::{
        QueryTrait,
        sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, WindowStatement},
    };
    let mut inner = M::select_cols(E::find().select_only())
        .filter(cond)
        .into_query();
    inner.expr_window_as(
        Expr::cust("ROW_NUMBER()"),
        WindowStatement::partition_by(group_col)
            .order_by(created_col, order.clone())
            .order_by(id_col, order)
            .take(),
        Alias::new("ecl_rn"),
    );
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("ecl_page"))
        .and_where(Expr::col(Alias::new("ecl_rn")).lte(i64::from(limit) + 1))
        .to_owned();
    crate::sqlite_reads::all_as::<M, C>(db, db.get_database_backend().build(&outer)).await
}

/// A batch reply in the order of the request: each id with its page from `pages` (the
/// [`page_each`] results of one or more scopes), an empty page where there is none.
pub fn in_order<V>(
    ids: Vec<String>,
    mut pages: std::collections::HashMap<String, Page<V>>,
) -> Vec<(String, Page<V>)> {
    ids.into_iter()
        .map(|id| {
            let page = pages.remove(&id).unwrap_or_else(Page::empty);
            (id, page)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Database, Schema, Set, TransactionTrait, entity::prelude::*};

    mod item {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "item")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: String,
            pub owner: String,
            pub created_at: i64,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
        crate::sqlite_row!(Model {
            id,
            owner,
            created_at
        });
    }

    /// Every owner's page of items, through `page_each`.
    async fn each_owner<C: ConnectionTrait + 'static>(
        db: &C,
        groups: &[String],
        args: &PageArgs,
    ) -> std::collections::HashMap<String, Page<String>> {
        page_each::<item::Entity, _, _>(
            db,
            (item::Column::Owner, groups),
            Condition::all(),
            args,
            (item::Column::CreatedAt, item::Column::Id),
            |m| m.owner.clone(),
            |m| (m.created_at, m.id.clone()),
            |m| m.id.clone(),
        )
        .await
        .unwrap()
    }

    /// `page_each` answers every group exactly as `page` does for that group alone: the same
    /// edges, cursors, `hasNextPage` and totals, before and after a cursor — read a group at a
    /// time off the handle and in one windowed statement alike.
    #[tokio::test]
    async fn page_each_equals_page_per_group() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let backend = db.get_database_backend();
        db.execute(&Schema::new(backend).create_table_from_entity(item::Entity))
            .await
            .unwrap();
        // Group g0 has 0 rows, g1 1, … g4 4; equal creation times break ties by id.
        for g in 0..5 {
            for i in 0..g {
                item::ActiveModel {
                    id: Set(format!("i{g}-{i}")),
                    owner: Set(format!("g{g}")),
                    created_at: Set(100 + (i as i64 / 2)),
                }
                .insert(&db)
                .await
                .unwrap();
            }
        }
        let groups: Vec<String> = (0..5)
            .map(|g| format!("g{g}"))
            .chain(["none".into()])
            .collect();
        let cols = (item::Column::CreatedAt, item::Column::Id);
        let key = |m: &item::Model| (m.created_at, m.id.clone());
        let view = |m: &item::Model| m.id.clone();
        let after_second = {
            let first = page::<item::Entity, _, _>(
                &db,
                Condition::all().add(item::Column::Owner.eq("g4")),
                &PageArgs::forward(Some(2), None),
                cols,
                key,
                view,
            )
            .await
            .unwrap();
            first.end_cursor().map(Cursor::encode)
        };
        for args in [
            PageArgs::forward(Some(2), None),
            PageArgs::forward(Some(10), None),
            PageArgs::forward(Some(1), after_second.clone()),
            PageArgs {
                last: Some(2),
                ..PageArgs::default()
            },
            PageArgs {
                last: Some(1),
                before: after_second.clone(),
                ..PageArgs::default()
            },
            PageArgs {
                last: Some(10),
                before: after_second.clone(),
                ..PageArgs::default()
            },
        ] {
            let each = each_owner(&db, &groups, &args).await;
            assert_eq!(each.len(), groups.len());
            // In a transaction the store reads through sea-orm, so the pages come from the
            // one windowed statement (what PostgreSQL runs) instead of a statement per group.
            let tx = db.begin().await.unwrap();
            assert!(!crate::sqlite_reads::is_direct(&tx) && crate::sqlite_reads::is_direct(&db));
            let windowed = each_owner(&tx, &groups, &args).await;
            tx.commit().await.unwrap();
            assert_eq!(windowed, each, "{args:?}");
            for g in &groups {
                let alone = page::<item::Entity, _, _>(
                    &db,
                    Condition::all().add(item::Column::Owner.eq(g.as_str())),
                    &args,
                    cols,
                    key,
                    view,
                )
                .await
                .unwrap();
                let got = &each[g];
                assert_eq!(
                    (
                        &got.edges,
                        got.has_next_page,
                        got.has_previous_page,
                        got.total_count
                    ),
                    (
                        &alone.edges,
                        alone.has_next_page,
                        alone.has_previous_page,
                        alone.total_count
                    ),
                    "group {g}, {args:?}"
                );
            }
        }
    }

    /// Every window of a list against the list itself: a page is the slice the arguments name,
    /// in list order, with `hasPreviousPage`/`hasNextPage` saying exactly whether rows lie
    /// before and after it — forward and backward.
    #[tokio::test]
    async fn windows_are_the_slices_they_name_both_ways() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let backend = db.get_database_backend();
        db.execute(&Schema::new(backend).create_table_from_entity(item::Entity))
            .await
            .unwrap();
        let all: Vec<String> = (0..7).map(|i| format!("i{i}")).collect();
        for (i, id) in all.iter().enumerate() {
            item::ActiveModel {
                id: Set(id.clone()),
                owner: Set("o".into()),
                created_at: Set(100 + (i as i64 / 3)),
            }
            .insert(&db)
            .await
            .unwrap();
        }
        let cols = (item::Column::CreatedAt, item::Column::Id);
        let key = |m: &item::Model| (m.created_at, m.id.clone());
        let read = |args: PageArgs| {
            let db = &db;
            async move {
                page::<item::Entity, _, _>(db, Condition::all(), &args, cols, key, |m| m.id.clone())
                    .await
                    .unwrap()
            }
        };
        let cursors: Vec<String> = read(PageArgs::forward(Some(100), None))
            .await
            .edges
            .into_iter()
            .map(|(c, _)| c.encode())
            .collect();
        for n in 1..=8u32 {
            for at in 0..=all.len() {
                // Forward: after position `at - 1` (from the start when 0).
                let after = at.checked_sub(1).map(|i| cursors[i].clone());
                let p = read(PageArgs::forward(Some(n), after)).await;
                let want: Vec<&String> = all.iter().skip(at).take(n as usize).collect();
                let got: Vec<&String> = p.edges.iter().map(|(_, v)| v).collect();
                assert_eq!(got, want, "first {n} from {at}");
                assert_eq!(p.has_previous_page, at > 0, "first {n} from {at}");
                assert_eq!(p.has_next_page, at + (n as usize) < all.len());
                // Backward: before position `at` (up to the end when at == len).
                let before = cursors.get(at).cloned();
                let p = read(PageArgs {
                    last: Some(n),
                    before,
                    ..PageArgs::default()
                })
                .await;
                let from = at.saturating_sub(n as usize);
                let want: Vec<&String> = all[from..at].iter().collect();
                let got: Vec<&String> = p.edges.iter().map(|(_, v)| v).collect();
                assert_eq!(got, want, "last {n} before {at}");
                assert_eq!(p.has_previous_page, from > 0, "last {n} before {at}");
                assert_eq!(p.has_next_page, at < all.len(), "last {n} before {at}");
                assert_eq!(p.total_count, all.len() as u64);
            }
        }
    }
}
