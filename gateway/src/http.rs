//! HTTP edge of the gateway: `POST /graphql` (GraphiQL at `GET /` and `GET /graphql` is in `assets`).
//!
//! Every answer of `POST /graphql` is a GraphQL response body (`{"data"?, "errors"?}`, each error
//! with an `extensions.code`), whatever went wrong. HTTP statuses:
//!
//! | status | when | `data` |
//! | --- | --- | --- |
//! | 200 | the operation ran (field errors, if any, are in `errors` and their fields `null`) | present |
//! | 400 | it never ran: the body is not one GraphQL request (not JSON, a batch, no `query`), a syntax or validation error, or a limit (query length, depth, complexity, aliases, selections) | absent |
//! | 401 | bad, expired or doubled credentials (`UNAUTHENTICATED`) | absent |
//! | 413 | the body is over `ECL_BODY_LIMIT_BYTES` | absent |
//! | 415 | a content type other than JSON (multipart uploads are not accepted) | absent |
//! | 429 | an API key over its rate, or an operation whose every result was refused as `RATE_LIMITED` (a sign-in flood); with `Retry-After` | absent / `null` |
//! | 503 | the operation passed its deadline (`ECL_REQUEST_TIMEOUT_MS`), or produced nothing because a service was `UNAVAILABLE` | `null` |

use crate::{auth, errors, limits::QueryLimits, nulls::Types, schema};
use async_graphql::{Response, ServerError, Value, dataloader::DataLoader};
use axum::{
    Extension, Router,
    body::Bytes,
    extract::{ConnectInfo, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use ecl_bus::{Bus, CallCtx};
use ecl_cache::Cache;
use ecl_kernel::{AppError, ErrorCode};
use ecl_runtime::Ctx;
use schema::{EclSchema, RequestState};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

/// What the HTTP and WebSocket edges share: one schema and what checks its requests.
#[derive(Clone)]
pub struct Shared {
    /// Runs operations (see `schema::build`).
    pub schema: EclSchema,
    /// With the complexity extension (see `schema::build_checked`).
    pub checked: EclSchema,
    pub limits: QueryLimits,
    pub types: Arc<Types>,
}

#[derive(Clone)]
struct Gw {
    shared: Shared,
    bus: Bus,
    cache: Arc<dyn Cache>,
    timeout: Duration,
    auth: Arc<auth::Auth>,
    max_response_bytes: usize,
}

pub fn router(ctx: Ctx, shared: Shared) -> Router {
    let timeout = Duration::from_millis(ctx.settings.request_timeout_ms);
    let gw = Gw {
        shared,
        bus: ctx.bus.clone(),
        cache: ctx.cache.clone(),
        timeout,
        auth: auth::Auth::from_ctx(&ctx),
        max_response_bytes: ctx.settings.max_response_bytes,
    };
    Router::new()
        .route("/graphql", get(crate::assets::graphiql).post(graphql))
        .route("/exports/bills/{contract_id}/{file}", get(export))
        .with_state(gw)
}

/// A request that never ran: its status, its one error (boxed: an error with its field list is
/// large, and this is the `Err` of every step of a request) and where in the query it is.
struct Refused(StatusCode, Box<AppError>, Option<async_graphql::Pos>);

impl From<AppError> for Refused {
    fn from(e: AppError) -> Self {
        let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        Refused(status, Box::new(e), None)
    }
}

impl From<errors::AppErrorAt> for Refused {
    fn from(e: errors::AppErrorAt) -> Self {
        Refused(StatusCode::BAD_REQUEST, Box::new(e.error), e.at)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> axum::response::Response {
        let Refused(status, e, at) = self;
        let retry_after = e.retry_after;
        let mut error = errors::request_error(*e);
        error.locations.extend(at);
        let body = Body {
            data: None,
            errors: &[error],
            extensions: &BTreeMap::new(),
        };
        let mut resp = (
            status,
            [(header::CONTENT_TYPE, GRAPHQL_JSON)],
            serde_json::to_vec(&body).unwrap_or_default(),
        )
            .into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

const GRAPHQL_JSON: HeaderValue = HeaderValue::from_static("application/graphql-response+json");

/// The body as one GraphQL request (JSON only: no batches, no multipart uploads).
fn parse_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<async_graphql::Request, Refused> {
    let invalid = |m: String| {
        Refused(
            StatusCode::BAD_REQUEST,
            AppError::new(ErrorCode::InvalidInput, m).into(),
            None,
        )
    };
    let body = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::new(ErrorCode::InvalidInput, "the request body is too large").into(),
                None,
            )
        }
        _ => invalid("the request body could not be read".into()),
    })?;
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(Refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                AppError::new(
                    ErrorCode::InvalidInput,
                    "send the request as application/json: {\"query\": …, \"variables\": …}",
                )
                .into(),
                None,
            ));
        }
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(invalid(
            "batched requests are not supported: send one operation per request".into(),
        ));
    }
    serde_json::from_slice::<async_graphql::Request>(&body).map_err(|e| {
        invalid(format!(
            "the body is not a GraphQL request ({{\"query\": …, \"operationName\": …, \
             \"variables\": {{…}}}}): {e}"
        ))
    })
}

/// A GraphQL response body; `data` is left out when the operation never ran (spec §7.1.2).
#[derive(serde::Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, Value>,
}

async fn graphql(
    State(gw): State<Gw>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> axum::response::Response {
    match run(&gw, peer.map(|Extension(ConnectInfo(a))| a), &headers, body).await {
        Ok(resp) => resp,
        Err(refused) => refused.into_response(),
    }
}

async fn run(
    gw: &Gw,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::response::Response, Refused> {
    let mut request = parse_body(headers, body)?;
    // Bad credentials fail the whole request: no field should run as someone else or anonymous.
    let principal = gw.auth.resolve(headers).await?;
    // The cost goes with the request: the complexity limit adds its introspection price.
    let cost = gw.shared.limits.check_request(&mut request)?;
    let request = request.data(cost);
    let operation_name = request.operation_name.clone();
    let query = request.query.clone();
    let variables = request.variables.clone();

    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
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
        gate: crate::batch::PollGate::gated(),
        client: gw.auth.client_addr(peer, headers),
        auth: gw.auth.clone(),
    };
    let gate = state.gate.clone();
    let request = with_request_state(request, state);
    // The whole operation runs under the request's deadline, not only each bus call: a query
    // that waits on many calls in turn is answered when the deadline passes, not after them.
    // Only the checked schema prices introspection.
    let schema = if cost.introspection > 0.0 {
        &gw.shared.checked
    } else {
        &gw.shared.schema
    };
    let mut resp = match tokio::time::timeout(gw.timeout, gate.wrap(schema.execute(request))).await
    {
        Ok(resp) if refused_as_too_complex(&resp) => {
            // Validated again (nothing runs: the same complexity is refused again) for the
            // refusal that says the cost and the limit.
            let again = async_graphql::Request::new(query.clone())
                .variables(variables)
                .data(cost);
            let again = match &operation_name {
                Some(op) => again.operation_name(op.clone()),
                None => again,
            };
            gw.shared.checked.execute(again).await
        }
        Ok(resp) => resp,
        Err(_) => {
            metrics::counter!("ecl_gateway_deadline_exceeded_total").increment(1);
            let mut r = Response::new(Value::Null);
            r.errors
                .push(errors::request_error(AppError::unavailable(format!(
                    "the request passed its deadline of {} ms",
                    gw.timeout.as_millis()
                ))));
            return Ok(reply(&r, true, gw.max_response_bytes));
        }
    };
    // Parse and validation errors (unknown fields, depth/complexity limits) come from
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
    let executed =
        !matches!(resp.data, Value::Null) || resp.errors.iter().any(|e| !e.path.is_empty());
    // Parsed again only when a field failed (the executed document is gone by now).
    if executed
        && resp.errors.iter().any(|e| !e.path.is_empty())
        && let Ok(doc) = async_graphql::parser::parse_query(&query)
    {
        crate::nulls::propagate(&gw.shared.types, &doc, operation_name.as_deref(), &mut resp);
    }
    let n = counter.load(std::sync::atomic::Ordering::Relaxed);
    metrics::histogram!("ecl_gateway_bus_requests_per_query").record(n as f64);
    if trace {
        resp = resp.extension("busRequests", Value::from(n));
    }
    Ok(reply(&resp, executed, gw.max_response_bytes))
}

/// async-graphql's own complexity refusal (`schema::build`'s limit), which says no figures.
fn refused_as_too_complex(resp: &Response) -> bool {
    matches!(resp.data, Value::Null)
        && resp.errors.len() == 1
        && resp.errors[0].path.is_empty()
        && resp.errors[0].message == "Query is too complex."
}

/// The HTTP answer of a response (see the status table at the top).
fn reply(resp: &Response, executed: bool, max_bytes: usize) -> axum::response::Response {
    let code = |e: &ServerError| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
    };
    let status = if !executed {
        StatusCode::BAD_REQUEST
    } else if matches!(resp.data, Value::Null) && !resp.errors.is_empty() {
        let first = code(&resp.errors[0]);
        let all_same = resp.errors.iter().all(|e| code(e) == first);
        match first.as_deref() {
            Some("RATE_LIMITED") if all_same => StatusCode::TOO_MANY_REQUESTS,
            Some("UNAVAILABLE") if all_same => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::OK,
        }
    } else {
        StatusCode::OK
    };
    let retry_after = resp
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("retryAfter"))
        .filter_map(|v| match v {
            Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .max();
    let body = Body {
        data: executed.then_some(&resp.data),
        errors: &resp.errors,
        extensions: &resp.extensions,
    };
    // Serialized into a capped buffer: an answer over the cap is refused, never built in full.
    let mut out = Capped {
        buf: Vec::new(),
        max: max_bytes,
    };
    if serde_json::to_writer(&mut out, &body).is_err() {
        metrics::counter!("ecl_gateway_responses_too_large_total").increment(1);
        let mut r = Response::new(Value::Null);
        r.errors.push(errors::request_error(AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "the response would exceed {max_bytes} bytes; ask for fewer fields or smaller pages"
            ),
        )));
        return reply(&r, true, max_bytes);
    }
    let mut http = (status, [(header::CONTENT_TYPE, GRAPHQL_JSON)], out.buf).into_response();
    if let Some(secs) = retry_after {
        http.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    http
}

/// A writer that fails once `max` bytes would be passed.
struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + b.len() > self.max {
            return Err(std::io::Error::other("response too large"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Adds what every operation's resolvers use: the request state and its DataLoaders (one per
/// fan-out field, so each query level costs one bus request). Over HTTP and WebSocket alike.
pub(crate) fn with_request_state(
    request: async_graphql::Request,
    state: RequestState,
) -> async_graphql::Request {
    let contracts = DataLoader::new(
        schema::contract::ContractLoader(state.clone()),
        state.gate.spawner(),
    )
    .delay(state.gate.delay());
    let request = schema::common::with_loaders(request, &state);
    let request = schema::sla::with_loaders(request, &state);
    schema::billing::with_loaders(request, &state)
        .data(state)
        .data(contracts)
}

async fn export(
    State(gw): State<Gw>,
    headers: HeaderMap,
    path: axum::extract::Path<(String, String)>,
    query: axum::extract::Query<schema::billing::ExportQuery>,
) -> axum::response::Response {
    schema::billing::export(&gw.auth, &gw.bus, gw.timeout, &headers, path, query).await
}
