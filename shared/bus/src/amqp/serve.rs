//! A target's consumer (SPEC §1: replicas of a service share its work as competing consumers):
//! each replica takes requests from the target's queue within its own prefetch window, drops a
//! request whose deadline has passed (the caller gave up: executing it late would be wrong),
//! answers the others over the caller's reply-to, and acks only after answering.

use super::{
    AmqpTransport, Inner, Live, connection::InFlight, headers::header_str, topology::durable_queue,
};
use crate::{Body, RequestEnvelope, RequestHandler, now_ms};
use bytes::Bytes;
use ecl_kernel::{AppError, Principal};
use futures::StreamExt;
use lapin::{
    BasicProperties,
    options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions},
    types::{AMQPValue, FieldTable},
};
use std::sync::Arc;

/// Unacknowledged requests a replica holds at once: enough to keep handlers busy, few enough that
/// other replicas get their share.
const REQUEST_PREFETCH: u16 = 256;

impl AmqpTransport {
    pub(super) async fn serve_target(
        &self,
        target: &str,
        handler: Arc<dyn RequestHandler>,
    ) -> anyhow::Result<()> {
        self.inner
            .servers
            .lock()
            .push((target.to_string(), handler.clone()));
        let live = self.live().map_err(|e| anyhow::anyhow!(e))?;
        self.inner.start_server(&live, target, handler).await
    }
}

impl Inner {
    pub(super) async fn start_server(
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
