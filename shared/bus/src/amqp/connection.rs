//! One live connection (SPEC §1: each service runs as its own deployment, so it must ride out the
//! broker going away): connecting, a supervisor that notices a broken connection, fails the
//! requests in flight on it with `UNAVAILABLE`, reconnects with exponential backoff and re-declares
//! the topology and every consumer registered so far; readiness; and a graceful shutdown that stops
//! consuming and waits for the handlers in flight.

use super::{AmqpTransport, Inner, Live, RequestExpiry};
use ecl_kernel::AppError;
use futures::StreamExt;
use lapin::{
    Channel, Connection, ConnectionProperties,
    options::{BasicCancelOptions, ConfirmSelectOptions},
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
use tokio::sync::Notify;

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
            next_correlation: std::sync::atomic::AtomicU64::new(0),
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

    pub(super) fn live(&self) -> Result<Arc<Live>, AppError> {
        self.inner
            .live
            .lock()
            .clone()
            .ok_or_else(|| AppError::unavailable("message broker unreachable"))
    }

    pub(super) fn connected(&self) -> bool {
        self.inner
            .live
            .lock()
            .as_ref()
            .is_some_and(|l| l.conn.status().connected())
    }

    pub(super) async fn close_gracefully(&self) {
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

impl Inner {
    async fn establish(self: &Arc<Self>) -> anyhow::Result<Arc<Live>> {
        let conn = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let requests = conn.create_channel().await?;
        let events = conn.create_channel().await?;
        events
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.declare_topology(&events).await?;

        // Replies to this process's requests.
        self.consume_replies(&requests).await?;

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
}

/// Counts a delivery as in flight until dropped — also when its handler panics — so a graceful
/// shutdown waits for exactly the work that is really running.
pub(super) struct InFlight(Arc<Inner>);

impl InFlight {
    pub(super) fn enter(inner: &Arc<Inner>) -> InFlight {
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
