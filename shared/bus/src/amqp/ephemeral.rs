//! Per-process subscriptions (SPEC §7: the notices are available to GraphQL subscribers in real
//! time, and a subscriber is held by one gateway process): a server-named, exclusive, auto-delete
//! queue per subscription bound to the events exchange, so every process gets its own copy
//! (fan-out). It lives and dies with the connection (re-created on reconnect) and holds at most
//! `EPHEMERAL_MAX_LENGTH` events (the oldest are dropped) if the process falls behind; delivery is
//! live only, in the exchange's order.

use super::{AmqpTransport, Inner, Live, headers::header_str};
use crate::{EventEnvelope, EventHandler};
use bytes::Bytes;
use futures::StreamExt;
use lapin::{
    options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};
use std::sync::Arc;

/// Most events an ephemeral queue holds for a slow process before dropping the oldest.
const EPHEMERAL_MAX_LENGTH: i64 = 10_000;

impl AmqpTransport {
    pub(super) async fn subscribe_process(
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
}

impl Inner {
    pub(super) async fn start_ephemeral(
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
