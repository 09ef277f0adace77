//! The bus: request/reply and publish/subscribe behind one trait, with two transports chosen by URL:
//! `memory:` (in-process) and `amqp://` (RabbitMQ via lapin).
//!
//! Service code only sees [`Bus`] (typed calls and events) and registers a [`RequestHandler`] /
//! [`EventHandler`]; the composition root picks the transport with [`connect`].

mod amqp;
mod body;
mod memory;
mod typed;

pub use amqp::{AmqpTransport, RequestExpiry};
pub use body::{Body, Typed};
pub use memory::MemoryTransport;
pub use typed::{Bus, CallCtx, EventRouter, Router};

use async_trait::async_trait;
use bytes::Bytes;
use ecl_kernel::{AppError, Principal};
use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};

/// A request as it travels: operation, caller, absolute deadline, trace context and the body
/// (typed in process, JSON over AMQP).
#[derive(Debug)]
pub struct RequestEnvelope {
    pub op: String,
    pub principal: Principal,
    /// Milliseconds since the Unix epoch after which nobody waits for the answer any more.
    pub deadline_ms: i64,
    pub trace_id: String,
    pub body: Body,
}

/// A handler's answer: the body, and how many bus requests the handler made to answer it —
/// its own and, recursively, those its callees reported — so the caller's count (the gateway's
/// `extensions.busRequests`) is every request the platform made for it, not only its own.
#[derive(Debug)]
pub struct Reply {
    pub body: Body,
    pub bus_requests: u64,
}

impl Reply {
    /// A reply whose handler made no bus request.
    pub fn new(body: impl Into<Body>) -> Self {
        Reply {
            body: body.into(),
            bus_requests: 0,
        }
    }
}

impl RequestEnvelope {
    pub fn remaining(&self) -> Option<Duration> {
        let left = self.deadline_ms - now_ms();
        (left > 0).then(|| Duration::from_millis(left as u64))
    }
}

/// An event as it travels. `id` makes consumers idempotent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub id: String,
    pub topic: String,
    pub trace_id: String,
    pub body: Bytes,
}

#[async_trait]
pub trait RequestHandler: Send + Sync + 'static {
    async fn handle(&self, req: RequestEnvelope) -> Result<Reply, AppError>;
}

#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// An error means "not processed": the transport retries (see [`deliver`]) and finally hands
    /// the event to [`EventHandler::dead_letter`].
    async fn handle(&self, event: EventEnvelope) -> Result<(), AppError>;

    /// The transport gave up on `event` after `attempts` failed attempts, the last with `error`.
    /// `Ok`: the event is kept where an operator can list and replay it (`ecl dead-letters`), and
    /// the transport acknowledges it. `Err`: it could not be kept; the transport keeps the event
    /// and tries it again later, so nothing is dropped. Handlers without a store of their own log
    /// it and let it go.
    async fn dead_letter(
        &self,
        event: EventEnvelope,
        error: AppError,
        attempts: u32,
    ) -> Result<(), AppError> {
        tracing::error!(topic = %event.topic, id = %event.id, attempts, "event dropped: {error}");
        Ok(())
    }
}

/// Attempts before an event whose handler keeps failing is dead-lettered.
pub const EVENT_ATTEMPTS: u32 = 5;
/// How long a handler failing with `UNAVAILABLE` (its database or a service it calls is away: the
/// event itself is fine) is retried before its event is dead-lettered.
pub const TRANSIENT_RETRY: Duration = Duration::from_secs(600);

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Handled,
    DeadLettered,
    /// Neither handled nor kept: the transport must keep the event and deliver it again later.
    Retry,
}

/// The retry policy both transports apply to one delivery of an event to a consumer group: retry
/// with exponential backoff — for [`TRANSIENT_RETRY`] while the handler reports `UNAVAILABLE`,
/// else [`EVENT_ATTEMPTS`] times — then dead-letter. Runs in the delivery's task, holding its
/// place in the group's in-flight window, so a failing handler slows its group down instead of
/// piling retries up.
pub async fn deliver(handler: &dyn EventHandler, event: &EventEnvelope) -> Delivered {
    let started = std::time::Instant::now();
    let mut backoff = Duration::from_millis(100);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let error = match handler.handle(event.clone()).await {
            Ok(()) => return Delivered::Handled,
            Err(e) => e,
        };
        let transient = error.code == ecl_kernel::ErrorCode::Unavailable;
        let give_up = if transient {
            started.elapsed() >= TRANSIENT_RETRY
        } else {
            attempts >= EVENT_ATTEMPTS
        };
        if give_up {
            metrics::counter!("ecl_bus_events_dead_lettered_total", "topic" => event.topic.clone())
                .increment(1);
            return match handler.dead_letter(event.clone(), error, attempts).await {
                Ok(()) => Delivered::DeadLettered,
                Err(e) => {
                    tracing::error!(topic = %event.topic, id = %event.id, "dead letter not kept, will retry: {e}");
                    Delivered::Retry
                }
            };
        }
        tracing::warn!(topic = %event.topic, id = %event.id, attempts, transient, "event handler failed, retrying in {backoff:?}: {error}");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// What both transports implement.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Sends a request to one replica of `target` and waits for its reply until the deadline; fails
    /// with `UNAVAILABLE` when nobody answers in time.
    async fn request(&self, target: &str, req: RequestEnvelope) -> Result<Reply, AppError>;
    /// Serves `target`'s requests with `handler` (one more competing consumer).
    async fn serve(&self, target: &str, handler: Arc<dyn RequestHandler>) -> anyhow::Result<()>;
    /// Publishes an event; returns once the transport has it safely (broker confirm).
    async fn publish(&self, event: EventEnvelope) -> Result<(), AppError>;
    /// Subscribes `group` (a target name: one durable queue per group, shared by its replicas) to
    /// topics matching `patterns` (`*` one word, `#` any words).
    async fn subscribe(
        &self,
        group: &str,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()>;
    /// Subscribes this process alone to topics matching `patterns`. Unlike [`Transport::subscribe`]
    /// (one queue per group, shared by its replicas), every process that calls this gets its own
    /// copy of each event: fan-out, for state held in one process, like the gateway's open GraphQL
    /// subscriptions. Delivery is live only: nothing is kept for a process that is away, and an
    /// event its handler fails on is not redelivered. Each subscriber gets the events in the order
    /// they were published; its handler should only hand the event over (it is awaited in line).
    async fn subscribe_ephemeral(
        &self,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()>;
    /// True while the transport can carry traffic (readiness).
    fn is_ready(&self) -> bool;
    /// Stops consuming and lets in-flight handlers finish.
    async fn shutdown(&self);
}

/// Picks the transport from the URL: `memory:` or `amqp://…` (`namespace` prefixes every queue and
/// exchange so deployments or test runs can share a broker).
pub async fn connect(url: &str, namespace: &str) -> anyhow::Result<Arc<dyn Transport>> {
    if url == "memory:" {
        Ok(Arc::new(MemoryTransport::default()))
    } else if url.starts_with("amqp://") || url.starts_with("amqps://") {
        Ok(Arc::new(AmqpTransport::connect(url, namespace).await?))
    } else {
        anyhow::bail!("unsupported bus URL {url:?} (expected memory: or amqp://…)")
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// AMQP-style topic matching: words separated by `.`, `*` matches one word, `#` zero or more.
pub fn topic_matches(pattern: &str, topic: &str) -> bool {
    fn go(p: &[&str], t: &[&str]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let t: Vec<&str> = topic.split('.').collect();
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns_follow_amqp_rules() {
        assert!(topic_matches("contract.*", "contract.changed"));
        assert!(!topic_matches("contract.*", "contract.changed.x"));
        assert!(topic_matches("#", "a.b.c"));
        assert!(topic_matches("contract.#", "contract"));
        assert!(topic_matches("*.user_deleted", "identity.user_deleted"));
        assert!(!topic_matches("identity.*", "contract.changed"));
    }
}
