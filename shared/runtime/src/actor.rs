//! The service actor: owns a service's state and runs its request and event handlers.
//!
//! actix runs an actor's futures on its arbiter's thread. A handler that awaited I/O there would
//! serialize the whole service, so each message's future is spawned onto the multi-threaded tokio
//! runtime and the actor only awaits its completion (`ResponseFuture`): the mailbox keeps flowing
//! and handlers run on every core.

use actix::prelude::*;
use async_trait::async_trait;
use bytes::Bytes;
use ecl_bus::{
    Bus, EventEnvelope, EventHandler, EventRouter, RequestEnvelope, RequestHandler, Router,
};
use ecl_kernel::{AppError, AppResult};
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
    type Result = AppResult<Bytes>;
}

/// An event for the service.
pub struct DeliverEvent(pub EventEnvelope);
impl Message for DeliverEvent {
    type Result = AppResult<()>;
}

fn join<T: Send + 'static>(
    fut: futures::future::BoxFuture<'static, AppResult<T>>,
) -> ResponseFuture<AppResult<T>> {
    let handle = tokio::spawn(fut);
    Box::pin(async move {
        handle
            .await
            .unwrap_or_else(|e| Err(AppError::internal(format!("handler panicked: {e}"))))
    })
}

impl<S: Send + Sync + 'static> Handler<Deliver> for ServiceActor<S> {
    type Result = ResponseFuture<AppResult<Bytes>>;

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) -> Self::Result {
        join(self.requests.dispatch(self.state.clone(), msg.0))
    }
}

impl<S: Send + Sync + 'static> Handler<DeliverEvent> for ServiceActor<S> {
    type Result = ResponseFuture<AppResult<()>>;

    fn handle(&mut self, msg: DeliverEvent, _: &mut Self::Context) -> Self::Result {
        join(
            self.events
                .dispatch(self.state.clone(), msg.0, Duration::from_secs(30)),
        )
    }
}

/// Bridges the bus to the actor's mailbox.
struct ToActor<S: Send + Sync + 'static>(Addr<ServiceActor<S>>);

fn mailbox_err(e: MailboxError) -> AppError {
    AppError::unavailable(format!("service stopped: {e}"))
}

#[async_trait]
impl<S: Send + Sync + 'static> RequestHandler for ToActor<S> {
    async fn handle(&self, req: RequestEnvelope) -> AppResult<Bytes> {
        self.0.send(Deliver(req)).await.map_err(mailbox_err)?
    }
}

#[async_trait]
impl<S: Send + Sync + 'static> EventHandler for ToActor<S> {
    async fn handle(&self, ev: EventEnvelope) -> AppResult<()> {
        self.0.send(DeliverEvent(ev)).await.map_err(mailbox_err)?
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
