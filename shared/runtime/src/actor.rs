//! The service actor: owns a service's state and runs its request and event handlers.
//!
//! actix runs an actor's futures on its arbiter's thread. A handler that awaited I/O there would
//! serialize the whole service. So the actor answers each message with the *future* that handles
//! it — built from the state the actor owns — and the bus consumer's task (on the multi-threaded
//! runtime) drives it: the mailbox only hands out work, handlers run concurrently on every core,
//! and a request crosses threads twice instead of four times (measured: it matters for latency).

use actix::prelude::*;
use async_trait::async_trait;
use bytes::Bytes;
use ecl_bus::{
    Bus, EventEnvelope, EventHandler, EventRouter, RequestEnvelope, RequestHandler, Router,
};
use ecl_kernel::{AppError, AppResult};
use futures::future::BoxFuture;
use std::{sync::Arc, time::Duration};

pub struct ServiceActor<S: Send + Sync + 'static> {
    name: &'static str,
    state: Arc<S>,
    requests: Arc<Router<S>>,
    events: Arc<EventRouter<S>>,
}

impl<S: Send + Sync + 'static> Actor for ServiceActor<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Bus consumers hold up to a prefetch window of messages; let them all queue here.
        ctx.set_mailbox_capacity(4096);
        tracing::debug!(service = self.name, "service actor started");
    }
}

/// A request for the service.
pub struct Deliver(pub RequestEnvelope);
impl Message for Deliver {
    type Result = BoxFuture<'static, AppResult<Bytes>>;
}

/// An event for the service.
pub struct DeliverEvent(pub EventEnvelope);
impl Message for DeliverEvent {
    type Result = BoxFuture<'static, AppResult<()>>;
}

impl<S: Send + Sync + 'static> Handler<Deliver> for ServiceActor<S> {
    type Result = MessageResult<Deliver>;

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.requests.dispatch(self.state.clone(), msg.0))
    }
}

impl<S: Send + Sync + 'static> Handler<DeliverEvent> for ServiceActor<S> {
    type Result = MessageResult<DeliverEvent>;

    fn handle(&mut self, msg: DeliverEvent, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.events
                .dispatch(self.state.clone(), msg.0, Duration::from_secs(30)),
        )
    }
}

/// A panicking handler becomes an `INTERNAL` error for its caller instead of taking the consumer
/// task (and the unacknowledged message) down with it.
async fn contain<T>(handling: BoxFuture<'static, AppResult<T>>) -> AppResult<T> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(handling)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(AppError::internal("handler panicked")))
}

/// Bridges the bus to the actor's mailbox.
struct ToActor<S: Send + Sync + 'static>(Addr<ServiceActor<S>>);

fn mailbox_err(e: MailboxError) -> AppError {
    AppError::unavailable(format!("service stopped: {e}"))
}

#[async_trait]
impl<S: Send + Sync + 'static> RequestHandler for ToActor<S> {
    async fn handle(&self, req: RequestEnvelope) -> AppResult<Bytes> {
        let handling = self.0.send(Deliver(req)).await.map_err(mailbox_err)?;
        contain(handling).await
    }
}

#[async_trait]
impl<S: Send + Sync + 'static> EventHandler for ToActor<S> {
    async fn handle(&self, ev: EventEnvelope) -> AppResult<()> {
        let handling = self.0.send(DeliverEvent(ev)).await.map_err(mailbox_err)?;
        contain(handling).await
    }
}

/// Starts the actor for `state` and attaches it to the bus as one more consumer of `name`'s
/// requests (and, when `events` handles any topic, of its event queue). Must run inside an actix
/// `System`.
pub async fn serve<S: Send + Sync + 'static>(
    bus: &Bus,
    name: &'static str,
    state: Arc<S>,
    requests: Router<S>,
    events: EventRouter<S>,
) -> anyhow::Result<Addr<ServiceActor<S>>> {
    let topics = events.topics();
    let addr = ServiceActor {
        name,
        state,
        requests: Arc::new(requests),
        events: Arc::new(events),
    }
    .start();
    bus.transport()
        .serve(name, Arc::new(ToActor(addr.clone())))
        .await?;
    if !topics.is_empty() {
        bus.transport()
            .subscribe(name, &topics, Arc::new(ToActor(addr.clone())))
            .await?;
    }
    Ok(addr)
}
