//! One error type that crosses every boundary: service → bus → gateway → client.
//!
//! Every error carries a stable [`ErrorCode`] that becomes the GraphQL `extensions.code`. The message
//! is meant for the client; internal causes are logged where they happen and replaced by a generic
//! message (see [`AppError::internal`]), so nothing internal leaks over the wire.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable, machine-readable error codes (the public API relies on these strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    InvalidInput,
    Conflict,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// The HTTP status used by the non-GraphQL endpoints (exports, health).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::InvalidInput => 400,
            ErrorCode::Conflict => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One bad field of an input and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An error as seen by a caller: a code, a client-safe message, and for invalid input its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// The first bad field (what clients read before `fields` existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every bad field of the input, so a form learns all its mistakes at once (`INVALID_INPUT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds after which a rate-limited call may be retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            field: None,
            fields: Vec::new(),
            retry_after: None,
        }
    }
    pub fn unauthenticated() -> Self {
        // Deliberately vague: never say which factor failed or whether the login id exists.
        Self::new(ErrorCode::Unauthenticated, "authentication failed")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn not_found(what: impl fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }
    /// Several bad fields at once; the message lists them all (one field: just its message).
    /// `fields` must not be empty.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        AppError {
            field: fields.first().map(|f| f.field.clone()),
            fields,
            ..Self::new(ErrorCode::InvalidInput, message)
        }
    }
    /// The same error with its fields named inside `prefix` (`password` → `owner.password`), for
    /// a use case that passes part of its input on to another service.
    pub fn within(mut self, prefix: &str) -> Self {
        let name = |f: &str| format!("{prefix}.{f}");
        self.field = self.field.as_deref().map(name);
        for f in &mut self.fields {
            f.field = name(&f.field);
        }
        self
    }
    /// `NOT_FOUND` in place of a refusal, so a caller who may not see a thing learns nothing
    /// about whether it exists; any other error (the database away, a bug) stays what it is.
    pub fn hidden_as(self, not_found: impl FnOnce() -> AppError) -> Self {
        match self.code {
            ErrorCode::Forbidden | ErrorCode::NotFound => not_found(),
            _ => self,
        }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        AppError {
            retry_after: Some(retry_after),
            ..Self::new(ErrorCode::RateLimited, "rate limit exceeded")
        }
    }
    /// Log the real cause here, send only a generic message.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4();
        tracing::error!(error_id = %id, "internal error: {cause}");
        Self::new(
            ErrorCode::Internal,
            format!("internal error (reference {id})"),
        )
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Database errors are internal, unless the database is away or busy for a moment — a connection
/// lost or terminated, the pool exhausted, a lock not granted in time — which is `UNAVAILABLE`:
/// worth retrying (event deliveries retry those for longer than other failures).
///
/// A uniqueness violation is internal here too: only the use case knows which constraint means
/// "taken", and it says so with [`OnUnique::on_unique`]; any other constraint failing is a bug,
/// not the caller's conflict.
impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if is_transient(&e) {
            tracing::warn!("database unavailable: {e}");
            return AppError::unavailable("the database is unavailable; try again");
        }
        AppError::internal(e)
    }
}

/// The table and columns of a violated uniqueness (a unique index or a primary key), from
/// PostgreSQL (SQLSTATE 23505: its table and `Key (a, b)=(…)` detail) or SQLite
/// (`UNIQUE constraint failed: t.a, t.b`). `None` for every other error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueViolation {
    pub table: String,
    pub columns: Vec<String>,
}

impl UniqueViolation {
    /// Is this the uniqueness of exactly these columns of this table?
    pub fn is_on(&self, table: &str, columns: &[&str]) -> bool {
        self.table == table
            && self
                .columns
                .iter()
                .map(String::as_str)
                .eq(columns.iter().copied())
    }
}

pub fn unique_violation(e: &sea_orm::DbErr) -> Option<UniqueViolation> {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error};
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) = e
    else {
        return None;
    };
    let Error::Database(db) = sqlx.as_ref() else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    if let Some(pg) = db.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>() {
        // "Key (contract_id, month)=(c1, 2026-01) already exists."
        let detail = pg.detail()?;
        let columns = detail.strip_prefix("Key (")?.split_once(")=")?.0;
        return Some(UniqueViolation {
            table: pg.table()?.to_string(),
            columns: columns
                .split(", ")
                .map(|c| c.trim_matches('"').to_string())
                .collect(),
        });
    }
    // "UNIQUE constraint failed: users.login_id" (one `table.column` per column of the index).
    let cols = db.message().strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut columns = Vec::new();
    for qualified in cols.split(", ") {
        let (t, c) = qualified.split_once('.')?;
        table = Some(t.to_string());
        columns.push(c.to_string());
    }
    Some(UniqueViolation {
        table: table?,
        columns,
    })
}

/// Turning the one uniqueness a use case means into its own error.
pub trait OnUnique<T> {
    /// `taken()` when the violated uniqueness is `columns` of `table`; every other database
    /// error converts as usual (internal, logged, or unavailable).
    fn on_unique(
        self,
        table: &str,
        columns: &[&str],
        taken: impl FnOnce() -> AppError,
    ) -> AppResult<T>;
}

impl<T> OnUnique<T> for Result<T, sea_orm::DbErr> {
    fn on_unique(
        self,
        table: &str,
        columns: &[&str],
        taken: impl FnOnce() -> AppError,
    ) -> AppResult<T> {
        self.map_err(|e| match unique_violation(&e) {
            Some(v) if v.is_on(table, columns) => taken(),
            _ => e.into(),
        })
    }
}

fn is_transient(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error};
    let runtime = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    match sqlx.as_ref() {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::BeginFailed => true,
        Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: connection exceptions (08…), operator intervention — the backend was
            // terminated or the server is shutting down (57P01–57P03), serialization failures
            // and deadlocks (40001, 40P01). SQLite: busy and locked (5, 6, and their extended
            // codes such as 517 busy-snapshot).
            code.starts_with("08")
                || matches!(&*code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
                || (db
                    .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                    .is_some()
                    && code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)))
        }
        _ => false,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_public_names() {
        let json = serde_json::to_string(&ErrorCode::InvalidInput).unwrap();
        assert_eq!(json, "\"INVALID_INPUT\"");
        assert_eq!(ErrorCode::RateLimited.as_str(), "RATE_LIMITED");
    }

    #[test]
    fn a_database_away_is_unavailable_other_database_errors_internal() {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        let away = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        assert_eq!(AppError::from(away).code, ErrorCode::Unavailable);
        let io = DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()),
        )));
        assert_eq!(AppError::from(io).code, ErrorCode::Unavailable);
        let bug = DbErr::Custom("no such column".into());
        assert_eq!(AppError::from(bug).code, ErrorCode::Internal);
    }

    /// A real unique violation and a real non-constraint fault, on one connection of `url`:
    /// only the uniqueness the caller names is its conflict; the others are internal.
    async fn assert_unique_violations_recognised_on(url: &str) {
        use sea_orm::{ConnectOptions, ConnectionTrait, Database};
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(1).sqlx_logging(false);
        let db = Database::connect(opts).await.unwrap();
        let table = format!("t_{}", uuid::Uuid::new_v4().simple());
        let run = |sql: String| {
            let db = db.clone();
            async move { db.execute_unprepared(&sql).await.map(|_| ()) }
        };
        run(format!(
            "CREATE TABLE {table} (id TEXT PRIMARY KEY, contract_id TEXT, month TEXT, note TEXT)"
        ))
        .await
        .unwrap();
        run(format!(
            "CREATE UNIQUE INDEX ux_{table} ON {table} (contract_id, month)"
        ))
        .await
        .unwrap();
        let insert = |id: &str, month: &str| {
            format!("INSERT INTO {table} VALUES ('{id}', 'c1', '{month}', NULL)")
        };
        run(insert("a", "2026-01")).await.unwrap();

        let taken = || AppError::conflict("that month is taken");
        let twice = run(insert("b", "2026-01")).await.unwrap_err();
        assert_eq!(
            unique_violation(&twice),
            Some(UniqueViolation {
                table: table.clone(),
                columns: vec!["contract_id".into(), "month".into()],
            })
        );
        let e = Err::<(), _>(twice).on_unique(&table, &["contract_id", "month"], taken);
        assert_eq!(e.unwrap_err().code, ErrorCode::Conflict);

        // The primary key is a uniqueness too, but not the one the caller meant.
        let same_id = run(insert("a", "2026-02")).await.unwrap_err();
        assert!(unique_violation(&same_id).is_some_and(|v| v.is_on(&table, &["id"])));
        let e = Err::<(), _>(same_id).on_unique(&table, &["contract_id", "month"], taken);
        assert_eq!(e.unwrap_err().code, ErrorCode::Internal);

        // Not a constraint at all: a column that does not exist.
        let bug = run(format!("UPDATE {table} SET nope = 1"))
            .await
            .unwrap_err();
        assert_eq!(unique_violation(&bug), None);
        let e = Err::<(), _>(bug).on_unique(&table, &["contract_id", "month"], taken);
        let e = e.unwrap_err();
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(!e.message.contains("nope"), "the cause is logged, not sent");
        run(format!("DROP TABLE {table}")).await.unwrap();
    }

    #[tokio::test]
    async fn unique_violations_are_recognised_on_sqlite() {
        assert_unique_violations_recognised_on("sqlite::memory:").await;
    }

    #[tokio::test]
    async fn unique_violations_are_recognised_on_postgresql() {
        let url = std::env::var("ECL_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        assert_unique_violations_recognised_on(&format!("{url}/postgres")).await;
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = AppError::internal("password=hunter2 table users");
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(!e.message.contains("hunter2"));
    }
}
