//! Events (SPEC §7 and every service fed by another's changes): published persistent to the
//! topic exchange with publisher confirms, and consumed by one durable queue per subscribing
//! group (a target: its replicas share the queue), bound with the group's patterns. A delivery is
//! retried in process (`crate::deliver`) and then kept as a dead letter in the consumer's store,
//! and acknowledged only after either, so an event whose process dies meanwhile is redelivered.

use super::{
    AmqpTransport, Inner, Live, connection::InFlight, headers::header_str, topology::durable_queue,
};
use crate::{EventEnvelope, EventHandler};
use bytes::Bytes;
use ecl_kernel::AppError;
use futures::StreamExt;
use lapin::{
    BasicProperties, Confirmation,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions,
        BasicQosOptions, QueueBindOptions,
    },
    types::{AMQPValue, FieldTable},
};
use std::{sync::Arc, time::Duration};

const EVENT_PREFETCH: u16 = 64;

impl AmqpTransport {
    pub(super) async fn publish_event(&self, event: EventEnvelope) -> Result<(), AppError> {
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

    pub(super) async fn subscribe_group(
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
}

impl Inner {
    pub(super) async fn start_subscriber(
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
