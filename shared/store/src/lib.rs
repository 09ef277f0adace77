//! Database connections and migrations for the services, on SQLite (embedded) or PostgreSQL
//! (distributed), plus the transactional outbox every service publishes its events through.
//!
//! Each service owns its tables: in PostgreSQL it gets its own schema (`search_path`), in SQLite its
//! own file (or its own in-memory database), and its own migration table.

pub mod outbox;
pub mod paging;

use anyhow::Context;
use ecl_kernel::Settings;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use std::time::Duration;

pub use outbox::Outbox;

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
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        opts.max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            });
    } else {
        let admin = Database::connect(
            ConnectOptions::new(url.clone())
                .sqlx_logging(false)
                .to_owned(),
        )
        .await
        .with_context(|| format!("connecting to PostgreSQL for service {service}"))?;
        // Two replicas starting together can race on CREATE SCHEMA even with IF NOT EXISTS.
        if let Err(e) = admin
            .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{service}\""))
            .await
        {
            let msg = e.to_string();
            if !(msg.contains("already exists") || msg.contains("duplicate key")) {
                return Err(e.into());
            }
        }
        admin.close().await?;
        opts.max_connections(16)
            .min_connections(1)
            .set_schema_search_path(service.to_string());
    }
    let db = Database::connect(opts)
        .await
        .with_context(|| format!("opening the {service} store"))?;
    Ok(db)
}

/// Creates `entity`'s table and its indexes if missing — the body of most services' migrations,
/// written once so every backend gets the same DDL from the entity definition.
pub async fn create_entity_table<E: sea_orm::EntityTrait>(
    manager: &sea_orm_migration::SchemaManager<'_>,
    entity: E,
) -> Result<(), sea_orm::DbErr> {
    let schema = sea_orm::Schema::new(manager.get_database_backend());
    manager
        .create_table(
            schema
                .create_table_from_entity(entity)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
    for mut idx in schema.create_index_from_entity(entity) {
        manager.create_index(idx.if_not_exists().to_owned()).await?;
    }
    Ok(())
}

/// Is the database answering? (readiness)
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
