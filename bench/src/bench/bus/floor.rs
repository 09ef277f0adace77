//! The floor: request/reply with lapin and nothing else — direct reply-to, no framework, no actor.

use super::{Figures, measure};
use futures::StreamExt;
use lapin::{
    BasicProperties, Connection, ConnectionProperties,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        QueueDeclareOptions, QueueDeleteOptions,
    },
    types::FieldTable,
};
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc};
use tokio::sync::oneshot;

pub async fn bare_lapin(
    url: &str,
    ns: &str,
    sequential: usize,
    seconds: u64,
    in_flight: usize,
) -> anyhow::Result<Figures> {
    let queue = format!("{ns}.floor");
    let server = Connection::connect(url, ConnectionProperties::default()).await?;
    let sch = server.create_channel().await?;
    sch.basic_qos(256, BasicQosOptions::default()).await?;
    sch.queue_declare(
        queue.as_str().into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await?;
    let mut consumer = sch
        .basic_consume(
            queue.as_str().into(),
            "floor-server".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let reply_ch = sch.clone();
    tokio::spawn(async move {
        while let Some(Ok(d)) = consumer.next().await {
            let ch = reply_ch.clone();
            tokio::spawn(async move {
                let p = d.properties.clone();
                if let (Some(to), Some(corr)) = (p.reply_to().clone(), p.correlation_id().clone()) {
                    let _ = ch
                        .basic_publish(
                            "".into(),
                            to,
                            BasicPublishOptions::default(),
                            &d.data,
                            BasicProperties::default().with_correlation_id(corr),
                        )
                        .await;
                }
                let _ = d.acker.ack(BasicAckOptions::default()).await;
            });
        }
    });

    let client = Connection::connect(url, ConnectionProperties::default()).await?;
    let cch = client.create_channel().await?;
    let pending: Arc<Mutex<HashMap<String, oneshot::Sender<Vec<u8>>>>> = Arc::default();
    let mut replies = cch
        .basic_consume(
            "amq.rabbitmq.reply-to".into(),
            "floor-client".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    let p2 = pending.clone();
    tokio::spawn(async move {
        while let Some(Ok(d)) = replies.next().await {
            if let Some(c) = d.properties.correlation_id()
                && let Some(tx) = p2.lock().remove(c.as_str())
            {
                let _ = tx.send(d.data);
            }
        }
    });
    let payload = Arc::new(vec![7u8; 64]);
    let (c2, q2) = (cch.clone(), queue.clone());
    let figures = measure(
        "bare lapin loop (floor)",
        sequential,
        seconds,
        in_flight,
        move || {
            let (cch, pending, payload, queue) =
                (c2.clone(), pending.clone(), payload.clone(), q2.clone());
            async move {
                let corr = uuid::Uuid::new_v4().simple().to_string();
                let (tx, rx) = oneshot::channel();
                pending.lock().insert(corr.clone(), tx);
                cch.basic_publish(
                    "".into(),
                    queue.as_str().into(),
                    BasicPublishOptions::default(),
                    &payload,
                    BasicProperties::default()
                        .with_correlation_id(corr.as_str().into())
                        .with_reply_to("amq.rabbitmq.reply-to".into()),
                )
                .await?;
                rx.await?;
                Ok(())
            }
        },
    )
    .await?;
    let _ = cch
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    let _ = client.close(200, "bye".into()).await;
    let _ = server.close(200, "bye".into()).await;
    Ok(figures)
}

/// Removes the benchmark's queues and exchanges from the broker.
pub async fn cleanup(url: &str, ns: &str) {
    let Ok(conn) = Connection::connect(url, ConnectionProperties::default()).await else {
        return;
    };
    let Ok(ch) = conn.create_channel().await else {
        return;
    };
    for q in [
        format!("{ns}.req.bench"),
        format!("{ns}.rq.bench"),
        format!("{ns}.dead"),
    ] {
        let _ = ch
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for x in [format!("{ns}.events"), format!("{ns}.dlx")] {
        let _ = ch
            .exchange_delete(x.as_str().into(), Default::default())
            .await;
    }
    let _ = conn.close(200, "bye".into()).await;
}
