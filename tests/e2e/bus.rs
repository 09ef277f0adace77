//! The bus against a real RabbitMQ (and the in-process bus): deadlines, competing consumers,
//! events.

use crate::common;

use async_trait::async_trait;
use bytes::Bytes;
use ecl_bench::bench::Echo;
use ecl_bus::{
    Bus, CallCtx, EventEnvelope, EventHandler, Reply, RequestEnvelope, RequestHandler, Transport,
};
use ecl_kernel::{AppError, ErrorCode, Principal};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// Counts what it executes and echoes the body.
#[derive(Default)]
struct Counting(AtomicUsize);

#[async_trait]
impl RequestHandler for Counting {
    async fn handle(&self, req: RequestEnvelope) -> Result<Reply, AppError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Reply::new(req.body))
    }
}

fn ctx(ms: u64) -> CallCtx {
    CallCtx::new(Principal::system("test"), Duration::from_millis(ms))
}

#[actix_rt::test]
async fn memory_bus_without_consumer_is_unavailable_at_once() {
    let bus = Bus::new(ecl_bus::connect("memory:", "t").await.unwrap());
    let t = Instant::now();
    let e = bus.call(&ctx(500), &Echo(vec![1])).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unavailable);
    assert!(t.elapsed() < Duration::from_millis(100));
}

/// In both ways of expiring requests — the broker dropping each by its own expiration, or the
/// consumer's deadline check alone under the queue's TTL — a request nobody took before its
/// deadline fails in time and is never executed by a consumer that comes later.
#[actix_rt::test]
async fn amqp_request_without_consumer_fails_in_time_and_is_never_executed_later() {
    for (tag, expiry) in [
        ("m", ecl_bus::RequestExpiry::PerMessage),
        ("q", ecl_bus::RequestExpiry::QueueTtl),
    ] {
        let seen = request_past_its_deadline(tag, expiry).await;
        assert_eq!(seen.code, ErrorCode::Unavailable, "{expiry:?}");
        assert!(
            seen.waited >= Duration::from_millis(250) && seen.waited < Duration::from_millis(1500),
            "{expiry:?}: {:?}",
            seen.waited
        );
        assert_eq!(
            seen.executed_late, 0,
            "{expiry:?}: expired request executed late"
        );
        assert_eq!(seen.fresh_reply, vec![9], "{expiry:?}");
        assert_eq!(seen.executed_after, 1, "{expiry:?}");
    }
}

/// What a request past its deadline came to.
struct Expired {
    /// The caller's error, and how long it waited for it.
    code: ErrorCode,
    waited: Duration,
    /// Executions by a consumer that came after the deadline, before and after a fresh request.
    executed_late: usize,
    executed_after: usize,
    fresh_reply: Vec<u8>,
}

async fn request_past_its_deadline(tag: &str, expiry: ecl_bus::RequestExpiry) -> Expired {
    let ns = format!("tb{tag}{}", std::process::id());
    let url = common::amqp_url();
    let connect = || ecl_bus::AmqpTransport::connect_with(&url, &ns, expiry);
    let client = Bus::new(Arc::new(
        connect()
            .await
            .expect("RabbitMQ reachable (run ./scripts/test)"),
    ));
    let t = Instant::now();
    let e = client
        .call(&ctx(300), &Echo(vec![1, 2, 3]))
        .await
        .unwrap_err();
    let waited = t.elapsed();

    // A consumer that comes back afterwards must not execute the stale request. (Time passing
    // is the point here: the request's deadline lies behind it.)
    tokio::time::sleep(Duration::from_millis(100)).await;
    let server: Arc<dyn Transport> = Arc::new(connect().await.unwrap());
    let counting = Arc::new(Counting::default());
    server.serve("bench", counting.clone()).await.unwrap();
    // A negative: nothing may run in this window, so there is no condition to wait for.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let executed_late = counting.0.load(Ordering::SeqCst);

    // …while a fresh request is served by it.
    let fresh_reply = client.call(&ctx(2000), &Echo(vec![9])).await.unwrap();
    let executed_after = counting.0.load(Ordering::SeqCst);
    server.shutdown().await;
    client.transport().shutdown().await;
    common::delete_amqp_namespace(&ns).await;
    Expired {
        code: e.code,
        waited,
        executed_late,
        executed_after,
        fresh_reply,
    }
}

#[actix_rt::test]
async fn amqp_competing_consumers_share_the_work_and_errors_travel() {
    let ns = format!("tc{}", std::process::id());
    let client = Bus::new(ecl_bus::connect(&common::amqp_url(), &ns).await.unwrap());
    let a: Arc<dyn Transport> = ecl_bus::connect(&common::amqp_url(), &ns).await.unwrap();
    let b: Arc<dyn Transport> = ecl_bus::connect(&common::amqp_url(), &ns).await.unwrap();
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    a.serve("bench", ca.clone()).await.unwrap();
    b.serve("bench", cb.clone()).await.unwrap();
    let futs = (0..200u8).map(|i| {
        let client = client.clone();
        async move { client.call(&ctx(5000), &Echo(vec![i])).await }
    });
    let replies = futures::future::join_all(futs).await;
    for (i, r) in replies.into_iter().enumerate() {
        assert_eq!(r.unwrap(), vec![i as u8]);
    }
    let (na, nb) = (ca.0.load(Ordering::SeqCst), cb.0.load(Ordering::SeqCst));
    assert_eq!(na + nb, 200);
    assert!(na > 0 && nb > 0, "both replicas took work: {na}/{nb}");

    // A typed error crosses the broker with its code intact.
    struct Refuse;
    #[async_trait]
    impl RequestHandler for Refuse {
        async fn handle(&self, _: RequestEnvelope) -> Result<Reply, AppError> {
            Err(AppError::invalid("x", "bad x"))
        }
    }
    a.serve("nobody", Arc::new(Refuse)).await.unwrap();
    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    struct Ping;
    ecl_proto::call!(Ping => (), "nobody", "nobody.ping.v1");
    let e = client.call(&ctx(2000), &Ping).await.unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::InvalidInput, Some("x"))
    );

    for t in [&a, &b] {
        t.shutdown().await;
    }
    client.transport().shutdown().await;
    common::delete_amqp_namespace(&ns).await;
}

struct Collect(tokio::sync::mpsc::UnboundedSender<EventEnvelope>);

#[async_trait]
impl EventHandler for Collect {
    async fn handle(&self, ev: EventEnvelope) -> Result<(), AppError> {
        let _ = self.0.send(ev);
        Ok(())
    }
}

async fn recv(rx: &mut tokio::sync::mpsc::UnboundedReceiver<EventEnvelope>) -> Vec<String> {
    let mut got = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(700), rx.recv()).await {
        got.push(ev.id);
    }
    got.sort();
    got
}

/// The event ids each group received: "tenant" (two replicas sharing one queue, on
/// `contract.*`), "sla" (`#`), "billing" (`identity.*`, which nothing published).
struct Received {
    tenant: Vec<String>,
    sla: Vec<String>,
    billing: Vec<String>,
}

impl Received {
    fn assert_each_group_once(&self) {
        let mut expected: Vec<String> = (0..10).map(|i| format!("ev-{i}")).collect();
        expected.sort();
        assert_eq!(self.tenant, expected, "one delivery per group");
        assert_eq!(self.sla, expected);
        assert!(self.billing.is_empty(), "pattern does not match");
    }
}

async fn events_to_groups(url: &str, ns: &str) -> Received {
    let bus = Bus::new(ecl_bus::connect(url, ns).await.unwrap());
    let (tx1, mut rx1) = tokio::sync::mpsc::unbounded_channel();
    let (tx2, mut rx2) = tokio::sync::mpsc::unbounded_channel();
    let (tx3, mut rx3) = tokio::sync::mpsc::unbounded_channel();
    // Group "tenant" has two replicas: each event reaches one of them. Group "sla" gets its own copy.
    bus.transport()
        .subscribe("tenant", &["contract.*"], Arc::new(Collect(tx1.clone())))
        .await
        .unwrap();
    bus.transport()
        .subscribe("tenant", &["contract.*"], Arc::new(Collect(tx1)))
        .await
        .unwrap();
    bus.transport()
        .subscribe("sla", &["#"], Arc::new(Collect(tx2)))
        .await
        .unwrap();
    bus.transport()
        .subscribe("billing", &["identity.*"], Arc::new(Collect(tx3)))
        .await
        .unwrap();
    for i in 0..10 {
        bus.publish_raw(
            format!("ev-{i}"),
            "contract.changed".into(),
            "trace".into(),
            Bytes::from(format!("{i}")),
        )
        .await
        .unwrap();
    }
    let received = Received {
        tenant: recv(&mut rx1).await,
        sla: recv(&mut rx2).await,
        billing: recv(&mut rx3).await,
    };
    bus.transport().shutdown().await;
    received
}

#[actix_rt::test]
async fn events_in_process() {
    events_to_groups("memory:", "m")
        .await
        .assert_each_group_once();
}

#[actix_rt::test]
async fn events_over_amqp() {
    let ns = format!("te{}", std::process::id());
    let received = events_to_groups(&common::amqp_url(), &ns).await;
    common::delete_amqp_namespace(&ns).await;
    received.assert_each_group_once();
}

/// Per-process subscriptions fan out: each subscriber (each gateway replica) gets every event, in
/// publishing order — unlike a group, whose replicas share one queue.
async fn ephemeral_subscribers(a: Arc<dyn Transport>, b: Arc<dyn Transport>) -> Fanned {
    let (tx1, mut rx1) = tokio::sync::mpsc::unbounded_channel();
    let (tx2, mut rx2) = tokio::sync::mpsc::unbounded_channel();
    let (tx3, mut rx3) = tokio::sync::mpsc::unbounded_channel();
    a.subscribe_ephemeral(&["contract.*", "tenant.*"], Arc::new(Collect(tx1)))
        .await
        .unwrap();
    b.subscribe_ephemeral(&["contract.*"], Arc::new(Collect(tx2)))
        .await
        .unwrap();
    b.subscribe_ephemeral(&["identity.*"], Arc::new(Collect(tx3)))
        .await
        .unwrap();
    let publisher = Bus::new(a.clone());
    for i in 0..10 {
        publisher
            .publish_raw(
                format!("ev-{i}"),
                "contract.changed".into(),
                "trace".into(),
                Bytes::from(format!("{i}")),
            )
            .await
            .unwrap();
    }
    let mut got1 = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(700), rx1.recv()).await {
        got1.push(ev.id);
    }
    let mut got2 = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(300), rx2.recv()).await {
        got2.push(ev.id);
    }
    Fanned {
        first: got1,
        second: got2,
        unmatched: recv(&mut rx3).await,
    }
}

/// What each per-process subscriber received, in arrival order: two on `contract.*`, one on
/// `identity.*` (which nothing published).
struct Fanned {
    first: Vec<String>,
    second: Vec<String>,
    unmatched: Vec<String>,
}

impl Fanned {
    fn assert_every_event_to_each_in_order(&self) {
        let in_order: Vec<String> = (0..10).map(|i| format!("ev-{i}")).collect();
        assert_eq!(
            self.first, in_order,
            "first subscriber: every event, in order"
        );
        assert_eq!(self.second, in_order, "second subscriber: every event too");
        assert!(self.unmatched.is_empty(), "pattern does not match");
    }
}

#[actix_rt::test]
async fn ephemeral_fan_out_in_process() {
    let t = ecl_bus::connect("memory:", "m").await.unwrap();
    let fanned = ephemeral_subscribers(t.clone(), t.clone()).await;
    t.shutdown().await;
    fanned.assert_every_event_to_each_in_order();
}

#[actix_rt::test]
async fn ephemeral_fan_out_over_amqp() {
    let ns = format!("tf{}", std::process::id());
    // Two connections: two processes, as two gateway replicas would be.
    let a = ecl_bus::connect(&common::amqp_url(), &ns).await.unwrap();
    let b = ecl_bus::connect(&common::amqp_url(), &ns).await.unwrap();
    let fanned = ephemeral_subscribers(a.clone(), b.clone()).await;
    a.shutdown().await;
    b.shutdown().await;
    common::delete_amqp_namespace(&ns).await;
    fanned.assert_every_event_to_each_in_order();
}
