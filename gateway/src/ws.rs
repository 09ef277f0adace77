//! GraphQL over WebSocket: `GET /graphql/ws`, protocol graphql-transport-ws (the legacy
//! subscriptions-transport-ws is accepted too).
//!
//! Authentication is the HTTP one, carried in the `connection_init` payload instead of headers:
//! `{"Authorization": "Bearer <jwt>"}` or `{"X-Api-Key": "ecl_…"}` (keys in any case). The
//! payload becomes a header map and goes through the same resolver as an HTTP request; a bad
//! credential, or none, closes the connection (code 1002, reason `UNAUTHENTICATED: …`) before
//! anything runs. Each operation on the connection then gets its own request state — a fresh
//! deadline and fresh DataLoaders — exactly like an HTTP request.

use crate::{auth, http::with_request_state, schema};
use async_graphql::{
    Data, Executor, Request, Response, ServerError, http::ALL_WEBSOCKET_PROTOCOLS,
};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    Extension, Router,
    extract::{ConnectInfo, State, WebSocketUpgrade},
    http::{HeaderMap, HeaderName, HeaderValue},
    response::IntoResponse,
    routing::get,
};
use ecl_bus::{Bus, CallCtx};
use ecl_cache::Cache;
use ecl_kernel::{AppError, AppResult, Principal};
use futures::{StreamExt, stream::BoxStream};
use schema::{EclSchema, RequestState, live::Hub};
use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

#[derive(Clone)]
struct WsState {
    schema: EclSchema,
    shared: crate::http::Shared,
    bus: Bus,
    cache: Arc<dyn Cache>,
    timeout: Duration,
    hub: Hub,
    auth: Arc<auth::Auth>,
}

pub fn router(ctx: &ecl_runtime::Ctx, hub: Hub, shared: crate::http::Shared) -> Router {
    let state = WsState {
        schema: shared.checked.clone(),
        shared,
        bus: ctx.bus.clone(),
        cache: ctx.cache.clone(),
        timeout: Duration::from_millis(ctx.settings.request_timeout_ms),
        hub,
        auth: auth::Auth::from_ctx(ctx),
    };
    Router::new()
        .route("/graphql/ws", get(upgrade))
        .with_state(state)
}

async fn upgrade(
    State(st): State<WsState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    ws: WebSocketUpgrade,
) -> impl IntoResponse {
    let client = st
        .auth
        .client_addr(peer.map(|Extension(ConnectInfo(a))| a), &headers);
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let session = Arc::new(OnceLock::new());
            let executor = PerOperation {
                st: st.clone(),
                session: session.clone(),
                client,
            };
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let who = connection_init(&st, &payload).await.map_err(|e| {
                        // A close frame's reason holds at most 123 bytes.
                        let mut reason = format!("{}: {}", e.code.as_str(), e.message);
                        while reason.len() > 120 {
                            reason.pop();
                        }
                        async_graphql::Error::new(reason)
                    })?;
                    let _ = session.set(who);
                    Ok(Data::default())
                })
                .serve()
        })
}

/// Who is on the connection, fixed by `connection_init`.
struct Session {
    principal: Principal,
    bearer: Option<String>,
}

/// The `connection_init` payload's credentials as the headers an HTTP request would carry.
fn credentials(payload: &serde_json::Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let Some(fields) = payload.as_object() else {
        return headers;
    };
    for (key, value) in fields {
        let name = key.to_ascii_lowercase();
        if !matches!(name.as_str(), "authorization" | "x-api-key") {
            continue;
        }
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}

/// The caller, resolved exactly as for an HTTP request (one call: the resolver takes the headers).
async fn resolve(st: &WsState, headers: &HeaderMap) -> AppResult<Principal> {
    st.auth.resolve(headers).await
}

async fn connection_init(st: &WsState, payload: &serde_json::Value) -> AppResult<Session> {
    let headers = credentials(payload);
    match resolve(st, &headers).await? {
        // Nothing here is public: anonymous connections are refused.
        Principal::Anonymous => Err(AppError::unauthenticated()),
        principal => Ok(Session {
            principal,
            bearer: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(auth::bearer)
                .map(str::to_string),
        }),
    }
}

/// The schema, with each operation's request state added the way the HTTP handler adds it.
#[derive(Clone)]
struct PerOperation {
    st: WsState,
    session: Arc<OnceLock<Session>>,
    client: Option<std::net::IpAddr>,
}

impl Executor for PerOperation {
    async fn execute(&self, request: Request) -> Response {
        // Not used over WebSocket (every operation is a stream there); kept equivalent anyway.
        self.execute_stream(request, None)
            .next()
            .await
            .unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let refuse = |e: ServerError| {
            futures::stream::once(async move { Response::from_errors(vec![e]) }).boxed()
        };
        let Some(session) = self.session.get() else {
            return refuse(crate::errors::request_error(AppError::unauthenticated()));
        };
        // The same limits as over HTTP, before anything runs.
        let mut request = request;
        let request = match self.st.shared.limits.check_request(&mut request) {
            Ok(cost) => request.data(cost),
            Err(e) => {
                let mut s = crate::errors::request_error(e.error);
                s.locations.extend(e.at);
                return refuse(s);
            }
        };
        let state = RequestState {
            bus: self.st.bus.clone(),
            call: CallCtx::new(session.principal.clone(), self.st.timeout),
            bearer: session.bearer.clone(),
            cache: self.st.cache.clone(),
            // A stream's resolvers run outside one task's polls: its loaders batch by time only.
            gate: Default::default(),
            client: self.client,
            auth: self.st.auth.clone(),
        };
        let query = request.query.clone();
        let operation = request.operation_name.clone();
        let types = self.st.shared.types.clone();
        let request = with_request_state(request.data(self.st.hub.clone()), state);
        self.st
            .schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            // Failed fields are null in place, as over HTTP (see `nulls.rs`).
            .map(move |mut resp| {
                if resp.errors.iter().any(|e| !e.path.is_empty())
                    && let Ok(doc) = async_graphql::parser::parse_query(&query)
                {
                    crate::nulls::propagate(&types, &doc, operation.as_deref(), &mut resp);
                }
                resp
            })
            .boxed()
    }
}
