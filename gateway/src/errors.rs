//! AppError → GraphQL error with a stable `extensions.code` (and `field` / `retryAfter` when set).

use async_graphql::{Error, ErrorExtensions};
use ecl_kernel::AppError;

pub fn gql(e: AppError) -> Error {
    Error::new(e.message.clone()).extend_with(|_, ext| {
        ext.set("code", e.code.as_str());
        if let Some(f) = &e.field {
            ext.set("field", f.as_str());
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
