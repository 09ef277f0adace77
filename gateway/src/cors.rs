//! Cross-origin access to the API (`ECL_CORS_ORIGINS`), so a portal served from another origin
//! — a front-end team's dev server, a partner's own site — can call it from a browser. Off when
//! no origin is configured: then no CORS header is ever sent and browsers keep other origins out.

use axum::http::{HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// `None` when CORS is off. Origins are validated at startup (`Settings::load`), so an entry that
/// is still not a header value here is skipped rather than taking the gateway down.
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("x-ecl-trace"),
                HeaderName::from_static("traceparent"),
            ])
            // What a cross-origin client needs to read: back-off hints and CSV file names.
            .expose_headers([header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(Duration::from_secs(600)),
    )
}
