//! Cursor pagination over any table ordered by (creation time, id) — the one implementation every
//! service's lists use.

use ecl_kernel::AppResult;
use ecl_proto::{Page, PageArgs, page::Cursor};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// One page of `E` rows matching `cond`, after `args.after`, with the total count of `cond`.
/// `key` gives a row's (created_at µs, id); `view` turns a row into the item.
pub async fn page<E, V, C>(
    db: &C,
    cond: Condition,
    args: &PageArgs,
    (created_col, id_col): (E::Column, E::Column),
    key: impl Fn(&E::Model) -> (i64, String),
    view: impl Fn(&E::Model) -> V,
) -> AppResult<Page<V>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let limit = args.limit()?;
    let after = args.after_key()?;
    let total = E::find().filter(cond.clone()).count(db).await?;
    let mut cond = cond;
    if let Some(Cursor { created_at_us, id }) = after {
        cond = cond.add(
            Condition::any().add(created_col.gt(created_at_us)).add(
                Condition::all()
                    .add(created_col.eq(created_at_us))
                    .add(id_col.gt(id)),
            ),
        );
    }
    let mut rows = E::find()
        .filter(cond)
        .order_by_asc(created_col)
        .order_by_asc(id_col)
        .limit(limit as u64 + 1)
        .all(db)
        .await?;
    let has_next_page = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let edges = rows
        .iter()
        .map(|r| {
            let (created_at_us, id) = key(r);
            (Cursor { created_at_us, id }.encode(), view(r))
        })
        .collect();
    Ok(Page {
        edges,
        has_next_page,
        total_count: total,
    })
}

/// One page of `E` rows for each value of `group_col` in `groups` (the same `cond` and `args`
/// for all: a DataLoader batch such as "tenants of these 100 contracts"), in two statements
/// whatever the number of groups — a grouped `COUNT` and a windowed select
/// (`ROW_NUMBER() OVER (PARTITION BY group ORDER BY created, id)`) that keeps `limit + 1` rows per
/// group — where calling [`page`] per group costs two statements per group. Groups without rows
/// get an empty page. `group_of` gives a row's group.
#[allow(clippy::too_many_arguments)]
pub async fn page_each<E, V, C>(
    db: &C,
    (group_col, groups): (E::Column, &[String]),
    cond: Condition,
    args: &PageArgs,
    (created_col, id_col): (E::Column, E::Column),
    group_of: impl Fn(&E::Model) -> String,
    key: impl Fn(&E::Model) -> (i64, String),
    view: impl Fn(&E::Model) -> V,
) -> AppResult<std::collections::HashMap<String, Page<V>>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    use sea_orm::{
        QueryTrait,
        sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, WindowStatement},
    };
    let limit = args.limit()?;
    let after = args.after_key()?;
    let mut out = std::collections::HashMap::new();
    if groups.is_empty() {
        return Ok(out);
    }
    let cond = cond.add(group_col.is_in(groups.iter().cloned()));

    let counts: Vec<(String, i64)> = E::find()
        .select_only()
        .column(group_col)
        .column_as(id_col.count(), "n")
        .filter(cond.clone())
        .group_by(group_col)
        .into_tuple()
        .all(db)
        .await?;
    let counts: std::collections::HashMap<String, u64> = counts
        .into_iter()
        .map(|(g, n)| (g, u64::try_from(n).unwrap_or(0)))
        .collect();

    let mut cond = cond;
    if let Some(Cursor { created_at_us, id }) = after {
        cond = cond.add(
            Condition::any().add(created_col.gt(created_at_us)).add(
                Condition::all()
                    .add(created_col.eq(created_at_us))
                    .add(id_col.gt(id)),
            ),
        );
    }
    let mut inner = E::find().filter(cond).into_query();
    inner.expr_window_as(
        Expr::cust("ROW_NUMBER()"),
        WindowStatement::partition_by(group_col)
            .order_by(created_col, Order::Asc)
            .order_by(id_col, Order::Asc)
            .take(),
        Alias::new("ecl_rn"),
    );
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("ecl_page"))
        .and_where(Expr::col(Alias::new("ecl_rn")).lte(limit as i64 + 1))
        .to_owned();
    let rows = E::find()
        .from_raw_sql(db.get_database_backend().build(&outer))
        .all(db)
        .await?;

    let mut by_group: std::collections::HashMap<String, Vec<(i64, String, E::Model)>> =
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
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let has_next_page = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let edges = rows
            .iter()
            .map(|(created_at_us, id, r)| {
                let cursor = Cursor {
                    created_at_us: *created_at_us,
                    id: id.clone(),
                };
                (cursor.encode(), view(r))
            })
            .collect();
        out.insert(
            g.clone(),
            Page {
                edges,
                has_next_page,
                total_count: counts.get(g).copied().unwrap_or(0),
            },
        );
    }
    Ok(out)
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
    use sea_orm::{ConnectionTrait, Database, Schema, Set, entity::prelude::*};

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
    }

    /// `page_each` answers every group exactly as `page` does for that group alone: the same
    /// edges, cursors, `hasNextPage` and totals, before and after a cursor.
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
                &PageArgs {
                    first: Some(2),
                    after: None,
                },
                cols,
                key,
                view,
            )
            .await
            .unwrap();
            first.end_cursor().map(str::to_string)
        };
        for args in [
            PageArgs {
                first: Some(2),
                after: None,
            },
            PageArgs {
                first: Some(10),
                after: None,
            },
            PageArgs {
                first: Some(1),
                after: after_second,
            },
        ] {
            let each = page_each::<item::Entity, _, _>(
                &db,
                (item::Column::Owner, &groups),
                Condition::all(),
                &args,
                cols,
                |m| m.owner.clone(),
                key,
                view,
            )
            .await
            .unwrap();
            assert_eq!(each.len(), groups.len());
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
                    (&got.edges, got.has_next_page, got.total_count),
                    (&alone.edges, alone.has_next_page, alone.total_count),
                    "group {g}, first {:?}, after {:?}",
                    args.first,
                    args.after
                );
            }
        }
    }
}
