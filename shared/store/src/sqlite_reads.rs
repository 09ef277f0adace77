//! Bounded reads (a page, a batch of ids) run straight on a pooled SQLite connection's handle.
//!
//! Why: sqlx's SQLite driver runs every statement on a worker thread per connection and hands
//! the rows over a channel, each value copied out of SQLite (`sqlite3_value_dup`) on the worker
//! and freed on the tokio thread that decodes it. The walk's profile put 31 % of its CPU in that
//! worker — more than a quarter of it the allocator collecting frees made from another thread —
//! and 16 % more in decoding sqlx's rows. Here the handle is locked out of the worker
//! (`SqliteConnection::lock_handle`, which sqlx provides for direct calls), the statement runs
//! on the calling thread through rusqlite (the release built on sqlx's own `libsqlite3-sys`),
//! and each value goes from SQLite's memory into the field's sea-orm value type, so a model
//! reads the same here as through sea-orm. Models opt in with [`sqlite_row!`](crate::sqlite_row).
//!
//! Where it does not apply, the statement goes through sea-orm as before: PostgreSQL, a
//! transaction (its connection is not the pool's), a parameter of a type without a lossless
//! mapping here. The statement runs on a tokio worker thread, so this is for reads bounded by a
//! page or a batch, not for scans.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, FromQueryResult, Statement, Value,
    sea_query::{ColumnType, ValueType},
    sqlx,
};

pub use rusqlite;

/// A model that reads straight off SQLite: each field from the column of its name, decoded as
/// the field's own sea-orm value type decodes (so an enum or a `Month` reads as through
/// sea-orm). Implemented with [`sqlite_row!`](crate::sqlite_row).
pub trait SqliteRow: Sized {
    /// The columns read, in field order.
    const COLUMNS: &'static [&'static str];
    /// The model from `row`, whose column `at[i]` holds `COLUMNS[i]`.
    fn from_row(row: &rusqlite::Row<'_>, at: &[usize]) -> Result<Self, DbErr>;
}

/// `impl SqliteRow for Model { … }` from the model's field names (each its column's name). A
/// field left out of the list, or one the model no longer has, fails to compile.
#[macro_export]
macro_rules! sqlite_row {
    ($model:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::sqlite_reads::SqliteRow for $model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            fn from_row(
                row: &$crate::sqlite_reads::rusqlite::Row<'_>,
                at: &[usize],
            ) -> Result<Self, $crate::sqlite_reads::DbErr> {
                let mut at = at.iter().copied();
                Ok(Self {
                    $($field: $crate::sqlite_reads::column(
                        row,
                        at.next().unwrap_or(usize::MAX),
                        stringify!($field),
                    )?,)+
                })
            }
        }
    };
}

pub use sea_orm::DbErr;

/// `select.all(db)`.
pub async fn all<E, C>(db: &C, select: sea_orm::Select<E>) -> Result<Vec<E::Model>, DbErr>
where
    E: sea_orm::EntityTrait,
    E::Model: SqliteRow,
    C: ConnectionTrait + 'static,
{
    use sea_orm::QueryTrait;
    let stmt = select.build(db.get_database_backend());
    all_as::<E::Model, C>(db, stmt).await
}

/// `M::find_by_statement(stmt).all(db)`.
pub async fn all_as<M, C>(db: &C, stmt: Statement) -> Result<Vec<M>, DbErr>
where
    M: FromQueryResult + SqliteRow,
    C: ConnectionTrait + 'static,
{
    if let Some(rows) = direct::<M, C>(db, &stmt, None).await? {
        return Ok(rows);
    }
    M::find_by_statement(stmt).all(db).await
}

/// `stmt` run once for each of `groups` on one prepared statement, its first parameter bound to
/// each group in turn (`stmt` is built with `groups[0]` there), the rows of all groups in one
/// list; `None` where [`all_as`] would go through sea-orm, or when the first parameter is not
/// `groups[0]`.
///
/// Why: a page per group in one statement needs a window (`ROW_NUMBER() OVER (PARTITION BY …)`),
/// which SQLite answers by copying every row of every group into a temporary table and
/// numbering them there (a fifth of the walk's time in SQLite); a statement per group with
/// `LIMIT` reads each page straight off the list-order index. Over sqlx each would be a round
/// trip to the worker thread; here it is a rebind and a step.
pub async fn each_group<M, C>(
    db: &C,
    stmt: &Statement,
    groups: &[String],
) -> Result<Option<Vec<M>>, DbErr>
where
    M: SqliteRow,
    C: ConnectionTrait + 'static,
{
    direct::<M, C>(db, stmt, Some(groups)).await
}

/// [`read`] on a connection of `db`'s pool, its handle locked out of sqlx's worker meanwhile;
/// `None` where the statement goes through sea-orm instead (not the SQLite pool, a parameter
/// without a mapping here, or — per group — a first parameter that is not `groups[0]`).
async fn direct<M, C>(
    db: &C,
    stmt: &Statement,
    groups: Option<&[String]>,
) -> Result<Option<Vec<M>>, DbErr>
where
    M: SqliteRow,
    C: ConnectionTrait + 'static,
{
    let (Some(pool), Some(params)) = (sqlite_pool(db), params(stmt)) else {
        return Ok(None);
    };
    if let Some(groups) = groups {
        match (groups.first(), params.first()) {
            (Some(g), Some(rusqlite::types::Value::Text(p))) if g == p => {}
            _ => return Ok(None),
        }
    }
    let mut conn = pool.acquire().await.map_err(sqlx_err)?;
    let mut handle = conn.lock_handle().await.map_err(sqlx_err)?;
    let raw = handle.as_raw_handle().as_ptr();
    // SAFETY: `handle` keeps the connection locked out of sqlx's worker thread until it drops,
    // after `read` has returned; rusqlite's connection from `from_handle` does not own the
    // handle (never closes it) and is dropped inside `read`, its statement first.
    unsafe { read::<M>(raw, &stmt.sql, &params, groups) }.map(Some)
}

/// Whether reads on `db` run here (sea-orm's SQLite pool) rather than through sea-orm.
pub fn is_direct<C: ConnectionTrait + 'static>(db: &C) -> bool {
    sqlite_pool(db).is_some()
}

/// The pool behind `db` when it is sea-orm's SQLite pool (not a transaction, not PostgreSQL).
fn sqlite_pool<C: ConnectionTrait + 'static>(db: &C) -> Option<&sqlx::SqlitePool> {
    let db = (db as &dyn std::any::Any).downcast_ref::<DatabaseConnection>()?;
    match &db.inner {
        sea_orm::DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            Some(db.get_sqlite_connection_pool())
        }
        _ => None,
    }
}

fn sqlx_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string()))
}

fn sqlite_err(e: rusqlite::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::Internal(e.to_string()))
}

/// The statement's parameters as SQLite values, as sqlx binds them; `None` when one has no
/// lossless mapping here (the statement then goes through sea-orm).
fn params(stmt: &Statement) -> Option<Vec<rusqlite::types::Value>> {
    use rusqlite::types::Value as Sql;
    let Some(values) = &stmt.values else {
        return Some(Vec::new());
    };
    values
        .0
        .iter()
        .map(|v| {
            Some(match v {
                Value::Bool(b) => b.map_or(Sql::Null, |b| Sql::Integer(b.into())),
                Value::TinyInt(n) => n.map_or(Sql::Null, |n| Sql::Integer(n.into())),
                Value::SmallInt(n) => n.map_or(Sql::Null, |n| Sql::Integer(n.into())),
                Value::Int(n) => n.map_or(Sql::Null, |n| Sql::Integer(n.into())),
                Value::BigInt(n) => n.map_or(Sql::Null, Sql::Integer),
                Value::TinyUnsigned(n) => n.map_or(Sql::Null, |n| Sql::Integer(n.into())),
                Value::SmallUnsigned(n) => n.map_or(Sql::Null, |n| Sql::Integer(n.into())),
                Value::Unsigned(n) => n.map_or(Sql::Null, |n| Sql::Integer(n.into())),
                Value::BigUnsigned(n) => match n {
                    None => Sql::Null,
                    Some(n) => Sql::Integer(<i64 as TryFrom<u64>>::try_from(*n).ok()?),
                },
                Value::Float(x) => x.map_or(Sql::Null, |x| Sql::Real(x.into())),
                Value::Double(x) => x.map_or(Sql::Null, Sql::Real),
                Value::String(s) => s.as_ref().map_or(Sql::Null, |s| Sql::Text(s.clone())),
                Value::Char(c) => c.map_or(Sql::Null, |c| Sql::Text(c.to_string())),
                Value::Bytes(b) => b.as_ref().map_or(Sql::Null, |b| Sql::Blob(b.clone())),
                _ => return None,
            })
        })
        .collect()
}

/// Column `i` of `row` (named `name`) as the value type `T` decodes it: SQLite's value turned
/// into the sea-query value of `T`'s column type, then into `T`. Used by [`sqlite_row!`]'s
/// implementations.
pub fn column<T: ValueType>(row: &rusqlite::Row<'_>, i: usize, name: &str) -> Result<T, DbErr> {
    use rusqlite::types::ValueRef as V;
    let v = row.get_ref(i).map_err(sqlite_err)?;
    let t = T::column_type();
    let mismatch = || {
        DbErr::Type(format!(
            "column {name}: SQLite {} is not a {t:?}",
            v.data_type()
        ))
    };
    let value = match (&t, v) {
        (ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text, V::Text(s)) => {
            Value::String(Some(
                std::str::from_utf8(s).map_err(|_| mismatch())?.to_owned(),
            ))
        }
        (ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text, V::Null) => {
            Value::String(None)
        }
        (ColumnType::BigInteger, V::Integer(n)) => Value::BigInt(Some(n)),
        (ColumnType::BigInteger, V::Null) => Value::BigInt(None),
        (ColumnType::Integer, V::Integer(n)) => {
            Value::Int(Some(n.try_into().map_err(|_| mismatch())?))
        }
        (ColumnType::Integer, V::Null) => Value::Int(None),
        (ColumnType::SmallInteger, V::Integer(n)) => {
            Value::SmallInt(Some(n.try_into().map_err(|_| mismatch())?))
        }
        (ColumnType::SmallInteger, V::Null) => Value::SmallInt(None),
        (ColumnType::Boolean, V::Integer(n)) => Value::Bool(Some(n != 0)),
        (ColumnType::Boolean, V::Null) => Value::Bool(None),
        (ColumnType::Double, V::Real(x)) => Value::Double(Some(x)),
        (ColumnType::Double, V::Integer(n)) => Value::Double(Some(n as f64)),
        (ColumnType::Double, V::Null) => Value::Double(None),
        // sea-orm reads a decimal out of SQLite as a double (`driver/sqlx_sqlite.rs`).
        (ColumnType::Decimal(_), V::Real(x)) => Value::Decimal(Some(
            <sea_orm::prelude::Decimal as TryFrom<f64>>::try_from(x).map_err(|_| mismatch())?,
        )),
        (ColumnType::Decimal(_), V::Integer(n)) => {
            Value::Decimal(Some(sea_orm::prelude::Decimal::from(n)))
        }
        (ColumnType::Decimal(_), V::Text(s)) => Value::Decimal(Some(
            std::str::from_utf8(s)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .and_then(|x| <sea_orm::prelude::Decimal as TryFrom<f64>>::try_from(x).ok())
                .ok_or_else(mismatch)?,
        )),
        (ColumnType::Decimal(_), V::Null) => Value::Decimal(None),
        _ => return Err(mismatch()),
    };
    <T as ValueType>::try_from(value).map_err(|_| match v {
        V::Null => DbErr::Type(format!("column {name}: null")),
        _ => mismatch(),
    })
}

/// Runs `sql` on the raw handle and decodes its rows as `M` — once, or once per value of
/// `firsts` bound as the first parameter.
///
/// # Safety
/// `raw` must be an open SQLite handle that nothing else uses until this returns.
unsafe fn read<M: SqliteRow>(
    raw: *mut rusqlite::ffi::sqlite3,
    sql: &str,
    params: &[rusqlite::types::Value],
    firsts: Option<&[String]>,
) -> Result<Vec<M>, DbErr> {
    // SAFETY: as the caller promises.
    let conn = unsafe { rusqlite::Connection::from_handle(raw) }.map_err(sqlite_err)?;
    let mut st = conn.prepare(sql).map_err(sqlite_err)?;
    let names = st.column_names();
    let at = M::COLUMNS
        .iter()
        .map(|c| {
            names
                .iter()
                .position(|n| n == c)
                .ok_or_else(|| DbErr::Type(format!("column {c} is not selected")))
        })
        .collect::<Result<Vec<usize>, DbErr>>()?;
    for (i, p) in params.iter().enumerate() {
        st.raw_bind_parameter(i + 1, p).map_err(sqlite_err)?;
    }
    let mut out = Vec::new();
    let mut run = |st: &mut rusqlite::Statement<'_>| -> Result<(), DbErr> {
        // The rows' drop resets the statement; its bindings stay.
        let mut rows = st.raw_query();
        while let Some(row) = rows.next().map_err(sqlite_err)? {
            out.push(M::from_row(row, &at)?);
        }
        Ok(())
    };
    match firsts {
        None => run(&mut st)?,
        Some(firsts) => {
            for first in firsts {
                st.raw_bind_parameter(1, first.as_str())
                    .map_err(sqlite_err)?;
                run(&mut st)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{
        ActiveModelTrait, Database, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
        QueryTrait, Schema, Set, TransactionTrait, entity::prelude::*,
    };

    mod row {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "row")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: String,
            pub note: Option<String>,
            pub big: i64,
            pub maybe: Option<i64>,
            pub small: i32,
            pub flag: bool,
            pub ratio: f64,
            pub price: Decimal,
            pub kind: ecl_proto::contract::ContractKind,
            pub month: Option<ecl_kernel::Month>,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
        crate::sqlite_row!(Model {
            id,
            note,
            big,
            maybe,
            small,
            flag,
            ratio,
            price,
            kind,
            month
        });
    }

    #[derive(Debug, PartialEq, sea_orm::DerivePartialModel)]
    #[sea_orm(entity = "row::Entity")]
    struct Part {
        id: String,
        flag: bool,
    }
    crate::sqlite_row!(Part { flag, id });

    async fn db() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let schema = Schema::new(db.get_database_backend());
        db.execute(&schema.create_table_from_entity(row::Entity))
            .await
            .unwrap();
        for i in 0..6i64 {
            row::ActiveModel {
                id: Set(format!("r{i}")),
                note: Set((i % 2 == 0).then(|| format!("note é {i}"))),
                big: Set(i64::MAX - i),
                maybe: Set((i % 2 == 1).then_some(-i)),
                small: Set(i32::MIN + i as i32),
                flag: Set(i % 3 == 0),
                ratio: Set(i as f64 / 3.0),
                price: Set(Decimal::new(1234 + i, 2)),
                kind: Set(ecl_proto::contract::ContractKind::ALL[i as usize % 3]),
                month: Set((i % 2 == 0).then(|| "2026-11".parse().unwrap())),
            }
            .insert(&db)
            .await
            .unwrap();
        }
        db
    }

    /// Every column type the models use reads as sea-orm reads it, with parameters of each
    /// kind, for whole and partial models (columns found by name, in any order); in a
    /// transaction the read goes through sea-orm.
    #[tokio::test]
    async fn reads_what_sea_orm_reads() {
        let db = db().await;
        let select = || {
            row::Entity::find()
                .filter(row::Column::Id.is_in(["r0", "r1", "r3", "r4", "r5", "nope"]))
                .filter(row::Column::Big.gt(0i64))
                .filter(row::Column::Kind.ne(ecl_proto::contract::ContractKind::ALL[2]))
                .filter(row::Column::Flag.is_in([true, false]))
                .filter(row::Column::Ratio.lt(10.0))
                .order_by_asc(row::Column::Id)
        };
        let direct = all(&db, select()).await.unwrap();
        assert_eq!(direct, select().all(&db).await.unwrap());
        assert_eq!(direct.len(), 4, "{direct:?}");
        assert!(direct.iter().any(|r| r.note.is_none() && r.month.is_none()));
        assert!(direct.iter().any(|r| r.maybe.is_none()));

        let stmt = select()
            .into_partial_model::<Part>()
            .into_statement(DbBackend::Sqlite);
        let part: Vec<Part> = all_as(&db, stmt).await.unwrap();
        let expected: Vec<Part> = direct
            .iter()
            .map(|r| Part {
                id: r.id.clone(),
                flag: r.flag,
            })
            .collect();
        assert_eq!(part, expected);

        let tx = db.begin().await.unwrap();
        assert!(sqlite_pool(&tx).is_none());
        assert_eq!(all(&tx, select()).await.unwrap(), direct);
        tx.commit().await.unwrap();
    }

    /// A value SQLite holds that the field's type refuses is an error naming the column, not a
    /// guess (sqlx reads text in a `bigint` column as 0); so is a column the statement lacks.
    #[tokio::test]
    async fn a_value_of_the_wrong_type_is_an_error() {
        let db = db().await;
        db.execute_unprepared("UPDATE row SET big = 'text' WHERE id = 'r0'")
            .await
            .unwrap();
        let err = all(&db, row::Entity::find().filter(row::Column::Id.eq("r0")))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("column big"), "{err}");

        let only_id = row::Entity::find()
            .select_only()
            .column(row::Column::Id)
            .build(DbBackend::Sqlite);
        let err = all_as::<Part, _>(&db, only_id).await.unwrap_err();
        assert!(
            err.to_string().contains("column flag is not selected"),
            "{err}"
        );
    }
}
