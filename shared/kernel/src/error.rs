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

/// An error as seen by a caller: a code, a client-safe message, and for invalid input the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
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
        AppError {
            field: Some(field.to_string()),
            ..Self::new(ErrorCode::InvalidInput, message)
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

/// Database errors are internal, unless they are a uniqueness violation (a conflict the caller
/// caused) or the database being away or busy for a moment — a connection lost or terminated, the
/// pool exhausted, a lock not granted in time — which is `UNAVAILABLE`: worth retrying (event
/// deliveries retry those for longer than other failures).
impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
            return AppError::conflict("already exists");
        }
        if is_transient(&e) {
            tracing::warn!("database unavailable: {e}");
            return AppError::unavailable("the database is unavailable; try again");
        }
        AppError::internal(e)
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

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = AppError::internal("password=hunter2 table users");
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(!e.message.contains("hunter2"));
    }
}
