//! Cleaning up after a distributed run (SPEC §1: deployments share a broker, each under its own
//! namespace): a namespace's queues and exchanges removed from the broker.

/// Removes a namespace's queues and exchanges from the broker.
pub(crate) async fn delete_namespace(url: &str, ns: &str) {
    use lapin::{Connection, ConnectionProperties};
    let Ok(conn) = Connection::connect(url, ConnectionProperties::default()).await else {
        return;
    };
    let Ok(ch) = conn.create_channel().await else {
        return;
    };
    for m in crate::targets::modules() {
        for q in [
            format!("{ns}.req.{}", m.name),
            format!("{ns}.rq.{}", m.name),
            format!("{ns}.evt.{}", m.name),
        ] {
            let _ = ch.queue_delete(q.as_str().into(), Default::default()).await;
        }
    }
    let _ = ch
        .queue_delete(format!("{ns}.dead").as_str().into(), Default::default())
        .await;
    for x in [format!("{ns}.events"), format!("{ns}.dlx")] {
        let _ = ch
            .exchange_delete(x.as_str().into(), Default::default())
            .await;
    }
    let _ = conn.close(200, "bye".into()).await;
}
