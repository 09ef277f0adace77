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
//! registered so far; while disconnected, requests fail fast with `UNAVAILABLE`.

use crate::{
    Body, EventEnvelope, EventHandler, Reply, RequestEnvelope, RequestHandler, Transport, now_ms,
};
use async_trait::async_trait;
use bytes::Bytes;
use ecl_kernel::{AppError, Principal};
use futures::StreamExt;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
        BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
        QueueBindOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use parking_lot::Mutex;
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::sync::{Notify, oneshot};

const REPLY_TO: &str = "amq.rabbitmq.reply-to";
/// Unacknowledged requests a replica holds at once: enough to keep handlers busy, few enough that
/// other replicas get their share.
const REQUEST_PREFETCH: u16 = 256;
const EVENT_PREFETCH: u16 = 64;
/// Most events an ephemeral queue holds for a slow process before dropping the oldest.
const EPHEMERAL_MAX_LENGTH: i64 = 10_000;
/// With [`RequestExpiry::QueueTtl`], how long a request queue keeps a message nobody took: longer
/// than any caller waits, so it only clears out what the consumers' deadline check would drop.
const REQUEST_QUEUE_TTL_MS: i64 = 120_000;

/// How a request that nobody took before its deadline is kept from being executed late. Every
/// process of a deployment must use the same (each has its own request queues).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestExpiry {
    /// Each request carries its remaining time as its AMQP expiration, and the broker drops it
    /// then; the consumer checks the deadline too.
    PerMessage,
    /// The consumer's deadline check alone decides; the request queues (`{ns}.rq.{target}`) have
    /// one message TTL for all, which RabbitMQ applies without per-message bookkeeping. The
    /// default: `ecl bench bus` measured it ahead of per-message expiry in each run (see the
    /// README's performance section), and the consumer's check keeps "never executed late"
    /// (`amqp_request_without_consumer_fails_in_time_and_is_never_executed_later`, both modes).
    #[default]
    QueueTtl,
}

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

impl AmqpTransport {
    /// Connects (failing if the broker cannot be reached now) and starts the reconnect supervisor.
    pub async fn connect(url: &str, namespace: &str) -> anyhow::Result<AmqpTransport> {
        Self::connect_with(url, namespace, RequestExpiry::default()).await
    }

    /// The same, with the given way of expiring requests.
    pub async fn connect_with(
        url: &str,
        namespace: &str,
        expiry: RequestExpiry,
    ) -> anyhow::Result<AmqpTransport> {
        let inner = Arc::new(Inner {
            url: url.to_string(),
            ns: namespace.to_string(),
            expiry,
            live: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            servers: Mutex::new(Vec::new()),
            subscribers: Mutex::new(Vec::new()),
            ephemeral: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            closing: AtomicBool::new(false),
        });
        let live = inner.establish().await?;
        tokio::spawn(Inner::supervise(inner.clone(), live));
        Ok(AmqpTransport { inner })
    }

    fn live(&self) -> Result<Arc<Live>, AppError> {
        self.inner
            .live
            .lock()
            .clone()
            .ok_or_else(|| AppError::unavailable("message broker unreachable"))
    }
}

impl Inner {
    fn q_request(&self, target: &str) -> String {
        match self.expiry {
            RequestExpiry::PerMessage => format!("{}.req.{target}", self.ns),
            RequestExpiry::QueueTtl => format!("{}.rq.{target}", self.ns),
        }
    }
    fn x_events(&self) -> String {
        format!("{}.events", self.ns)
    }
    fn x_dead(&self) -> String {
        format!("{}.dlx", self.ns)
    }
    fn queue_args(&self) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.x_dead().into()),
        );
        args
    }
    fn request_queue_args(&self) -> FieldTable {
        let mut args = self.queue_args();
        if self.expiry == RequestExpiry::QueueTtl {
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(REQUEST_QUEUE_TTL_MS),
            );
        }
        args
    }

    async fn establish(self: &Arc<Self>) -> anyhow::Result<Arc<Live>> {
        let conn = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let requests = conn.create_channel().await?;
        let events = conn.create_channel().await?;
        events
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        events
            .exchange_declare(
                self.x_events().into(),
                ExchangeKind::Topic,
                durable_exchange(),
                FieldTable::default(),
            )
            .await?;
        events
            .exchange_declare(
                self.x_dead().into(),
                ExchangeKind::Fanout,
                durable_exchange(),
                FieldTable::default(),
            )
            .await?;
        let dead = format!("{}.dead", self.ns);
        events
            .queue_declare(dead.as_str().into(), durable_queue(), FieldTable::default())
            .await?;
        events
            .queue_bind(
                dead.as_str().into(),
                self.x_dead().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        // Replies to this process's requests.
        let mut replies = requests
            .basic_consume(
                REPLY_TO.into(),
                format!("replies-{}", uuid::Uuid::new_v4().simple()).into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        let me = self.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = replies.next().await {
                let Some(corr) = delivery
                    .properties
                    .correlation_id()
                    .as_ref()
                    .map(|c| c.to_string())
                else {
                    continue;
                };
                let Some(tx) = me.pending.lock().remove(&corr) else {
                    continue;
                };
                let ok =
                    header_str(delivery.properties.headers(), "status").as_deref() == Some("ok");
                let bus_requests = header_u64(delivery.properties.headers(), "bus-requests");
                let body = Bytes::from(delivery.data);
                let result = if ok {
                    Ok(Reply {
                        body: Body::Json(body),
                        bus_requests,
                    })
                } else {
                    Err(serde_json::from_slice::<AppError>(&body)
                        .unwrap_or_else(AppError::internal))
                };
                let _ = tx.send(result);
            }
        });

        let live = Arc::new(Live {
            conn,
            requests,
            events,
            declared: Mutex::new(HashSet::new()),
            consumer_tags: Mutex::new(Vec::new()),
        });
        // Re-attach everything registered before a reconnect.
        let servers = self.servers.lock().clone();
        for (target, handler) in servers {
            self.start_server(&live, &target, handler).await?;
        }
        let subscribers = self.subscribers.lock().clone();
        for (group, patterns, handler) in subscribers {
            self.start_subscriber(&live, &group, &patterns, handler)
                .await?;
        }
        let ephemeral = self.ephemeral.lock().clone();
        for (patterns, handler) in ephemeral {
            self.start_ephemeral(&live, &patterns, handler).await?;
        }
        *self.live.lock() = Some(live.clone());
        Ok(live)
    }

    async fn supervise(self: Arc<Self>, mut live: Arc<Live>) {
        loop {
            // Wait until this connection breaks: an error event, or — should the event be missed
            // (it can come before the listener exists) — a status that is no longer connected.
            let mut events = live.conn.events_listener();
            let mut check = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    ev = events.next() => match ev {
                        Some(lapin::Event::Error(e)) => {
                            tracing::warn!("AMQP connection lost: {e}");
                            break;
                        }
                        Some(_) => {}
                        None => break,
                    },
                    _ = check.tick() => {
                        if !live.conn.status().connected() {
                            tracing::warn!("AMQP connection closed");
                            break;
                        }
                    }
                }
            }
            if self.closing.load(Ordering::SeqCst) {
                return;
            }
            *self.live.lock() = None;
            // Nobody will answer the requests in flight on the dead connection.
            for (_, tx) in self.pending.lock().drain() {
                let _ = tx.send(Err(AppError::unavailable("message broker connection lost")));
            }
            let mut backoff = Duration::from_millis(100);
            loop {
                if self.closing.load(Ordering::SeqCst) {
                    return;
                }
                tokio::time::sleep(backoff).await;
                match self.establish().await {
                    Ok(l) => {
                        tracing::info!("AMQP connection re-established");
                        live = l;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(?backoff, "AMQP reconnect failed: {e}");
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            }
        }
    }

    async fn declare_request_queue(
        &self,
        live: &Live,
        target: &str,
    ) -> Result<String, lapin::Error> {
        let q = self.q_request(target);
        if !live.declared.lock().contains(&q) {
            live.requests
                .queue_declare(
                    q.as_str().into(),
                    durable_queue(),
                    self.request_queue_args(),
                )
                .await?;
            live.declared.lock().insert(q.clone());
        }
        Ok(q)
    }

    async fn start_server(
        self: &Arc<Self>,
        live: &Arc<Live>,
        target: &str,
        handler: Arc<dyn RequestHandler>,
    ) -> anyhow::Result<()> {
        // Each consumer gets its own channel so its prefetch window is its own.
        let ch = live.conn.create_channel().await?;
        ch.basic_qos(REQUEST_PREFETCH, BasicQosOptions::default())
            .await?;
        let q = self.q_request(target);
        ch.queue_declare(
            q.as_str().into(),
            durable_queue(),
            self.request_queue_args(),
        )
        .await?;
        let tag = format!("{target}-{}", uuid::Uuid::new_v4().simple());
        let mut consumer = ch
            .basic_consume(
                q.as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        live.consumer_tags.lock().push((ch.clone(), tag));
        let me = self.clone();
        // Replies leave on the consumer's own channel: not in confirm mode (the caller's deadline
        // covers a lost reply), so no broker round-trip per reply.
        let reply_ch = ch.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                let handler = handler.clone();
                let reply_ch = reply_ch.clone();
                let working = InFlight::enter(&me);
                tokio::spawn(async move {
                    let _working = working;
                    let props = &delivery.properties;
                    let reply_to = props.reply_to().as_ref().map(|s| s.to_string());
                    let corr = props.correlation_id().clone();
                    let result = match decode_request(props, &delivery.data) {
                        Ok(req) if req.remaining().is_none() => {
                            // The caller gave up already: answering or executing would be wrong.
                            tracing::debug!(op = %req.op, "dropping expired request");
                            None
                        }
                        Ok(req) => Some(handler.handle(req).await),
                        Err(e) => Some(Err(e)),
                    };
                    if let (Some(result), Some(reply_to)) = (result, reply_to) {
                        let result = result.and_then(|r| Ok((r.body.into_json()?, r.bus_requests)));
                        let (status, body, bus_requests) = match result {
                            Ok((b, n)) => ("ok", b, n),
                            Err(e) => (
                                "error",
                                Bytes::from(serde_json::to_vec(&e).unwrap_or_default()),
                                0,
                            ),
                        };
                        let mut headers = FieldTable::default();
                        headers.insert("status".into(), AMQPValue::LongString(status.into()));
                        // The requests the handler made, for the caller's count.
                        headers.insert(
                            "bus-requests".into(),
                            AMQPValue::LongLongInt(bus_requests as i64),
                        );
                        let mut p = BasicProperties::default().with_headers(headers);
                        if let Some(c) = corr {
                            p = p.with_correlation_id(c);
                        }
                        // Replies are not confirmed: the caller's deadline covers a lost reply.
                        if let Err(e) = reply_ch
                            .basic_publish(
                                "".into(),
                                reply_to.into(),
                                BasicPublishOptions::default(),
                                &body,
                                p,
                            )
                            .await
                        {
                            tracing::warn!("reply not sent: {e}");
                        }
                    }
                    if let Err(e) = delivery.acker.ack(BasicAckOptions::default()).await {
                        tracing::warn!("request ack failed (will be redelivered): {e}");
                    }
                });
            }
        });
        Ok(())
    }

    async fn start_subscriber(
        self: &Arc<Self>,
        live: &Arc<Live>,
        group: &str,
        patterns: &[String],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let ch = live.conn.create_channel().await?;
        ch.basic_qos(EVENT_PREFETCH, BasicQosOptions::default())
            .await?;
        let q = format!("{}.evt.{group}", self.ns);
        ch.queue_declare(q.as_str().into(), durable_queue(), self.queue_args())
            .await?;
        for p in patterns {
            ch.queue_bind(
                q.as_str().into(),
                self.x_events().into(),
                p.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        }
        let tag = format!("{group}-evt-{}", uuid::Uuid::new_v4().simple());
        let mut consumer = ch
            .basic_consume(
                q.as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        live.consumer_tags.lock().push((ch.clone(), tag));
        let me = self.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                let handler = handler.clone();
                let working = InFlight::enter(&me);
                tokio::spawn(async move {
                    let _working = working;
                    let props = &delivery.properties;
                    let event = EventEnvelope {
                        id: props
                            .message_id()
                            .as_ref()
                            .map(|s| s.to_string())
                            .unwrap_or_default(),
                        topic: delivery.routing_key.to_string(),
                        trace_id: header_str(props.headers(), "trace-id").unwrap_or_default(),
                        body: Bytes::from(delivery.data.clone()),
                    };
                    // Retried here, then kept as a dead letter in the consumer's store (listed
                    // and replayed with `ecl dead-letters`); acknowledged only after either, so
                    // an event whose process dies meanwhile is redelivered to another replica
                    // (whose inbox recognises it if it was handled after all).
                    match crate::deliver(handler.as_ref(), &event).await {
                        crate::Delivered::Handled | crate::Delivered::DeadLettered => {
                            if let Err(e) = delivery.acker.ack(BasicAckOptions::default()).await {
                                tracing::warn!("event ack failed (will be redelivered): {e}");
                            }
                        }
                        crate::Delivered::Retry => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            let _ = delivery
                                .acker
                                .nack(BasicNackOptions {
                                    requeue: true,
                                    ..Default::default()
                                })
                                .await;
                        }
                    }
                });
            }
        });
        Ok(())
    }
}

impl Inner {
    async fn start_ephemeral(
        self: &Arc<Self>,
        live: &Arc<Live>,
        patterns: &[String],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let ch = live.conn.create_channel().await?;
        let mut args = FieldTable::default();
        args.insert(
            "x-max-length".into(),
            AMQPValue::LongLongInt(EPHEMERAL_MAX_LENGTH),
        );
        // Server-named, gone with this connection: one queue per process, never shared.
        let queue = ch
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                args,
            )
            .await?;
        let q = queue.name().to_string();
        for p in patterns {
            ch.queue_bind(
                q.as_str().into(),
                self.x_events().into(),
                p.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        }
        let tag = format!("ephemeral-{}", uuid::Uuid::new_v4().simple());
        let mut consumer = ch
            .basic_consume(
                q.as_str().into(),
                tag.as_str().into(),
                // Live delivery: nothing to redeliver, so no acks.
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        live.consumer_tags.lock().push((ch.clone(), tag));
        tokio::spawn(async move {
            // In line, one after the other: the handler sees the events in the exchange's order.
            while let Some(Ok(delivery)) = consumer.next().await {
                let props = &delivery.properties;
                let event = EventEnvelope {
                    id: props
                        .message_id()
                        .as_ref()
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    topic: delivery.routing_key.to_string(),
                    trace_id: header_str(props.headers(), "trace-id").unwrap_or_default(),
                    body: Bytes::from(delivery.data),
                };
                if let Err(e) = handler.handle(event).await {
                    tracing::debug!("ephemeral event handler failed: {e}");
                }
            }
        });
        Ok(())
    }
}

#[async_trait]
impl Transport for AmqpTransport {
    async fn request(&self, target: &str, req: RequestEnvelope) -> Result<Reply, AppError> {
        let Some(left) = req.remaining() else {
            return Err(AppError::unavailable(format!(
                "deadline passed before {target} was called"
            )));
        };
        let body = req.body.into_json()?;
        let live = self.live()?;
        let queue = self
            .inner
            .declare_request_queue(&live, target)
            .await
            .map_err(|e| AppError::unavailable(format!("broker: {e}")))?;
        let corr = uuid::Uuid::new_v4().simple().to_string();
        let (tx, rx) = oneshot::channel();
        self.inner.pending.lock().insert(corr.clone(), tx);
        let mut headers = FieldTable::default();
        headers.insert("op".into(), AMQPValue::LongString(req.op.as_str().into()));
        headers.insert(
            "deadline-ms".into(),
            AMQPValue::LongLongInt(req.deadline_ms),
        );
        headers.insert(
            "trace-id".into(),
            AMQPValue::LongString(req.trace_id.as_str().into()),
        );
        headers.insert(
            "principal".into(),
            AMQPValue::LongString(LongString::from(
                serde_json::to_vec(&req.principal).map_err(AppError::internal)?,
            )),
        );
        let mut props = BasicProperties::default()
            .with_correlation_id(corr.as_str().into())
            .with_reply_to(REPLY_TO.into())
            .with_headers(headers);
        if self.inner.expiry == RequestExpiry::PerMessage {
            // The broker drops the request once nobody waits for it any more.
            props = props.with_expiration(ShortString::from(left.as_millis().max(1).to_string()));
        }
        let sent = live
            .requests
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                &body,
                props,
            )
            .await;
        if let Err(e) = sent {
            self.inner.pending.lock().remove(&corr);
            return Err(AppError::unavailable(format!("broker: {e}")));
        }
        match tokio::time::timeout(left, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(AppError::unavailable(format!(
                "{target}: reply channel closed"
            ))),
            Err(_) => {
                self.inner.pending.lock().remove(&corr);
                Err(AppError::unavailable(format!(
                    "{target} did not answer in time"
                )))
            }
        }
    }

    async fn serve(&self, target: &str, handler: Arc<dyn RequestHandler>) -> anyhow::Result<()> {
        self.inner
            .servers
            .lock()
            .push((target.to_string(), handler.clone()));
        let live = self.live().map_err(|e| anyhow::anyhow!(e))?;
        self.inner.start_server(&live, target, handler).await
    }

    async fn publish(&self, event: EventEnvelope) -> Result<(), AppError> {
        let live = self.live()?;
        let mut headers = FieldTable::default();
        headers.insert(
            "trace-id".into(),
            AMQPValue::LongString(event.trace_id.as_str().into()),
        );
        let props = BasicProperties::default()
            .with_message_id(event.id.as_str().into())
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_headers(headers);
        let confirm = live
            .events
            .basic_publish(
                self.inner.x_events().into(),
                event.topic.as_str().into(),
                BasicPublishOptions::default(),
                &event.body,
                props,
            )
            .await
            .map_err(|e| AppError::unavailable(format!("broker: {e}")))?
            .await
            .map_err(|e| AppError::unavailable(format!("broker: {e}")))?;
        match confirm {
            Confirmation::Nack(_) => Err(AppError::unavailable("broker refused the event")),
            _ => Ok(()),
        }
    }

    async fn subscribe(
        &self,
        group: &str,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        self.inner
            .subscribers
            .lock()
            .push((group.to_string(), patterns.clone(), handler.clone()));
        let live = self.live().map_err(|e| anyhow::anyhow!(e))?;
        self.inner
            .start_subscriber(&live, group, &patterns, handler)
            .await
    }

    async fn subscribe_ephemeral(
        &self,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        self.inner
            .ephemeral
            .lock()
            .push((patterns.clone(), handler.clone()));
        let live = self.live().map_err(|e| anyhow::anyhow!(e))?;
        self.inner.start_ephemeral(&live, &patterns, handler).await
    }

    fn is_ready(&self) -> bool {
        self.inner
            .live
            .lock()
            .as_ref()
            .is_some_and(|l| l.conn.status().connected())
    }

    async fn shutdown(&self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        let Some(live) = self.inner.live.lock().clone() else {
            return;
        };
        // Stop taking new work, let the handlers in flight finish and ack, then close.
        let tags: Vec<(Channel, String)> = live.consumer_tags.lock().drain(..).collect();
        for (ch, tag) in tags {
            let _ = ch
                .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
                .await;
        }
        let drained = async {
            while self.inner.in_flight.load(Ordering::SeqCst) > 0 {
                let notified = self.inner.idle.notified();
                if self.inner.in_flight.load(Ordering::SeqCst) == 0 {
                    break;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), drained).await;
        let _ = live.conn.close(200, "shutdown".into()).await;
        *self.inner.live.lock() = None;
    }
}

/// Counts a delivery as in flight until dropped — also when its handler panics — so a graceful
/// shutdown waits for exactly the work that is really running.
struct InFlight(Arc<Inner>);

impl InFlight {
    fn enter(inner: &Arc<Inner>) -> InFlight {
        inner.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(inner.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

fn header_str(headers: &Option<FieldTable>, key: &str) -> Option<String> {
    match headers.as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

fn header_u64(headers: &Option<FieldTable>, key: &str) -> u64 {
    match headers.as_ref().and_then(|h| h.inner().get(key)) {
        Some(AMQPValue::LongLongInt(n)) => (*n).max(0) as u64,
        _ => 0,
    }
}

fn decode_request(props: &BasicProperties, data: &[u8]) -> Result<RequestEnvelope, AppError> {
    let headers = props.headers();
    let op = header_str(headers, "op")
        .ok_or_else(|| AppError::invalid("op", "request without operation"))?;
    let principal: Principal = header_str(headers, "principal")
        .and_then(|p| serde_json::from_str(&p).ok())
        .ok_or_else(|| AppError::invalid("principal", "request without principal"))?;
    let deadline_ms = match headers.as_ref().and_then(|h| h.inner().get("deadline-ms")) {
        Some(AMQPValue::LongLongInt(n)) => *n,
        _ => now_ms(),
    };
    Ok(RequestEnvelope {
        op,
        principal,
        deadline_ms,
        trace_id: header_str(headers, "trace-id").unwrap_or_default(),
        body: Body::Json(Bytes::copy_from_slice(data)),
    })
}
