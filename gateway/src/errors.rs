//! AppError → GraphQL error with a stable `extensions.code` (and `field` / `fields` /
//! `retryAfter` when set).

use async_graphql::{Error, ErrorExtensions, Name, Value};
use ecl_kernel::AppError;

pub fn gql(e: AppError) -> Error {
    Error::new(e.message.clone()).extend_with(|_, ext| {
        ext.set("code", e.code.as_str());
        if let Some(f) = &e.field {
            ext.set("field", f.as_str());
        }
        // Every bad field of the input, the first also as `field` for older clients.
        if !e.fields.is_empty() {
            let fields = e.fields.iter().map(|f| {
                Value::Object(
                    [
                        (Name::new("field"), Value::from(f.field.as_str())),
                        (Name::new("message"), Value::from(f.message.as_str())),
                    ]
                    .into_iter()
                    .collect(),
                )
            });
            ext.set("fields", Value::List(fields.collect()));
        }
        if let Some(r) = e.retry_after {
            ext.set("retryAfter", r);
        }
    })
}

pub trait IntoGql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> IntoGql<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(gql)
    }
}

/// An error of the request as a whole (credentials, body, limits, deadline): no field, so no
/// path and no `locations` (a made-up 0:0 location is not a valid one).
pub fn request_error(e: AppError) -> async_graphql::ServerError {
    let mut s = gql(e).into_server_error(async_graphql::Pos::default());
    s.locations.clear();
    s
}

/// A syntax error, coded, at its (1-based) location, in one line: the parser's own message is a
/// multi-line source excerpt.
pub fn syntax(e: async_graphql::ServerError) -> AppErrorAt {
    let expected = e
        .message
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or("unexpected input")
        .to_string();
    let at = e.locations.first().copied();
    let message = match at {
        Some(p) => format!(
            "syntax error at line {}, column {}: {expected}",
            p.line, p.column
        ),
        None => format!("syntax error: {expected}"),
    };
    AppErrorAt {
        error: AppError::new(ecl_kernel::ErrorCode::InvalidInput, message),
        at,
    }
}

/// An error with the place in the query it is about.
pub struct AppErrorAt {
    pub error: AppError,
    pub at: Option<async_graphql::Pos>,
}
