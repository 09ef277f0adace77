//! The RabbitMQ transport.
//!
//! Topology (every name prefixed with the namespace `ns`):
//! - `{ns}.rq.{target}`: one durable queue per target; every replica consumes it (competing
//!   consumers), acking only after its handler has answered. Requests carry their deadline in a
//!   header and the consumer drops a request whose deadline has passed, so a request nobody took in
//!   time is never executed late by a consumer that comes back; the queue's message TTL clears out
//!   what nobody took at all ([`RequestExpiry::QueueTtl`], the default). With
//!   [`RequestExpiry::PerMessage`] (queues `{ns}.req.{target}`) each request also carries its
//!   deadline as its AMQP expiration and the broker drops it (dead-lettered).
//! - replies travel over RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to`): no queue per caller.
//! - `{ns}.events`: a topic exchange; each subscribing target has one durable queue
//!   `{ns}.evt.{target}` bound with its patterns. Events are persistent and published with
//!   publisher confirms.
//! - per-process (ephemeral) subscriptions: a server-named, exclusive, auto-delete queue per
//!   subscription bound to `{ns}.events`, so every process gets its own copy (fan-out). It lives
//!   and dies with the connection (re-created on reconnect) and holds at most
//!   `EPHEMERAL_MAX_LENGTH` events (the oldest are dropped) if the process falls behind.
//! - `{ns}.dlx` → `{ns}.dead`: where expired requests end up. Events a consumer keeps failing on
//!   are retried in process (`crate::deliver`) and then kept in the consumer's own store as dead
//!   letters (`ecl dead-letters`), like the in-process bus's.
//!
//! A supervisor reconnects with exponential backoff and re-declares the topology and every consumer
//!
//! One file per part, read top-down from the [`Transport`] operations below:
//!
//! | file | what it holds |
//! | --- | --- |
//! | `topology.rs` | the names and arguments of the exchanges and queues, their declaration, and how requests expire ([`RequestExpiry`]) |
//! | `connection.rs` | connecting, the supervisor that reconnects with backoff and re-attaches every consumer, readiness, graceful shutdown |
//! | `request.rs` | a caller's request: published with its deadline, its reply taken from direct reply-to |
//! | `serve.rs` | a target's consumer: a request past its deadline dropped, the others handled, answered and acked |
//! | `events.rs` | events published with confirms, and consumed by one durable queue per group with retries and dead letters |
//! | `ephemeral.rs` | per-process subscriptions: every process its own copy of each event (fan-out) |
//! | `headers.rs` | reading values carried in AMQP headers |

mod connection;
mod ephemeral;
mod events;
mod headers;
mod request;
mod serve;
mod topology;

pub use topology::RequestExpiry;

use crate::{EventEnvelope, EventHandler, Reply, RequestEnvelope, RequestHandler, Transport};
use async_trait::async_trait;
use ecl_kernel::AppError;
use lapin::{Channel, Connection};
use parking_lot::Mutex;
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize},
    },
};
use tokio::sync::{Notify, oneshot};

type Pending = Mutex<HashMap<String, oneshot::Sender<Result<Reply, AppError>>>>;
/// (group, patterns, handler) of every subscription, re-attached after a reconnect.
type Subscriptions = Mutex<Vec<(String, Vec<String>, Arc<dyn EventHandler>)>>;
/// (patterns, handler) of every per-process subscription, re-created after a reconnect.
type Ephemeral = Mutex<Vec<(Vec<String>, Arc<dyn EventHandler>)>>;

/// One live connection and its channels; replaced as a whole on reconnect.
struct Live {
    conn: Connection,
    /// Publishes requests and consumes their replies (direct reply-to needs both on one channel).
    requests: Channel,
    /// Publishes events and replies, in confirm mode for events.
    events: Channel,
    /// Request queues already declared on this connection.
    declared: Mutex<HashSet<String>>,
    consumer_tags: Mutex<Vec<(Channel, String)>>,
}

struct Inner {
    url: String,
    ns: String,
    expiry: RequestExpiry,
    live: Mutex<Option<Arc<Live>>>,
    pending: Pending,
    /// The next request's correlation id: replies come back to this process's own reply-to, so
    /// a counter is unique where it needs to be, without a random UUID (a `getrandom` system call)
    /// per request.
    next_correlation: AtomicU64,
    servers: Mutex<Vec<(String, Arc<dyn RequestHandler>)>>,
    subscribers: Subscriptions,
    ephemeral: Ephemeral,
    in_flight: AtomicUsize,
    idle: Notify,
    closing: AtomicBool,
}

pub struct AmqpTransport {
    inner: Arc<Inner>,
}

#[async_trait]
impl Transport for AmqpTransport {
    /// `request.rs`
    async fn request(&self, target: &str, req: RequestEnvelope) -> Result<Reply, AppError> {
        self.send_request(target, req).await
    }

    /// `serve.rs`
    async fn serve(&self, target: &str, handler: Arc<dyn RequestHandler>) -> anyhow::Result<()> {
        self.serve_target(target, handler).await
    }

    /// `events.rs`
    async fn publish(&self, event: EventEnvelope) -> Result<(), AppError> {
        self.publish_event(event).await
    }

    /// `events.rs`
    async fn subscribe(
        &self,
        group: &str,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        self.subscribe_group(group, patterns, handler).await
    }

    /// `ephemeral.rs`
    async fn subscribe_ephemeral(
        &self,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        self.subscribe_process(patterns, handler).await
    }

    /// `connection.rs`
    fn is_ready(&self) -> bool {
        self.connected()
    }

    /// `connection.rs`
    async fn shutdown(&self) {
        self.close_gracefully().await
    }
}
