//! GraphiQL and the portal are served from the binary: the right content types, ETags that
//! answer `304 Not Modified`, gzip when asked, the portal's CSP, nothing that points off the
//! platform — and CORS, off by default and on for the configured origins (`ECL_CORS_ORIGINS`).

use crate::common;

use common::{spawn_embedded, spawn_embedded_with};
use reqwest::header;

async fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

fn h(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[actix_rt::test]
async fn assets_are_embedded_typed_cached_and_compressed() {
    let (app, gql) = spawn_embedded().await;
    let base = &gql.base;

    for (path, ty) in [
        ("/", "text/html"),
        ("/graphql", "text/html"),
        ("/graphiql/graphiql.min.js", "text/javascript"),
        ("/graphiql/graphiql.min.css", "text/css"),
        ("/graphiql/react.production.min.js", "text/javascript"),
        ("/graphiql/react-dom.production.min.js", "text/javascript"),
        ("/portal/", "text/html"),
        ("/portal/app.css", "text/css"),
        ("/portal/js/app.js", "text/javascript"),
        ("/portal/favicon.svg", "image/svg+xml"),
    ] {
        let r = get(base, path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            h(&r, "content-type").starts_with(ty),
            "{path}: {}",
            h(&r, "content-type")
        );
        assert_eq!(h(&r, "cache-control"), "no-cache", "{path}");
        assert_eq!(h(&r, "x-content-type-options"), "nosniff", "{path}");
        let etag = h(&r, "etag");
        assert!(etag.starts_with('"') && etag.len() > 10, "{path}: {etag}");
        // Revalidation: the same file answers 304 without a body.
        let again = get(base, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
        let changed = get(base, path, &[("if-none-match", "\"other\"")]).await;
        assert_eq!(changed.status(), 200, "{path}");
    }

    // GraphiQL: pinned production builds from this origin, the subscription endpoint configured.
    let page = get(base, "/", &[]).await.text().await.unwrap();
    assert!(page.contains("/graphiql/react.production.min.js"), "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    let init = get(base, "/graphiql/init.js", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("subscriptionUrl") && init.contains("/graphql/ws"));
    let react = get(base, "/graphiql/react.production.min.js", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!react.contains("development"), "the production React build");

    // gzip when accepted; the compressed GraphiQL bundle is a fraction of it.
    let plain = get(base, "/graphiql/graphiql.min.js", &[]).await;
    assert!(h(&plain, "content-encoding").is_empty());
    let plain_len = plain.bytes().await.unwrap().len();
    let gz = get(
        base,
        "/graphiql/graphiql.min.js",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(h(&gz, "content-encoding"), "gzip");
    let gz_len = gz.bytes().await.unwrap().len();
    assert!(gz_len * 3 < plain_len, "gzip {gz_len} of {plain_len}");

    // The portal: its CSP allows this origin only; /portal redirects; unknown files are 404.
    let r = get(base, "/portal/", &[]).await;
    let csp = h(&r, "content-security-policy");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let body = r.text().await.unwrap();
    assert!(body.contains("/portal/js/app.js"));
    assert!(!body.contains("http://") && !body.contains("https://"));
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}/portal"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(h(&r, "location"), "/portal/");
    for missing in [
        "/portal/nope.js",
        "/portal/../Cargo.toml",
        "/portal/..%2f..%2fCargo.toml",
    ] {
        assert_eq!(get(base, missing, &[]).await.status(), 404, "{missing}");
    }
    // CORS is off by default: no header for a foreign origin.
    let r = get(base, "/graphql", &[("origin", "https://elsewhere.example")]).await;
    assert!(h(&r, "access-control-allow-origin").is_empty());
    app.stop().await;
}

#[actix_rt::test]
async fn cors_answers_the_configured_origins_only() {
    let (app, gql) = spawn_embedded_with(std::sync::Arc::new(ecl_kernel::SystemClock), |s| {
        s.cors_origins = "http://localhost:5173, https://portal.example.com".into();
    })
    .await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{}/graphql", gql.base))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("http://localhost:5173").await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(
        h(&ok, "access-control-allow-origin"),
        "http://localhost:5173"
    );
    let allowed = h(&ok, "access-control-allow-headers").to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(h(&other, "access-control-allow-origin").is_empty());

    // A real cross-origin call gets the header and works like any other.
    let r = http
        .post(format!("{}/graphql", gql.base))
        .header(header::ORIGIN, "https://portal.example.com")
        .json(&serde_json::json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        h(&r, "access-control-allow-origin"),
        "https://portal.example.com"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
    app.stop().await;
}
