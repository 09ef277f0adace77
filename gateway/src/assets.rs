//! Static assets embedded in the binary: GraphiQL at `GET /` (and `GET /graphql`) with its
//! pinned, vendored bundles under `/graphiql/`, and the partner portal under `/portal/`.
//!
//! Everything comes from `gateway/assets/`, compiled in by rust-embed (in debug builds too, so the
//! tests serve what a release serves; cargo rebuilds when an embedded file changes — a *new*
//! file needs this crate rebuilt, e.g. `touch gateway/src/assets.rs`). Nothing is loaded from
//! anywhere else, so both work on a machine without internet. Each response carries
//! its content type, a strong ETag (the SHA-256 of the file) with `Cache-Control: no-cache` —
//! browsers revalidate and get `304 Not Modified` while the binary is the same, and never keep a
//! stale file after an upgrade — and is gzipped when the client accepts it.

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use rust_embed::Embed;
use tower_http::compression::CompressionLayer;

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// The portal's pages are scripts and styles from this origin only; the QR code of TOTP
/// enrolment is a `data:` image; the API is this origin's `/graphql` (and `/exports/`).
const PORTAL_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router() -> Router {
    Router::new()
        .route("/", get(graphiql))
        .route("/graphiql/{file}", get(graphiql_file))
        .route("/portal", get(|| async { Redirect::permanent("/portal/") }))
        .route("/portal/", get(portal_index))
        .route("/portal/{*path}", get(portal_file))
        .layer(CompressionLayer::new())
}

/// The GraphiQL page (also what `GET /graphql` answers a browser with).
pub async fn graphiql(headers: HeaderMap) -> Response {
    serve("graphiql/index.html", &headers, None)
}

async fn graphiql_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("graphiql/{file}"), &headers, None)
}

async fn portal_index(headers: HeaderMap) -> Response {
    serve("portal/index.html", &headers, Some(PORTAL_CSP))
}

async fn portal_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("portal/{path}"), &headers, Some(PORTAL_CSP))
}

fn serve(path: &str, headers: &HeaderMap, csp: Option<&'static str>) -> Response {
    // rust-embed only knows the files it holds, so `..` or absolute paths simply miss.
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = etag(&file.metadata.sha256_hash());
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(path))],
            file.data.into_owned(),
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex etag"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if let Some(csp) = csp {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    resp
}

fn etag(hash: &[u8; 32]) -> String {
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
