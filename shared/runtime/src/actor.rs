//! The service actor: owns a service's state for its lifetime; the bus runs its handlers.
//!
//! actix runs an actor's futures on its arbiter's thread. A handler that awaited I/O there would
//! serialize the whole service, so the handlers never ran there: the actor only built each
//! message's handling future from the state it owns, and the bus consumer's task (on the
//! multi-threaded runtime) drove it. Even that hop cost two thread crossings per message — a
//! wake-up of the arbiter's thread and one back, context switches that `ecl bench bus` measured
//! as most of the gap between the AMQP bus and a bare lapin loop. The consumer now builds the
//! future itself from the service's routers and the same state ([`Dispatch`]), without a thread
//! crossing, as long as the actor that owns the state runs: once it has stopped, the service answers
//! `UNAVAILABLE` as before. The actor keeps the service's lifecycle (started with the state,
//! stopped with the system).

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
    /// The service's state: held here for the service's lifetime; the bus runs its handlers on
    /// it ([`Dispatch`]) while this actor runs.
    _state: Arc<S>,
}

impl<S: Send + Sync + 'static> Actor for ServiceActor<S> {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        tracing::debug!(service = self.name, "service actor started");
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

/// Bridges the bus to the service's handlers (see the module's comment): its routers over the
/// state the actor owns, while the actor runs; with the service's inbox, where its dead letters
/// go.
struct Dispatch<S: Send + Sync + 'static> {
    actor: Addr<ServiceActor<S>>,
    state: Arc<S>,
    requests: Router<S>,
    events: EventRouter<S>,
    inbox: Option<Inbox>,
}

impl<S: Send + Sync + 'static> Dispatch<S> {
    fn running(&self) -> AppResult<()> {
        if self.actor.connected() {
            Ok(())
        } else {
            Err(AppError::unavailable("service stopped"))
        }
    }
}

#[async_trait]
impl<S: Send + Sync + 'static> RequestHandler for Dispatch<S> {
    async fn handle(&self, req: RequestEnvelope) -> AppResult<Reply> {
        self.running()?;
        contain(self.requests.dispatch(self.state.clone(), req)).await
    }
}

#[async_trait]
impl<S: Send + Sync + 'static> EventHandler for Dispatch<S> {
    async fn handle(&self, ev: EventEnvelope) -> AppResult<()> {
        self.running()?;
        contain(
            self.events
                .dispatch(self.state.clone(), ev, Duration::from_secs(30)),
        )
        .await
    }

    async fn dead_letter(
        &self,
        ev: EventEnvelope,
        error: AppError,
        attempts: u32,
    ) -> AppResult<()> {
        match &self.inbox {
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
        _state: state.clone(),
    }
    .start();
    let dispatch = Arc::new(Dispatch {
        actor: addr.clone(),
        state,
        requests,
        events,
        inbox: inbox.cloned(),
    });
    bus.transport().serve(name, dispatch.clone()).await?;
    if !topics.is_empty() {
        let handler: Arc<dyn EventHandler> = dispatch;
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
