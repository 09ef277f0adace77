//! The service actor: owns a service's state and runs its request and event handlers.
//!
//! actix runs an actor's futures on its arbiter's thread. A handler that awaited I/O there would
//! serialize the whole service. So the actor answers each message with the *future* that handles
//! it — built from the state the actor owns — and the bus consumer's task (on the multi-threaded
//! runtime) drives it: the mailbox only hands out work, handlers run concurrently on every core,
//! and a request crosses threads twice instead of four times (measured: it matters for latency).

use actix::prelude::*;
use async_trait::async_trait;
use ecl_bus::{
    Bus, EventEnvelope, EventHandler, EventRouter, Reply, RequestEnvelope, RequestHandler, Router,
};
use ecl_kernel::{AppError, AppResult};
use ecl_store::Inbox;
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
    type Result = BoxFuture<'static, AppResult<Reply>>;
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

/// Bridges the bus to the actor's mailbox; with the service's inbox, where its dead letters go.
struct ToActor<S: Send + Sync + 'static>(Addr<ServiceActor<S>>, Option<Inbox>);

fn mailbox_err(e: MailboxError) -> AppError {
    AppError::unavailable(format!("service stopped: {e}"))
}

#[async_trait]
impl<S: Send + Sync + 'static> RequestHandler for ToActor<S> {
    async fn handle(&self, req: RequestEnvelope) -> AppResult<Reply> {
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

    async fn dead_letter(
        &self,
        ev: EventEnvelope,
        error: AppError,
        attempts: u32,
    ) -> AppResult<()> {
        match &self.1 {
            Some(inbox) => inbox.dead_letter(&ev, &error, attempts).await,
            None => {
                tracing::error!(topic = %ev.topic, id = %ev.id, attempts, "event dropped (no store to keep it): {error}");
                Ok(())
            }
        }
    }
}

/// Runs the replays an operator asked for (`ecl dead-letters replay`): each claimed dead letter
/// goes through the handler once (and so through the inbox); handled ones are deleted, failing
/// ones stay with their new error.
async fn replay_dead_letters(inbox: Inbox, handler: Arc<dyn EventHandler>) {
    use ecl_store::dead_letters;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let claimed = match dead_letters::claim_replays(inbox.db(), 100).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(group = inbox.group(), "dead-letter replay: {e}");
                continue;
            }
        };
        for ev in claimed {
            let outcome = match handler.handle(ev.clone()).await {
                Ok(()) => dead_letters::replayed(inbox.db(), &ev.id).await,
                Err(e) => dead_letters::keep(inbox.db(), &ev, &e, 1).await,
            };
            match outcome {
                Ok(()) => {
                    tracing::info!(group = inbox.group(), id = %ev.id, "dead letter replayed")
                }
                Err(e) => {
                    tracing::warn!(group = inbox.group(), id = %ev.id, "dead-letter replay: {e}")
                }
            }
        }
    }
}

/// Starts the actor for `state` and attaches it to the bus as one more consumer of `name`'s
/// requests (and, when `events` handles any topic, of its event queue). Must run inside an actix
/// `System`.
///
/// `inbox` is the service's [`Inbox`] (its handlers deduplicate through it): events its handlers
/// keep failing on are kept there as dead letters, and replays an operator requests run here.
/// A service that handles events needs one.
pub async fn serve<S: Send + Sync + 'static>(
    bus: &Bus,
    name: &'static str,
    state: Arc<S>,
    requests: Router<S>,
    events: EventRouter<S>,
    inbox: Option<&Inbox>,
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
        .serve(name, Arc::new(ToActor(addr.clone(), None)))
        .await?;
    if !topics.is_empty() {
        let handler: Arc<dyn EventHandler> = Arc::new(ToActor(addr.clone(), inbox.cloned()));
        bus.transport()
            .subscribe(name, &topics, handler.clone())
            .await?;
        match inbox {
            Some(inbox) => {
                tokio::spawn(replay_dead_letters(inbox.clone(), handler));
            }
            None => tracing::warn!(
                service = name,
                "handles events without an inbox: redeliveries are not recognised, failures not kept"
            ),
        }
    }
    Ok(addr)
}
