//! Reliability: replicas starting together, redelivered and poison events, and faults caused for
//! real — broker connections closed, database backends terminated, a replica SIGKILLed — in the
//! middle of 100,000 usage events and a stream of requests. One use case per file; this file holds
//! what they share.

use crate::common;

mod broker_connections_closed;
mod database_connections_terminated;
mod metering_replica_killed;
mod poison_events;
mod redelivered_events;
mod replicas_start_together;

use common::*;
use ecl_bus::{Bus, CallCtx};
use ecl_kernel::Principal;
use ecl_proto::{
    contract::{ContractKind, CreateContract, Customer, OwnerInput},
    metering::{UsageEvent, UsageKind, UsageReported},
    tenant::CreateTenant,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// The usage stream of the fault tests: 100,000 events in batches of 1,000, as internal producers
/// publish them (`metering.usage_reported`).
pub const EVENTS: usize = 100_000;
pub const BATCH: usize = 1_000;
/// Batches published per second: the stream lasts about ten seconds, so a fault injected after
/// batch [`FAULT_AT`] (taking up to two seconds: `rabbitmqctl` starts an Erlang VM) lands while
/// events are still being published and stored — the test checks it did.
pub const BATCHES_PER_SEC: u64 = 10;
pub const FAULT_AT: usize = 25;

pub fn sys() -> CallCtx {
    CallCtx::new(Principal::system("test"), Duration::from_secs(30))
}

/// Polls `cond` every 50 ms until it holds; panics with `what` after `limit`.
pub async fn until<F, Fut>(limit: Duration, what: &str, cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    wait_until(limit, what, cond).await
}

/// One number from the database.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a number")
}

/// A contract with `n` tenants, made over the bus, once metering knows every tenant.
pub async fn tenants(d: &Distributed, bus: &Bus, n: usize) -> Vec<String> {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let c = bus
        .call(
            &sys(),
            &CreateContract {
                kind: ContractKind::Direct,
                parent_id: None,
                name: "Fault Co".into(),
                external_id: None,
                customer: Customer {
                    company: "Fault Co".into(),
                    address: String::new(),
                    contact_name: String::new(),
                    contact_email: "fault@example.com".into(),
                },
                owner: OwnerInput {
                    login_id: format!("fault-{suffix}"),
                    email: "fault@example.com".into(),
                    password: "Fault-pass-123".into(),
                },
            },
        )
        .await
        .expect("contract");
    let mut out = Vec::new();
    for i in 0..n {
        let t = bus
            .call(
                &sys(),
                &CreateTenant {
                    contract_id: c.id.clone(),
                    name: format!("fault-{i}"),
                    region: "jp1".into(),
                    workspace_id: None,
                },
            )
            .await
            .expect("tenant");
        out.push(t.id);
    }
    let db = d.database().await;
    let want = n as i64;
    let sql = format!(
        "SELECT count(*) FROM metering.known_tenants WHERE id IN ({})",
        out.iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(",")
    );
    until(
        Duration::from_secs(60),
        "metering knows the tenants",
        || {
            let (db, sql) = (&db, &sql);
            async move { scalar(db, sql).await == want }
        },
    )
    .await;
    out
}

/// The events of batch `b`: 100 resources × 10 events (start, changes, stop) in last month.
pub fn batch(run: &str, tenants: &[String], b: usize) -> Vec<UsageEvent> {
    // The 11th of last month: all ten events of a resource fall in one month.
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let first = today.with_day(1).unwrap() - chrono::Duration::days(1);
    let start = first
        .with_day(11)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let mut out = Vec::with_capacity(BATCH);
    for i in 0..BATCH {
        let r = b * (BATCH / 10) + i / 10;
        let k = i % 10;
        let kind = match k {
            0 => UsageKind::Start,
            9 => UsageKind::Stop,
            _ => UsageKind::Change,
        };
        out.push(UsageEvent {
            id: format!("{run}-{r}-{k}"),
            tenant_id: tenants[r % tenants.len()].clone(),
            resource_id: format!("res-{r}"),
            menu_code: "volume".into(),
            kind,
            at: start + chrono::Duration::hours(k as i64),
            plan: (kind == UsageKind::Start).then(|| "15GB".into()),
            status: (kind == UsageKind::Change).then(|| "Running".into()),
            quantity: None,
            resource_name: None,
        });
    }
    out
}

/// How the producer publishes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// [`BATCHES_PER_SEC`]: the stream outlasts the fault.
    Steady,
    /// As fast as the broker confirms: a backlog forms, every consumer holds a full prefetch
    /// window of unacknowledged batches.
    Burst,
}

/// Publishes [`EVENTS`] events as a producer does: a publish that fails (broker away) is retried
/// with the same event ids until the broker confirms it. `published` counts confirmed batches.
/// Returns how many publishes failed.
pub async fn produce(
    bus: Bus,
    run: String,
    tenants: Vec<String>,
    published: Arc<AtomicUsize>,
    pace: Pace,
) -> usize {
    let mut every = tokio::time::interval(Duration::from_millis(1000 / BATCHES_PER_SEC));
    let mut failures = 0;
    for b in 0..EVENTS / BATCH {
        if pace == Pace::Steady {
            every.tick().await;
        }
        let ev = UsageReported {
            events: batch(&run, &tenants, b),
        };
        let started = Instant::now();
        while let Err(e) = bus.publish("producer", &ev).await {
            failures += 1;
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "batch {b} never published: {e}"
            );
            // A retry's back-off while the broker is away, as a producer would.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        published.fetch_add(1, Ordering::SeqCst);
    }
    failures
}

/// What a stream of GraphQL requests saw.
#[derive(Debug, Default)]
pub struct Requests {
    pub ok: usize,
    pub failed: usize,
    pub slowest: Duration,
}

impl Requests {
    /// Every request came back within [`REQUEST_LIMIT`], and some were answered.
    pub fn assert_within_deadline(&self) {
        assert!(
            self.slowest <= REQUEST_LIMIT,
            "a request took {:?} (deadline 5 s): {self:?}",
            self.slowest
        );
        assert!(self.ok > 0, "{self:?}");
    }
}

/// Sends `{ contracts }` through the gateway, one after another, until `stop`; every request must
/// come back (answer or error) within the request deadline (5 s) plus a second.
pub async fn request_stream(gql: Gql, token: String, stop: Arc<AtomicBool>) -> Requests {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut seen = Requests::default();
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let r = http
            .post(format!("{}/graphql", gql.base))
            .bearer_auth(&token)
            .json(&json!({"query": "{ contracts(first: 5) { totalCount } }"}))
            .send()
            .await;
        let took = started.elapsed();
        seen.slowest = seen.slowest.max(took);
        let ok = match r {
            Ok(r) => r.json::<serde_json::Value>().await.is_ok_and(|b| {
                b.get("errors").is_none() && b["data"]["contracts"]["totalCount"].is_number()
            }),
            Err(_) => false,
        };
        if ok {
            seen.ok += 1;
        } else {
            seen.failed += 1;
        }
        // The probe's own pace (50 requests a second), not a wait for something.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

/// The deadline a request must come back within: the gateway's (5 s) and a second.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(6);

/// Events stored by metering (ground truth: its table).
pub async fn stored(db: &DatabaseConnection, run: &str) -> i64 {
    scalar(
        db,
        &format!("SELECT count(*) FROM metering.usage_events WHERE id LIKE '{run}-%'"),
    )
    .await
}

/// Tenant-months billing learnt of (through metering's outbox and billing's inbox).
pub async fn billed_months(db: &DatabaseConnection, tenants: &[String]) -> i64 {
    scalar(
        db,
        &format!(
            "SELECT count(*) FROM billing.tenant_months WHERE tenant_id IN ({})",
            tenants
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .await
}

/// The fault scenario the three fault tests share: the platform with two metering replicas, a
/// producer of [`EVENTS`] events and a stream of requests; `fault` runs once [`FAULT_AT`] batches
/// are published. Then every process must be ready again, every event stored exactly once, billing
/// told of every tenant-month, and no request must have outlived its deadline.
pub async fn survive<F, Fut>(name: &str, own_vhost: bool, pace: Pace, fault: F) -> Survived
where
    F: FnOnce(&mut Distributed) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let targets = [
        "identity,contract,tenant",
        "billing",
        "metering",
        "metering",
        "gateway",
    ];
    let mut d = if own_vhost {
        Distributed::start_in_own_vhost(&targets, &[]).await
    } else {
        Distributed::start(&targets).await
    };
    let bus = d.bus().await;
    let tenants = tenants(&d, &bus, 4).await;
    let gql = d.gateway();
    let token = gql.operator().await;
    let db = d.database().await;
    let run = format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);

    let stop = Arc::new(AtomicBool::new(false));
    let requests = tokio::spawn(request_stream(
        Gql::new(&gql.base.replace("http://", "")),
        token,
        stop.clone(),
    ));
    let published = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let producer = tokio::spawn(produce(
        bus.clone(),
        run.clone(),
        tenants.clone(),
        published.clone(),
        pace,
    ));
    until(
        Duration::from_secs(60),
        "the stream reaches the fault",
        || {
            let p = published.clone();
            async move { p.load(Ordering::SeqCst) >= FAULT_AT }
        },
    )
    .await;
    let before = stored(&db, &run).await;
    let backlog = published.load(Ordering::SeqCst) - before as usize / BATCH;
    let fault_at = started.elapsed();
    fault(&mut d).await;
    let fault_took = started.elapsed() - fault_at;
    let (published_after, stored_after) =
        (published.load(Ordering::SeqCst), stored(&db, &run).await);
    eprintln!(
        "{name}: fault at {fault_at:.1?} (took {fault_took:.1?}) with {before} events stored, {backlog} batches waiting; \
         when done: {published_after} of {} batches published, {stored_after} events stored",
        EVENTS / BATCH
    );
    assert!(
        (stored_after as usize) < EVENTS,
        "the fault came after the stream: it proves nothing"
    );
    match pace {
        // The producer itself was still publishing when the fault was over.
        Pace::Steady => assert!(published_after < EVENTS / BATCH, "the stream ended first"),
        // Every consumer held batches it had not acknowledged (prefetch: 64 each).
        Pace::Burst => assert!(backlog >= 4, "no backlog at the fault: {backlog} batches"),
    }

    let failed_publishes = producer.await.expect("producer");
    let db_check = d.database().await;
    until(
        Duration::from_secs(180),
        "every event stored after the fault",
        || {
            let (db, run) = (&db_check, &run);
            async move { stored(db, run).await >= EVENTS as i64 }
        },
    )
    .await;
    let ingested = started.elapsed();
    until(Duration::from_secs(60), "every process ready again", || {
        let d = &d;
        async move { d.all_ready().await }
    })
    .await;
    // Requests go through again once everything reconnected.
    until(Duration::from_secs(60), "requests answered again", || {
        let gql = &gql;
        async move {
            let token = gql.operator().await;
            gql.q(
                Some(&token),
                "{ contracts(first: 1) { totalCount } }",
                json!({}),
            )
            .await
            .body
            .get("errors")
            .is_none()
        }
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let seen = requests.await.expect("request stream");

    let stored_in_the_end = stored(&db_check, &run).await;
    // Every tenant-month reached billing (metering's outbox → billing's inbox).
    until(
        Duration::from_secs(60),
        "billing knows every tenant-month",
        || {
            let (db, t) = (&db_check, &tenants);
            async move { billed_months(db, t).await == t.len() as i64 }
        },
    )
    .await;
    eprintln!(
        "{name}: {EVENTS} events stored exactly once in {ingested:.1?}; {failed_publishes} publishes retried; requests: {} ok, {} failed, slowest {:?}",
        seen.ok, seen.failed, seen.slowest
    );
    db.close().await.ok();
    db_check.close().await.ok();
    bus.transport().shutdown().await;
    d.cleanup().await;
    Survived {
        stored: stored_in_the_end,
        requests: seen,
    }
}

/// What [`survive`] saw once the fault was over and everything had settled.
#[derive(Debug)]
pub struct Survived {
    /// The run's events in metering's table: [`EVENTS`] when each was stored exactly once (ids
    /// are distinct and all valid).
    pub stored: i64,
    /// The request stream beside it: every request must have come back within [`REQUEST_LIMIT`].
    pub requests: Requests,
}
