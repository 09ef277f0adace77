//! Database connections and migrations for the services, on SQLite (embedded) or PostgreSQL
//! (distributed), plus the transactional outbox every service publishes its events through.
//!
//! Each service owns its tables: in PostgreSQL it gets its own schema (`search_path`), in SQLite its
//! own file (or its own in-memory database), and its own migration table. [`migrate`] creates the
//! schema and applies the service's migrations, serialised between replicas.
//!
//! Consumers record the events they handled in an [`Inbox`] (in the same transaction as their
//! changes), and keep the events they could not handle as dead letters an operator can replay.

pub mod dead_letters;
pub mod inbox;
pub mod list_order;
pub mod outbox;
pub mod paging;
pub mod read_models;
pub mod schema_check;
pub mod sqlite_reads;
pub mod wal;

use anyhow::Context;
use ecl_kernel::Settings;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use std::time::Duration;

pub use inbox::Inbox;
pub use outbox::Outbox;

/// Rows sqlx's SQLite worker may hand over before the reader takes them (see [`connect`]).
const ROW_CHANNEL: usize = 1024;
/// Pooled connections per service on SQLite files, unless `ECL_DB_MAX_CONNECTIONS` says (see
/// [`connect`]).
const SQLITE_CONNECTIONS: u32 = 2;

/// Where a service's data lives, derived from the settings.
pub fn url_for(settings: &Settings, service: &str) -> String {
    match settings.database_url.as_deref() {
        None => format!(
            "sqlite://{}/{service}.db?mode=rwc",
            settings.data_dir.display()
        ),
        Some(url) if url.starts_with("sqlite::memory:") => url.to_string(),
        Some(url) if url.starts_with("sqlite:") => {
            // One file per service beside the one named: data/ecl.db → data/ecl-billing.db.
            let (path, query) = url.split_once('?').unwrap_or((url, "mode=rwc"));
            let stem = path.strip_suffix(".db").unwrap_or(path);
            format!("{stem}-{service}.db?{query}")
        }
        Some(url) => url.to_string(),
    }
}

/// Opens the service's database (creating its schema or file when needed).
pub async fn connect(settings: &Settings, service: &str) -> anyhow::Result<DatabaseConnection> {
    let url = url_for(settings, service);
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    }
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite::memory:") {
        // Every connection to `:memory:` is a different database: keep exactly one.
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>);
    } else if url.starts_with("sqlite:") {
        // On every pooled connection (a PRAGMA run once on the pool reaches only one of them):
        // WAL lets readers proceed while a writer commits; NORMAL syncs at checkpoints, not at
        // every commit — durable across a process crash, as embedded mode needs.
        //
        // Two connections: SQLite takes one writer at a time anyway, and each pooled connection
        // is a sqlx worker thread whose allocator heap keeps the rows it handed over. Measured
        // (`ecl bench ingest`, 1 M events; `ecl bench walk --embedded-only`, one run each):
        // 8 → 4 → 2 connections took the month close's peak from 391 to 343 to 287 MB and its
        // time from 14.8 to 14.8 to 13.0 s, ingestion 8,875 → 8,205 → 9,379 events/s; the walk
        // 50.8 / 90.7 q/s at 1 / 32 clients with 8, 50.1 / 92.6 with 2. The embedded tests run
        // on `:memory:` with one connection, so no handler needs a second while it holds one.
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        opts.max_connections(settings.db_max_connections.unwrap_or(SQLITE_CONNECTIONS))
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                // sqlx's worker thread hands rows over a bounded channel (50 by default): a
                // longer result — a DataLoader batch's 300 tenants or 400 users — then blocks the
                // worker on every row once the channel is full, a futex wake-up per row. Room for a
                // whole page batch lets the worker run through it (rows still stream beyond it).
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .row_buffer_size(ROW_CHANNEL)
            });
    } else {
        // The schema is created by `migrate`, under the migration lock; `search_path` may name
        // a schema that does not exist yet.
        opts.max_connections(settings.db_max_connections.unwrap_or(16))
            .min_connections(1)
            .set_schema_search_path(service.to_string());
    }
    let db = Database::connect(opts)
        .await
        .with_context(|| format!("opening the {service} store"))?;
    Ok(db)
}

/// Creates the service's schema (PostgreSQL) and applies its pending migrations.
///
/// Replicas of a service that start together on a fresh database would race on `CREATE SCHEMA`
/// and `CREATE TABLE` (even with `IF NOT EXISTS`, two concurrent creations of one name collide in
/// the catalog), so on PostgreSQL all of it runs in one transaction that first takes a
/// transaction-level advisory lock keyed by the service: the others wait on the lock and then find
/// every migration applied. The lock lives on the transaction's one connection and ends with it,
/// also when the process dies. PostgreSQL's DDL is transactional, so a failed migration leaves
/// nothing half-done. SQLite has one writer per file and needs none of this.
pub async fn migrate<M: sea_orm_migration::MigratorTrait>(
    db: &DatabaseConnection,
    service: &str,
) -> anyhow::Result<()> {
    use sea_orm::TransactionTrait;
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        M::up(db, None)
            .await
            .with_context(|| format!("migrating the {service} store"))?;
        return Ok(());
    }
    let txn = db.begin().await?;
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [migration_lock_key(service).into()],
    ))
    .await
    .with_context(|| format!("taking the {service} migration lock"))?;
    ensure_schema(&txn, service).await?;
    M::up(&txn, None)
        .await
        .with_context(|| format!("migrating the {service} store"))?;
    txn.commit().await?;
    Ok(())
}

/// Creates the service's schema on PostgreSQL (SQLite: nothing to do). Callers other than
/// [`migrate`] must not race with another creator.
pub async fn ensure_schema<C: ConnectionTrait>(db: &C, service: &str) -> anyhow::Result<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "CREATE SCHEMA IF NOT EXISTS \"{}\"",
            service.replace('"', "")
        ))
        .await
        .with_context(|| format!("creating schema {service}"))?;
    }
    Ok(())
}

/// The advisory lock key of a service's migrations: FNV-1a of its name, stable across builds
/// and processes (advisory locks are per database, so test runs in other databases never wait).
fn migration_lock_key(service: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("ecl-migrate:{service}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// `CREATE INDEX idx-{table}-{column} IF NOT EXISTS`: the name sea-orm gives an entity's
/// `indexed` column, so a frozen migration builds what the entity expects (and the schema check
/// compares names too). Every service's migrations use this one helper.
pub fn index(
    table: &'static str,
    column: &'static str,
) -> sea_orm_migration::prelude::IndexCreateStatement {
    sea_orm_migration::prelude::Index::create()
        .name(format!("idx-{table}-{column}"))
        .table(table)
        .col(column)
        .if_not_exists()
        .to_owned()
}

/// `LOWER(col) LIKE '%part%'` with `part` matched literally (`%`, `_` are no wildcards): the
/// case-insensitive "contains" of list filters, the same on SQLite and PostgreSQL.
pub fn contains_ignoring_case(
    col: impl sea_orm::sea_query::IntoColumnRef,
    part: &str,
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let mut pattern = String::from("%");
    for c in part.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern).escape('\\'))
}

/// Is the database answering? (readiness)
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_lock_keys_differ_per_service_and_never_change() {
        assert_ne!(migration_lock_key("billing"), migration_lock_key("tenant"));
        // Replicas of different builds must agree on the key.
        assert_eq!(migration_lock_key("billing"), migration_lock_key("billing"));
        assert_eq!(migration_lock_key(""), 0xc5e3_97e3_30eb_d71fu64 as i64);
    }

    #[test]
    fn each_service_gets_its_own_sqlite_file() {
        let mut s = Settings::default();
        assert_eq!(
            url_for(&s, "billing"),
            "sqlite://./data/billing.db?mode=rwc"
        );
        s.database_url = Some("sqlite://data/ecl.db".into());
        assert_eq!(
            url_for(&s, "billing"),
            "sqlite://data/ecl-billing.db?mode=rwc"
        );
        s.database_url = Some("sqlite::memory:".into());
        assert_eq!(url_for(&s, "billing"), "sqlite::memory:");
        s.database_url = Some("postgres://u@h/db".into());
        assert_eq!(url_for(&s, "billing"), "postgres://u@h/db");
    }
}
