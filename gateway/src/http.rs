//! HTTP edge of the gateway: `POST /graphql` (GraphiQL at `GET /` and `GET /graphql` is in `assets`).

use crate::{auth, errors, schema};
use async_graphql::{Response, ServerError, dataloader::DataLoader};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::get,
};
use ecl_bus::{Bus, CallCtx};
use ecl_cache::Cache;
use ecl_kernel::ErrorCode;
use ecl_runtime::Ctx;
use schema::{EclSchema, RequestState, contract::ChildrenLoader};
use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

#[derive(Clone)]
struct Gw {
    schema: EclSchema,
    bus: Bus,
    cache: Arc<dyn Cache>,
    timeout: Duration,
    auth: Arc<auth::Auth>,
}

pub fn router(ctx: Ctx) -> Router {
    let timeout = Duration::from_millis(ctx.settings.request_timeout_ms);
    let gw = Gw {
        schema: schema::build(),
        bus: ctx.bus.clone(),
        cache: ctx.cache.clone(),
        timeout,
        auth: auth::Auth::from_ctx(&ctx),
    };
    Router::new()
        .route("/graphql", get(crate::assets::graphiql).post(graphql))
        .route("/exports/bills/{contract_id}/{file}", get(export))
        .with_state(gw)
}

async fn graphql(
    State(gw): State<Gw>,
    headers: HeaderMap,
    req: GraphQLRequest,
) -> axum::response::Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let principal = match gw.auth.resolve(&headers).await {
        Ok(p) => p,
        // Bad credentials fail the whole request: no field should run as someone else or anonymous.
        Err(e) => {
            let status =
                StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let retry_after = e.retry_after;
            let body = Response::from_errors(vec![server_error(e)]);
            let mut resp = (status, GraphQLResponse::from(body)).into_response();
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, secs.into());
            }
            return resp;
        }
    };
    let trace = headers
        .get("x-ecl-trace")
        .is_some_and(|v| v.as_bytes() == b"1");
    let counter = Arc::new(AtomicU64::new(0));
    let mut call = CallCtx::new(principal, gw.timeout);
    if let Some(t) = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split('-').nth(1))
    {
        call.trace_id = t.to_string();
    }
    call.counter = Some(counter.clone());
    let bearer = authorization.and_then(auth::bearer).map(str::to_string);
    let state = RequestState {
        bus: gw.bus.clone(),
        call,
        bearer,
        cache: gw.cache.clone(),
        gate: Default::default(),
    };
    let gate = state.gate.clone();
    let request = with_request_state(req.into_inner(), state);
    let mut resp = gate.wrap(gw.schema.execute(request)).await;
    // Parse and validation errors (syntax, unknown fields, depth/complexity limits) come from
    // async-graphql without a code: they are the client's input.
    for e in &mut resp.errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !has_code {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::InvalidInput.as_str());
        }
    }
    let n = counter.load(std::sync::atomic::Ordering::Relaxed);
    metrics::histogram!("ecl_gateway_bus_requests_per_query").record(n as f64);
    if trace {
        resp = resp.extension("busRequests", async_graphql::Value::from(n));
    }
    GraphQLResponse::from(resp).into_response()
}

/// Adds what every operation's resolvers use: the request state and its DataLoaders (one per
/// fan-out field, so each query level costs one bus request). Over HTTP and WebSocket alike.
pub(crate) fn with_request_state(
    request: async_graphql::Request,
    state: RequestState,
) -> async_graphql::Request {
    let children = DataLoader::new(ChildrenLoader(state.clone()), state.gate.spawner())
        .delay(Duration::from_millis(1));
    let request = schema::common::with_loaders(request, &state);
    schema::billing::with_loaders(request, &state)
        .data(state)
        .data(children)
}

async fn export(
    State(gw): State<Gw>,
    headers: HeaderMap,
    path: axum::extract::Path<(String, String)>,
    query: axum::extract::Query<schema::billing::ExportQuery>,
) -> axum::response::Response {
    schema::billing::export(&gw.auth, &gw.bus, gw.timeout, &headers, path, query).await
}

fn server_error(e: ecl_kernel::AppError) -> ServerError {
    errors::gql(e).into_server_error(async_graphql::Pos::default())
}
