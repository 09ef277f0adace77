//! The `ecl` launcher: the composition root. It reads the settings, picks the implementations from
//! the URLs (SQLite or PostgreSQL, in-process bus or RabbitMQ, memory or Redis), starts the
//! requested targets and serves HTTP (health, readiness, metrics on every process; GraphQL where the
//! gateway runs). Tests build an [`App`] on port 0 exactly as `main` does.

pub mod dead_letters;
pub mod targets;

use anyhow::Context as _;
use axum::{Router, extract::State, http::StatusCode, routing::get};
use ecl_bus::Bus;
use ecl_kernel::{Settings, SharedClock, SystemClock};
use ecl_runtime::{Ctx, Need, ReadyCheck};
use std::{net::SocketAddr, sync::Arc};
use tokio::sync::watch;

/// A running set of targets.
pub struct App {
    pub addr: SocketAddr,
    pub targets: Vec<&'static str>,
    pub bus: Bus,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl App {
    /// Starts `targets` with `settings` (must run inside an actix `System`).
    pub async fn start(settings: Settings, targets: &[String]) -> anyhow::Result<App> {
        Self::start_with_clock(settings, targets, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(
        settings: Settings,
        targets: &[String],
        clock: SharedClock,
    ) -> anyhow::Result<App> {
        let modules = targets::resolve(targets).map_err(anyhow::Error::msg)?;
        let needs = |n: Need| modules.iter().any(|m| m.needs.contains(&n));
        let settings = Arc::new(settings);
        // The recorder before anything records: installed lazily by the first /metrics scrape,
        // it would lose every gauge and counter set earlier.
        let _ = ecl_kernel::telemetry::metrics();

        let transport = if needs(Need::Bus) {
            ecl_bus::connect(&settings.amqp_url, &settings.namespace)
                .await
                .context("connecting the bus (ECL_AMQP_URL)")?
        } else {
            ecl_bus::connect("memory:", &settings.namespace).await?
        };
        let cache = if needs(Need::Cache) {
            ecl_cache::connect(&settings.redis_url, &settings.namespace)
                .await
                .context("connecting the cache (ECL_REDIS_URL)")?
        } else {
            ecl_cache::connect("memory:", &settings.namespace).await?
        };
        let bus = Bus::new(transport.clone());
        let ctx = Ctx {
            settings: settings.clone(),
            bus: bus.clone(),
            cache: cache.clone(),
            clock,
        };

        let mut http = Router::new();
        let mut ready: Vec<ReadyCheck> = Vec::new();
        for m in &modules {
            let started = (m.init)(ctx.clone())
                .await
                .with_context(|| format!("starting target {}", m.name))?;
            if let Some(r) = started.http {
                http = http.merge(r);
            }
            ready.extend(started.ready);
            tracing::info!(target = m.name, "started");
        }
        let t = transport.clone();
        ready.push(Arc::new(move || {
            let ok = t.is_ready();
            Box::pin(async move { ok })
        }));
        if needs(Need::Cache) {
            let c = cache.clone();
            ready.push(Arc::new(move || {
                let c = c.clone();
                Box::pin(async move { c.ping().await })
            }));
        }

        let app = ops_routes(Arc::new(ready))
            .merge(http)
            // Enforced on the body stream itself, so every extractor (GraphQL's too) is bounded.
            .layer(tower_http::limit::RequestBodyLimitLayer::new(
                settings.body_limit_bytes,
            ))
            .layer(axum::middleware::from_fn(graphql_shaped_limit))
            .layer(axum::middleware::from_fn(count_http));
        let listener = tokio::net::TcpListener::bind(settings.http_addr)
            .await
            .with_context(|| format!("listening on {} (ECL_HTTP_ADDR)", settings.http_addr))?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            // With the peer address in each request: the gateway limits sign-ins per client.
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("http server: {e}");
            }
        });
        Ok(App {
            addr,
            targets: modules.iter().map(|m| m.name).collect(),
            bus,
            stop,
            server,
        })
    }

    /// Graceful stop: stop consuming, let in-flight messages finish, close HTTP.
    pub async fn stop(self) {
        self.bus.transport().shutdown().await;
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }
}

fn ops_routes(ready: Arc<Vec<ReadyCheck>>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz).with_state(ready))
        .route(
            "/metrics",
            get(|| async { ecl_kernel::telemetry::render_metrics() }),
        )
}

async fn readyz(State(checks): State<Arc<Vec<ReadyCheck>>>) -> (StatusCode, &'static str) {
    for c in checks.iter() {
        if !c().await {
            return (StatusCode::SERVICE_UNAVAILABLE, "not ready");
        }
    }
    (StatusCode::OK, "ready")
}

/// The body limit answers 413 in plain text; on `/graphql` every answer is a GraphQL response.
async fn graphql_shaped_limit(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::{http::header, response::IntoResponse};
    let graphql = req.uri().path() == "/graphql";
    let resp = next.run(req).await;
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().ends_with(b"json"));
    if graphql && resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        let body = serde_json::json!({"errors": [{
            "message": "the request body is too large",
            "extensions": {"code": "INVALID_INPUT"},
        }]});
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/graphql-response+json")],
            body.to_string(),
        )
            .into_response();
    }
    resp
}

async fn count_http(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = match req.uri().path() {
        p @ ("/graphql" | "/healthz" | "/readyz" | "/metrics" | "/") => p.to_string(),
        _ => "other".to_string(),
    };
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    metrics::histogram!("ecl_http_request_seconds", "path" => path.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("ecl_http_requests_total", "path" => path, "status" => resp.status().as_u16().to_string()).increment(1);
    resp
}

/// Runs `f` inside an actix `System` backed by a multi-threaded tokio runtime (what the service
/// actors need), returning its result.
pub fn run_system<F, T>(f: F) -> T
where
    F: std::future::Future<Output = T>,
{
    actix_rt::System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
    .block_on(f)
}
