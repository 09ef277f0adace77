//! The in-process transport: the same semantics as AMQP (competing consumers per target, one
//! delivery per subscribing group, deadlines), without a broker.

use crate::{
    EventEnvelope, EventHandler, Reply, RequestEnvelope, RequestHandler, Transport, topic_matches,
};
use async_trait::async_trait;
use ecl_kernel::AppError;
use parking_lot::RwLock;
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

#[derive(Default)]
struct Replicas<H: ?Sized> {
    handlers: Vec<Arc<H>>,
    next: AtomicUsize,
}

impl<H: ?Sized> Replicas<H> {
    fn pick(&self) -> Option<Arc<H>> {
        if self.handlers.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handlers.len();
        Some(self.handlers[i].clone())
    }
}

struct Group {
    patterns: Vec<String>,
    replicas: Replicas<dyn EventHandler>,
    /// Deliveries not yet handled. Publishing waits for a slot, like a broker's flow control:
    /// a fast producer cannot pile up unbounded work (and memory) in front of a slow subscriber.
    in_flight: Arc<tokio::sync::Semaphore>,
}

/// Deliveries per subscribing group that may be in progress at once.
const GROUP_IN_FLIGHT: usize = 64;

/// Patterns and handler of one per-process subscription.
type Ephemeral = (Vec<String>, Arc<dyn EventHandler>);

#[derive(Default)]
pub struct MemoryTransport {
    servers: RwLock<HashMap<String, Arc<Replicas<dyn RequestHandler>>>>,
    groups: RwLock<HashMap<String, Arc<Group>>>,
    /// Per-process subscribers: each gets every matching event (there is one process here).
    ephemeral: RwLock<Vec<Ephemeral>>,
}

#[async_trait]
impl Transport for MemoryTransport {
    /// The envelope, typed body included, goes to the handler as it is: nothing is encoded.
    async fn request(&self, target: &str, req: RequestEnvelope) -> Result<Reply, AppError> {
        let handler = self.servers.read().get(target).and_then(|r| r.pick());
        let Some(handler) = handler else {
            return Err(AppError::unavailable(format!(
                "no {target} service is running"
            )));
        };
        let Some(left) = req.remaining() else {
            return Err(AppError::unavailable(format!(
                "deadline passed before {target} was called"
            )));
        };
        match tokio::time::timeout(left, handler.handle(req)).await {
            Ok(r) => r,
            Err(_) => Err(AppError::unavailable(format!(
                "{target} did not answer in time"
            ))),
        }
    }

    async fn serve(&self, target: &str, handler: Arc<dyn RequestHandler>) -> anyhow::Result<()> {
        let mut servers = self.servers.write();
        let old = servers
            .get(target)
            .map(|r| r.handlers.clone())
            .unwrap_or_default();
        let mut handlers = old;
        handlers.push(handler);
        servers.insert(
            target.to_string(),
            Arc::new(Replicas {
                handlers,
                next: AtomicUsize::new(0),
            }),
        );
        Ok(())
    }

    async fn publish(&self, event: EventEnvelope) -> Result<(), AppError> {
        let groups: Vec<Arc<Group>> = self
            .groups
            .read()
            .values()
            .filter(|g| g.patterns.iter().any(|p| topic_matches(p, &event.topic)))
            .cloned()
            .collect();
        let ephemeral: Vec<Arc<dyn EventHandler>> = self
            .ephemeral
            .read()
            .iter()
            .filter(|(patterns, _)| patterns.iter().any(|p| topic_matches(p, &event.topic)))
            .map(|(_, h)| h.clone())
            .collect();
        // In the publisher's task, so each subscriber sees the events in publishing order (the
        // handlers only hand them over); live delivery, no retry, as over AMQP.
        for handler in ephemeral {
            if let Err(e) = handler.handle(event.clone()).await {
                tracing::debug!(topic = %event.topic, "ephemeral event handler failed: {e}");
            }
        }
        for group in groups {
            let Some(handler) = group.replicas.pick() else {
                continue;
            };
            let event = event.clone();
            // Delivered asynchronously, like a broker: the publisher waits only while the group
            // already has GROUP_IN_FLIGHT deliveries in progress.
            let slot = group
                .in_flight
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| AppError::unavailable("event bus closed"))?;
            tokio::spawn(async move {
                let _slot = slot;
                // Retried, then kept as a dead letter by the handler (its service's store);
                // never dropped: if even that fails, the whole delivery starts over later.
                while crate::deliver(handler.as_ref(), &event).await == crate::Delivered::Retry {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
            });
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        group: &str,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let mut groups = self.groups.write();
        let mut handlers = groups
            .get(group)
            .map(|g| g.replicas.handlers.clone())
            .unwrap_or_default();
        handlers.push(handler);
        let mut all: Vec<String> = groups
            .get(group)
            .map(|g| g.patterns.clone())
            .unwrap_or_default();
        all.extend(patterns.iter().map(|p| p.to_string()));
        all.dedup();
        let in_flight = groups
            .get(group)
            .map(|g| g.in_flight.clone())
            .unwrap_or_else(|| Arc::new(tokio::sync::Semaphore::new(GROUP_IN_FLIGHT)));
        groups.insert(
            group.to_string(),
            Arc::new(Group {
                patterns: all,
                replicas: Replicas {
                    handlers,
                    next: AtomicUsize::new(0),
                },
                in_flight,
            }),
        );
        Ok(())
    }

    async fn subscribe_ephemeral(
        &self,
        patterns: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let patterns = patterns.iter().map(|p| p.to_string()).collect();
        self.ephemeral.write().push((patterns, handler));
        Ok(())
    }

    fn is_ready(&self) -> bool {
        true
    }

    async fn shutdown(&self) {
        self.servers.write().clear();
        self.groups.write().clear();
        self.ephemeral.write().clear();
    }
}
