//! A caller's request (SPEC §9: errors carry machine-readable codes; a request nobody answers in
//! time fails with `UNAVAILABLE`): published to the target's request queue with the caller's
//! principal, trace id and absolute deadline in its headers (and, with
//! [`RequestExpiry::PerMessage`], the time left as its expiration), then awaited until that
//! deadline; replies come back over RabbitMQ's direct reply-to, matched by correlation id.

use super::{
    AmqpTransport, Inner, RequestExpiry,
    headers::{header_str, header_u64},
};
use crate::{Body, Reply, RequestEnvelope};
use bytes::Bytes;
use ecl_kernel::AppError;
use futures::StreamExt;
use lapin::{
    BasicProperties, Channel,
    options::{BasicConsumeOptions, BasicPublishOptions},
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use std::sync::Arc;
use tokio::sync::oneshot;

const REPLY_TO: &str = "amq.rabbitmq.reply-to";

impl AmqpTransport {
    pub(super) async fn send_request(
        &self,
        target: &str,
        req: RequestEnvelope,
    ) -> Result<Reply, AppError> {
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
        let corr = format!(
            "{:x}",
            self.inner
                .next_correlation
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
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
}

impl Inner {
    /// Consumes the replies to this process's requests and hands each to the request waiting for
    /// it.
    pub(super) async fn consume_replies(
        self: &Arc<Self>,
        requests: &Channel,
    ) -> anyhow::Result<()> {
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
        Ok(())
    }
}
