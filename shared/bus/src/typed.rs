//! The typed face of the bus: `bus.call(&ctx, &req)` for any [`Call`], `bus.publish(&event)` for any
//! [`Event`], and the routers services use to turn envelopes back into typed handlers.

use crate::{Body, EventEnvelope, Reply, RequestEnvelope, Transport, now_ms};
use bytes::Bytes;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::{Call, Event};
use futures::future::BoxFuture;
use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Per-request context: who calls, until when, under which trace. Handlers receive it and pass it
/// on to the calls they make, so the deadline and the principal travel through the whole chain.
#[derive(Debug, Clone)]
pub struct CallCtx {
    pub principal: Principal,
    pub deadline_ms: i64,
    pub trace_id: String,
    /// Counts the bus requests made under this context, with those their handlers report (the
    /// gateway's `X-Ecl-Trace` report). A handler gets a fresh one; its count goes back with the
    /// reply.
    pub counter: Option<Arc<AtomicU64>>,
}

impl CallCtx {
    pub fn new(principal: Principal, timeout: Duration) -> Self {
        CallCtx {
            principal,
            deadline_ms: now_ms() + timeout.as_millis() as i64,
            trace_id: uuid::Uuid::new_v4().simple().to_string(),
            counter: None,
        }
    }
    /// The same deadline and trace, acting as `principal` (e.g. the system reacting to an event).
    pub fn as_principal(&self, principal: Principal) -> Self {
        CallCtx {
            principal,
            ..self.clone()
        }
    }
}

/// A cheap, cloneable handle over the configured transport.
#[derive(Clone)]
pub struct Bus {
    transport: Arc<dyn Transport>,
}

impl Bus {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Bus { transport }
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Calls `C::TARGET` with `req` and decodes the typed reply. The request travels as the value
    /// itself; only a transport that leaves the process encodes it.
    pub async fn call<C: Call>(&self, ctx: &CallCtx, req: &C) -> AppResult<C::Reply> {
        let envelope = RequestEnvelope {
            op: C::OP.to_string(),
            principal: ctx.principal.clone(),
            deadline_ms: ctx.deadline_ms,
            trace_id: ctx.trace_id.clone(),
            body: Body::typed(req.clone()),
        };
        let started = Instant::now();
        let result = self.transport.request(C::TARGET, envelope).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code.as_str(),
        };
        metrics::histogram!("ecl_bus_request_seconds", "op" => C::OP)
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("ecl_bus_requests_total", "op" => C::OP, "outcome" => outcome)
            .increment(1);
        let reply = result?;
        if let Some(counter) = &ctx.counter {
            // This request and every request its handler made (reported recursively).
            counter.fetch_add(1 + reply.bus_requests, Ordering::Relaxed);
        }
        reply.body.decode().map_err(AppError::internal)
    }

    /// Publishes `event` with a fresh id.
    pub async fn publish<E: Event>(&self, trace_id: &str, event: &E) -> AppResult<()> {
        let body = serde_json::to_vec(event).map_err(AppError::internal)?;
        self.publish_raw(
            uuid::Uuid::now_v7().to_string(),
            E::TOPIC.to_string(),
            trace_id.to_string(),
            Bytes::from(body),
        )
        .await
    }

    /// Publishes an already-encoded event (the outbox relay keeps ids stable across retries).
    pub async fn publish_raw(
        &self,
        id: String,
        topic: String,
        trace_id: String,
        body: Bytes,
    ) -> AppResult<()> {
        self.transport
            .publish(EventEnvelope {
                id,
                topic,
                trace_id,
                body,
            })
            .await
    }
}

type Handler<S> =
    Box<dyn Fn(Arc<S>, CallCtx, Body) -> BoxFuture<'static, AppResult<Body>> + Send + Sync>;

/// Operation name → typed handler, for one service's state `S`.
pub struct Router<S> {
    routes: HashMap<&'static str, Handler<S>>,
}

impl<S: Send + Sync + 'static> Default for Router<S> {
    fn default() -> Self {
        Router {
            routes: HashMap::new(),
        }
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Registers the handler of `C`. The body is decoded before the handler runs; a body that does
    /// not decode is the caller's fault (`INVALID_INPUT`).
    pub fn route<C, F, Fut>(mut self, f: F) -> Self
    where
        C: Call,
        F: Fn(Arc<S>, CallCtx, C) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<C::Reply>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.routes.insert(
            C::OP,
            Box::new(move |state, ctx, body| {
                let f = f.clone();
                Box::pin(async move {
                    // API-key scopes, enforced here for every operation of every service.
                    ctx.principal.check_key_use(C::OP, C::KEY)?;
                    let req: C = body.decode().map_err(|e| {
                        AppError::invalid("request", format!("malformed {} request: {e}", C::OP))
                    })?;
                    let reply = f(state, ctx, req).await?;
                    Ok(Body::typed(reply))
                })
            }),
        );
        self
    }

    pub fn ops(&self) -> impl Iterator<Item = &&'static str> {
        self.routes.keys()
    }

    /// Runs the handler for `req`; the reply says how many bus requests it made.
    pub fn dispatch(
        &self,
        state: Arc<S>,
        req: RequestEnvelope,
    ) -> BoxFuture<'static, AppResult<Reply>> {
        let counter = Arc::new(AtomicU64::new(0));
        let ctx = CallCtx {
            principal: req.principal,
            deadline_ms: req.deadline_ms,
            trace_id: req.trace_id,
            counter: Some(counter.clone()),
        };
        match self.routes.get(req.op.as_str()) {
            Some(h) => {
                let handling = h(state, ctx, req.body);
                Box::pin(async move {
                    let body = handling.await?;
                    Ok(Reply {
                        body,
                        bus_requests: counter.load(Ordering::Relaxed),
                    })
                })
            }
            None => {
                let op = req.op;
                Box::pin(
                    async move { Err(AppError::invalid("op", format!("unknown operation {op}"))) },
                )
            }
        }
    }
}

type EvHandler<S> =
    Box<dyn Fn(Arc<S>, CallCtx, String, Bytes) -> BoxFuture<'static, AppResult<()>> + Send + Sync>;

/// Topic → typed event handler, for one service's state `S`.
pub struct EventRouter<S> {
    routes: HashMap<&'static str, EvHandler<S>>,
}

impl<S: Send + Sync + 'static> Default for EventRouter<S> {
    fn default() -> Self {
        EventRouter {
            routes: HashMap::new(),
        }
    }
}

impl<S: Send + Sync + 'static> EventRouter<S> {
    /// Registers the handler of `E`; it gets the event id (for idempotency) and the event.
    pub fn on<E, F, Fut>(mut self, f: F) -> Self
    where
        E: Event,
        F: Fn(Arc<S>, CallCtx, String, E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<()>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.routes.insert(
            E::TOPIC,
            Box::new(move |state, ctx, id, body| {
                let f = f.clone();
                Box::pin(async move {
                    let ev: E = serde_json::from_slice(&body).map_err(|e| {
                        AppError::invalid("event", format!("malformed {} event: {e}", E::TOPIC))
                    })?;
                    f(state, ctx, id, ev).await
                })
            }),
        );
        self
    }

    pub fn topics(&self) -> Vec<&'static str> {
        self.routes.keys().copied().collect()
    }

    pub fn dispatch(
        &self,
        state: Arc<S>,
        ev: EventEnvelope,
        timeout: Duration,
    ) -> BoxFuture<'static, AppResult<()>> {
        let mut ctx = CallCtx::new(Principal::system("event"), timeout);
        ctx.trace_id = ev.trace_id;
        match self.routes.get(ev.topic.as_str()) {
            Some(h) => h(state, ctx, ev.id, ev.body),
            // Bound by pattern but not handled here: acknowledge and move on.
            None => Box::pin(async { Ok(()) }),
        }
    }
}
