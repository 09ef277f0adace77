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
