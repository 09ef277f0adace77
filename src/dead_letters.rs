//! `ecl dead-letters list|replay`: the operator's view of the events consumers gave up on.
//!
//! Whatever carried them (in-process bus or RabbitMQ), they sit in the consuming service's own
//! store (`dead_letters`, see `ecl_store::dead_letters`); this reads the stores of every service
//! named in the settings (`ECL_DATABASE_URL` / `ECL_DATA_DIR`). A replay marks rows; the running
//! consumer picks them up within a second and deletes each one it handled.

use anyhow::Context;
use ecl_kernel::Settings;
use ecl_runtime::Need;
use ecl_store::dead_letters::{self, entity::Model};
use sea_orm::DatabaseConnection;

/// One dead letter and the service (consumer group) that holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub service: String,
    #[serde(flatten)]
    pub letter: Model,
}

/// The services with a store, or the one asked for.
fn services(only: Option<&str>) -> anyhow::Result<Vec<&'static str>> {
    let all: Vec<&'static str> = crate::targets::modules()
        .into_iter()
        .filter(|m| m.needs.contains(&Need::Store))
        .map(|m| m.name)
        .collect();
    match only {
        None => Ok(all),
        Some(s) => all
            .iter()
            .find(|n| **n == s)
            .map(|n| vec![*n])
            .with_context(|| format!("no service {s:?} with a store; known: {}", all.join(", "))),
    }
}

/// The service's store, if it was ever created (a SQLite file is not created just to look).
async fn open(settings: &Settings, service: &str) -> anyhow::Result<Option<DatabaseConnection>> {
    let url = ecl_store::url_for(settings, service);
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(path).exists() {
            return Ok(None);
        }
    }
    Ok(Some(ecl_store::connect(settings, service).await?))
}

/// Every dead letter, per service, oldest failure first.
pub async fn list(settings: &Settings, only: Option<&str>) -> anyhow::Result<Vec<DeadLetter>> {
    let mut out = Vec::new();
    for service in services(only)? {
        let Some(db) = open(settings, service).await? else {
            continue;
        };
        if !has_table(&db).await? {
            continue;
        }
        let rows = dead_letters::list(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{service}: {e}"))?;
        out.extend(rows.into_iter().map(|letter| DeadLetter {
            service: service.to_string(),
            letter,
        }));
        db.close().await.ok();
    }
    Ok(out)
}

/// Asks for a replay of `ids` (all when `None`) in each service's store; returns per service how
/// many were marked.
pub async fn replay(
    settings: &Settings,
    only: Option<&str>,
    ids: Option<&[String]>,
) -> anyhow::Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for service in services(only)? {
        let Some(db) = open(settings, service).await? else {
            continue;
        };
        if !has_table(&db).await? {
            continue;
        }
        let n = dead_letters::request_replay(&db, ids)
            .await
            .map_err(|e| anyhow::anyhow!("{service}: {e}"))?;
        if n > 0 {
            out.push((service.to_string(), n));
        }
        db.close().await.ok();
    }
    Ok(out)
}

async fn has_table(db: &DatabaseConnection) -> anyhow::Result<bool> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT 1 AS one FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'dead_letters'"
        }
        _ => "SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'dead_letters'",
    };
    // A store whose service never ran (or predates dead letters) has no table: nothing in it.
    let found = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    Ok(found.is_some())
}

/// The table `ecl dead-letters list` prints.
pub fn render(letters: &[DeadLetter]) -> String {
    if letters.is_empty() {
        return "no dead letters\n".into();
    }
    let mut out = format!(
        "{:<12} {:<38} {:<26} {:>8}  {:<20} {}\n",
        "SERVICE", "EVENT ID", "TOPIC", "ATTEMPTS", "FAILED AT", "ERROR"
    );
    for d in letters {
        let at = chrono::DateTime::from_timestamp_micros(d.letter.failed_at)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<12} {:<38} {:<26} {:>8}  {:<20} {}{}\n",
            d.service,
            d.letter.event_id,
            d.letter.topic,
            d.letter.attempts,
            at,
            d.letter.error,
            if d.letter.replay_requested {
                " (replay requested)"
            } else {
                ""
            }
        ));
    }
    out
}
