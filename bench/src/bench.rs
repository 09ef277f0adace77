//! Benchmarks that print figures (`ecl bench …`). Tests never time; these do.

use clap::Subcommand;
use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppResult, Principal};
use futures::{StreamExt, stream::FuturesUnordered};
use serde::{Deserialize, Serialize};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

#[derive(Subcommand, Clone)]
pub enum Which {
    /// Request/reply latency and throughput: in-process bus, AMQP bus, and a bare lapin loop.
    Bus {
        #[arg(
            long,
            env = "ECL_AMQP_URL",
            default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
        )]
        amqp_url: String,
        /// Sequential round-trips for the latency figures.
        #[arg(long, default_value_t = 3000)]
        sequential: usize,
        /// Seconds of the concurrent run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Requests in flight during the concurrent run.
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
    },
    /// Sign-in throughput with argon2id (OWASP parameters) against cores ÷ hash time, and the p99
    /// of ordinary queries before and during a sign-in storm. Embedded platform, over HTTP.
    SignIn {
        /// Seconds of each measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Concurrent sign-in clients in the storm.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// Memory of idle service processes: starts one `ecl serve --target X` per target with this
    /// process's environment (set ECL_DATABASE_URL, ECL_AMQP_URL, ECL_REDIS_URL for the distributed
    /// topology), waits until each is ready and idle, and prints its RSS.
    Idle {
        #[arg(
            long,
            default_value = "identity,contract,tenant,metering,billing,notification,sla,gateway",
            value_delimiter = ','
        )]
        targets: Vec<String>,
        /// Seconds to let the processes settle before reading their memory.
        #[arg(long, default_value_t = 3)]
        settle: u64,
    },
    /// The partner walk query (1,000 children × 3 tenants × 4 users) at 1 and 32 clients:
    /// embedded, distributed and the in-memory floor (see `bench/src/bench_walk.rs`).
    Walk(crate::bench_walk::WalkArgs),
    /// A MAINTENANCE notice on every tenant of a partner with 1,000 children × 3 tenants × 4
    /// users: recipients resolved (time, bus requests), mails/s to a local SMTP sink, peak RSS
    /// (see `bench/src/bench_notify.rs`).
    Notify(crate::bench_notify::NotifyArgs),
    /// Availability and credits of a partner with 1,000 children × 3 tenants over a month with
    /// 10,000 incidents: time, bus requests, peak RSS (see `bench/src/bench_sla.rs`).
    Sla(crate::bench_sla::SlaArgs),
    /// Usage ingestion (events/s, embedded and, with --distributed, over RabbitMQ + PostgreSQL),
    /// the month close of what was ingested, rating CPU against bare rust_decimal, peak RSS.
    Ingest {
        /// Events to ingest (10 per resource).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 100_000)]
        resources: usize,
        #[arg(long, default_value_t = 100)]
        tenants: usize,
        /// Events per published message.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Messages published concurrently.
        #[arg(long, default_value_t = 16)]
        in_flight: usize,
        /// Also run distributed: separate processes over PostgreSQL (this base URL, a fresh
        /// database per run), RabbitMQ and Redis.
        #[arg(long)]
        distributed: bool,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
        pg_url: String,
        #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
        amqp_url: String,
        #[arg(long, default_value = "redis://127.0.0.1:6379/0")]
        redis_url: String,
    },
}

pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Bus {
            amqp_url,
            sequential,
            seconds,
            in_flight,
        } => bus(&amqp_url, sequential, seconds, in_flight).await,
        Which::Idle { targets, settle } => idle(&targets, settle).await,
        Which::SignIn { seconds, clients } => sign_in(seconds, clients).await,
        Which::Walk(args) => crate::bench_walk::run(args).await,
        Which::Notify(args) => crate::bench_notify::run(args).await,
        Which::Sla(args) => crate::bench_sla::run(args).await,
        Which::Ingest {
            events,
            resources,
            tenants,
            batch,
            in_flight,
            distributed,
            pg_url,
            amqp_url,
            redis_url,
        } => {
            let d = distributed.then_some((pg_url, amqp_url, redis_url));
            ingest_bench(events, resources, tenants, batch, in_flight, d).await
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Echo(pub Vec<u8>);
ecl_proto::call!(Echo => Vec<u8>, "bench", "bench.echo.v1");

/// Latency (sequential) and throughput (concurrent) of one way of doing a request/reply.
pub struct Figures {
    pub name: String,
    pub p50_us: f64,
    pub p99_us: f64,
    pub rps: f64,
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e6
}

/// Runs the load on the multi-threaded worker pool, as a separate client process would: the
/// launcher's own thread (where actix actors live) is left to the server side.
async fn measure<F, Fut>(
    name: &str,
    sequential: usize,
    seconds: u64,
    in_flight: usize,
    one: F,
) -> anyhow::Result<Figures>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let name = name.to_string();
    tokio::spawn(async move { load(name, sequential, seconds, in_flight, one).await }).await?
}

async fn load<F, Fut>(
    name: String,
    sequential: usize,
    seconds: u64,
    in_flight: usize,
    one: F,
) -> anyhow::Result<Figures>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for _ in 0..200 {
        one().await?; // warm-up
    }
    let mut lat = Vec::with_capacity(sequential);
    for _ in 0..sequential {
        let t = Instant::now();
        one().await?;
        lat.push(t.elapsed());
    }
    lat.sort();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut done = 0u64;
    let mut running = FuturesUnordered::new();
    for _ in 0..in_flight {
        running.push(one());
    }
    while let Some(r) = running.next().await {
        r?;
        done += 1;
        if Instant::now() < deadline {
            running.push(one());
        }
    }
    let rps = done as f64 / started.elapsed().as_secs_f64();
    Ok(Figures {
        name,
        p50_us: percentile(&lat, 0.5),
        p99_us: percentile(&lat, 0.99),
        rps,
    })
}

struct EchoSvc;

async fn start_echo(bus: &Bus) -> anyhow::Result<()> {
    let router = Router::default()
        .route(|_: Arc<EchoSvc>, _ctx, req: Echo| async move { AppResult::Ok(req.0) });
    ecl_runtime::serve(
        bus,
        "bench",
        Arc::new(EchoSvc),
        router,
        EventRouter::default(),
        None,
    )
    .await?;
    Ok(())
}

async fn via_bus(
    name: &str,
    server: Bus,
    client: Bus,
    sequential: usize,
    seconds: u64,
    in_flight: usize,
) -> anyhow::Result<Figures> {
    start_echo(&server).await?;
    let payload = vec![7u8; 64];
    measure(name, sequential, seconds, in_flight, move || {
        let (client, payload) = (client.clone(), payload.clone());
        async move {
            let ctx = CallCtx::new(Principal::system("bench"), Duration::from_secs(5));
            client.call(&ctx, &Echo(payload)).await?;
            Ok(())
        }
    })
    .await
}

async fn bus(
    amqp_url: &str,
    sequential: usize,
    seconds: u64,
    in_flight: usize,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mem = Bus::new(ecl_bus::connect("memory:", "bench").await?);
    rows.push(
        via_bus(
            "in-process bus (actor)",
            mem.clone(),
            mem,
            sequential,
            seconds,
            in_flight,
        )
        .await?,
    );

    let ns = format!("bench-{}", std::process::id());
    // Server and client on separate connections, as two processes would be; once per way of
    // expiring requests (per-message expiry, or the queue's TTL and the consumer's check alone).
    for (name, expiry) in [
        ("AMQP bus (ecl)", ecl_bus::RequestExpiry::PerMessage),
        (
            "AMQP bus (ecl, queue TTL)",
            ecl_bus::RequestExpiry::QueueTtl,
        ),
    ] {
        let connect = || ecl_bus::AmqpTransport::connect_with(amqp_url, &ns, expiry);
        let server = Bus::new(Arc::new(connect().await?));
        let client = Bus::new(Arc::new(connect().await?));
        rows.push(
            via_bus(
                name,
                server.clone(),
                client.clone(),
                sequential,
                seconds,
                in_flight,
            )
            .await?,
        );
        server.transport().shutdown().await;
        client.transport().shutdown().await;
    }
    rows.push(floor::bare_lapin(amqp_url, &ns, sequential, seconds, in_flight).await?);
    floor::cleanup(amqp_url, &ns).await;

    println!(
        "\nbus request/reply, 64-byte payload ({sequential} sequential for latency; {in_flight} in flight for {seconds}s for throughput)"
    );
    println!(
        "{:<28} {:>10} {:>10} {:>12}",
        "", "p50 µs", "p99 µs", "req/s"
    );
    for r in &rows {
        println!(
            "{:<28} {:>10.0} {:>10.0} {:>12.0}",
            r.name, r.p50_us, r.p99_us, r.rps
        );
    }
    let bare = &rows[3];
    for ecl in &rows[1..3] {
        println!(
            "{} vs bare lapin: throughput {:.0} % of the floor (aim ≥ 80 %), p50 {:.2}× the floor (aim ≤ 1.5×)",
            ecl.name,
            ecl.rps / bare.rps * 100.0,
            ecl.p50_us / bare.p50_us
        );
    }
    print_rss("bench process (all buses)");
    Ok(())
}

pub fn print_rss(what: &str) {
    let mb = |b: Option<u64>| {
        b.map(|b| format!("{:.1} MB", b as f64 / 1_048_576.0))
            .unwrap_or_else(|| "n/a".into())
    };
    println!(
        "peak RSS, {what}: {} (current {})",
        mb(ecl_kernel::telemetry::peak_rss_bytes()),
        mb(ecl_kernel::telemetry::current_rss_bytes())
    );
}

/// The floor: request/reply with lapin and nothing else — direct reply-to, no framework, no actor.
mod floor {
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
                    if let (Some(to), Some(corr)) =
                        (p.reply_to().clone(), p.correlation_id().clone())
                    {
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
}

pub(crate) async fn ready(addr: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    if s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n").await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    buf.starts_with(b"HTTP/1.0 200") || buf.starts_with(b"HTTP/1.1 200")
}

pub(crate) fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn idle(targets: &[String], settle: u64) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for t in targets {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(&exe)
            .args(["serve", "--target", t])
            .env("ECL_HTTP_ADDR", &addr)
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let started = Instant::now();
        while !ready(&addr).await {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "{t} did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        children.push((t.clone(), child));
    }
    tokio::time::sleep(Duration::from_secs(settle)).await;
    println!("\nidle processes (ready, no traffic for {settle}s)");
    println!("{:<14} {:>12} {:>12}", "target", "RSS MB", "peak RSS MB");
    for (t, child) in &mut children {
        let mb = |kb: Option<u64>| {
            kb.map(|k| format!("{:.1}", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".into())
        };
        println!(
            "{:<14} {:>12} {:>12}",
            t,
            mb(proc_status_kb(child.id(), "VmRSS:")),
            mb(proc_status_kb(child.id(), "VmHWM:"))
        );
        let _ = child.kill();
        let _ = child.wait();
    }
    print_rss("bench driver");
    Ok(())
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
) -> anyhow::Result<serde_json::Value> {
    let mut req = http.post(url).json(&serde_json::json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let v: serde_json::Value = req.send().await?.json().await?;
    anyhow::ensure!(v.get("errors").is_none(), "query failed: {v}");
    Ok(v)
}

/// p99 (µs) and count of `query` issued back to back by 4 clients for `seconds`.
async fn query_p99(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    seconds: u64,
) -> anyhow::Result<(f64, usize)> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (http, url, token) = (http.clone(), url.to_string(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                gql(
                    &http,
                    &url,
                    Some(&token),
                    "{ me { loginId } contracts(first: 5) { totalCount } }",
                )
                .await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    Ok((percentile(&all, 0.99), all.len()))
}

async fn sign_in(seconds: u64, clients: usize) -> anyhow::Result<()> {
    let password = "Bench-pass-123";
    let settings = ecl_kernel::Settings {
        http_addr: "127.0.0.1:0".parse()?,
        database_url: Some("sqlite::memory:".into()),
        bootstrap_operator_password: Some(ecl_kernel::Secret::new(password)),
        // The storm signs in with the right password: nothing to lock. All its clients are
        // 127.0.0.1, so the per-client sign-in limit is lifted: the storm measures the hashing.
        sign_in_burst: 1_000_000,
        ..Default::default()
    };
    let app = crate::App::start(settings, &["all".to_string()]).await?;
    let url = format!("http://{}/graphql", app.addr);
    let http = reqwest::Client::new();
    let sign_in_q = format!(
        "mutation {{ signIn(loginId: \"operator\", password: \"{password}\") {{ accessToken }} }}"
    );
    let token = gql(&http, &url, None, &sign_in_q).await?["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // One argon2id hash, alone, on this machine.
    let mut hash_times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        ecl_identity::password::hash("Some-password-1".into()).await?;
        hash_times.push(t.elapsed().as_secs_f64());
    }
    hash_times.sort_by(f64::total_cmp);
    let hash_s = hash_times[2];
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let ceiling = cores as f64 / hash_s;

    let (base_p99, base_n) = query_p99(&http, &url, &token, seconds).await?;

    // Sign-ins alone, then the same storm while the ordinary queries run again.
    let (alone, _) = storm(&http, &url, &sign_in_q, clients, seconds, None).await?;
    let (during, (storm_p99, storm_n)) =
        storm(&http, &url, &sign_in_q, clients, seconds, Some(&token)).await?;
    app.stop().await;

    println!("\nsign-in with argon2id (m=19 MiB, t=2, p=1), embedded, over HTTP");
    println!(
        "one hash alone: {:.1} ms; ceiling = {cores} cores ÷ hash time = {ceiling:.1} sign-ins/s",
        hash_s * 1e3
    );
    println!(
        "sign-in throughput with {clients} clients, nothing else running: {alone:.1}/s = {:.0} % of the ceiling",
        alone / ceiling * 100.0
    );
    println!(
        "sign-in throughput while the queries below run: {during:.1}/s (hashing runs at lower priority: queries first)"
    );
    println!(
        "ordinary query p99 (me + contracts, 4 clients): {:.2} ms alone ({base_n} queries), {:.2} ms during the storm ({storm_n}) = {:.2}× (aim ≤ 2×)",
        base_p99 / 1e3,
        storm_p99 / 1e3,
        storm_p99 / base_p99
    );
    print_rss("embedded all + bench clients");
    Ok(())
}

/// `clients` sign in back to back for `seconds`; with `queries`, the ordinary-query load runs at the
/// same time and its p99 is returned. Returns sign-ins per second.
async fn storm(
    http: &reqwest::Client,
    url: &str,
    sign_in_q: &str,
    clients: usize,
    seconds: u64,
    queries: Option<&str>,
) -> anyhow::Result<(f64, (f64, usize))> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, q) = (http.clone(), url.to_string(), sign_in_q.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                gql(&http, &url, None, &q).await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let started = Instant::now();
    let q = match queries {
        Some(token) => query_p99(http, url, token, seconds).await?,
        None => (0.0, 0),
    };
    let mut n = 0;
    for t in tasks {
        n += t.await??;
    }
    Ok((n as f64 / started.elapsed().as_secs_f64(), q))
}

// ---- ecl bench ingest ---------------------------------------------------------------------------

/// Usage ingestion and month close (issue 5). Usage travels as `metering.usage_reported` events of
/// `batch` events each, the way internal producers publish it; "ingested" means stored by metering
/// (counted with `CountEvents`: events sent = events counted).
mod ingest {
    use super::{print_rss, proc_status_kb, ready};
    use chrono::{DateTime, Duration as CDuration, Utc};
    use ecl_billing::rating::{Menu, Month, Period, Resource, UsageInterval, rate_tenant};
    use ecl_bus::{Bus, CallCtx};
    use ecl_kernel::Principal;
    use ecl_proto::{
        billing::CloseMonth,
        contract::{ContractKind, CreateContract, Customer, OwnerInput},
        metering::{CountEvents, RecordUsage, UsageEvent, UsageKind, UsageOutcome, UsageReported},
        tenant::CreateTenant,
    };
    use futures::{StreamExt, stream};
    use rust_decimal::Decimal;
    use std::time::{Duration, Instant};

    fn sys() -> CallCtx {
        CallCtx::new(Principal::system("bench"), Duration::from_secs(600))
    }

    /// Events per resource: start, status changes, stop — spread over `month`.
    pub const PER_RESOURCE: usize = 10;

    /// The events of resources `from..to`.
    pub fn events(
        tenants: &[String],
        (from, to): (usize, usize),
        month: Month,
        run: &str,
    ) -> Vec<UsageEvent> {
        let mut out = Vec::with_capacity((to - from) * PER_RESOURCE);
        let start = month.start();
        for r in from..to {
            let tenant = &tenants[r % tenants.len()];
            let (menu, plan) = if r % 2 == 0 {
                ("compute", "1CPU-4GB")
            } else {
                ("volume", "15GB")
            };
            for k in 0..PER_RESOURCE {
                let at = start
                    + CDuration::hours((r % 48) as i64 + k as i64 * 60)
                    + CDuration::seconds((r % 3600) as i64);
                let kind = match k {
                    0 => UsageKind::Start,
                    k if k == PER_RESOURCE - 1 => UsageKind::Stop,
                    _ => UsageKind::Change,
                };
                out.push(UsageEvent {
                    id: format!("{run}-{r}-{k}"),
                    tenant_id: tenant.clone(),
                    resource_id: format!("res-{r}"),
                    menu_code: menu.into(),
                    kind,
                    at,
                    plan: (kind == UsageKind::Start).then(|| plan.into()),
                    status: (kind == UsageKind::Change)
                        .then(|| if k % 2 == 0 { "Running" } else { "Stopped" }.into()),
                    quantity: None,
                    resource_name: None,
                });
            }
        }
        out
    }

    /// A contract with `n` tenants, each known to metering (a probe event accepted).
    pub async fn tenants(bus: &Bus, n: usize, month: Month) -> anyhow::Result<Vec<String>> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let c = bus
            .call(
                &sys(),
                &CreateContract {
                    kind: ContractKind::Direct,
                    parent_id: None,
                    name: "Bench Co".into(),
                    external_id: None,
                    customer: Customer {
                        company: "Bench Co".into(),
                        address: String::new(),
                        contact_name: String::new(),
                        contact_email: "bench@example.com".into(),
                    },
                    owner: OwnerInput {
                        login_id: format!("bench-{}", &suffix[..8]),
                        email: "bench@example.com".into(),
                        password: "Bench-pass-123".into(),
                    },
                },
            )
            .await?;
        let mut out = Vec::new();
        for i in 0..n {
            let t = bus
                .call(
                    &sys(),
                    &CreateTenant {
                        contract_id: c.id.clone(),
                        name: format!("bench-{i}"),
                        region: "jp1".into(),
                        workspace_id: None,
                    },
                )
                .await?;
            out.push(t.id);
        }
        // Metering learns tenants from the tenant service's events: wait until it knows them all.
        let started = Instant::now();
        loop {
            let probe: Vec<UsageEvent> = out
                .iter()
                .map(|t| UsageEvent {
                    id: format!("probe-{t}"),
                    tenant_id: t.clone(),
                    resource_id: "probe".into(),
                    menu_code: "volume".into(),
                    kind: UsageKind::Start,
                    at: month.start(),
                    plan: Some("15GB".into()),
                    status: None,
                    quantity: None,
                    resource_name: None,
                })
                .collect();
            let r = bus.call(&sys(), &RecordUsage { events: probe }).await?;
            if r.iter().all(|r| r.outcome != UsageOutcome::Rejected) {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "tenants unknown to metering"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(out)
    }

    /// Publishes the events of `resources` resources in batches (`in_flight` publishes at a time,
    /// each batch generated just before it is sent, so the driver holds only what is in flight)
    /// and waits until metering has stored them all. Returns (events/s, seconds).
    pub async fn run(
        bus: &Bus,
        tenants: &[String],
        resources: usize,
        month: Month,
        run: &str,
        batch: usize,
        in_flight: usize,
    ) -> anyhow::Result<(f64, f64)> {
        let before = bus.call(&sys(), &CountEvents {}).await?;
        let n = (resources * PER_RESOURCE) as u64;
        let per_batch = (batch / PER_RESOURCE).max(1);
        let started = Instant::now();
        let results: Vec<_> = stream::iter((0..resources).step_by(per_batch))
            .map(|from| {
                let events = events(
                    tenants,
                    (from, (from + per_batch).min(resources)),
                    month,
                    run,
                );
                async move { bus.publish("bench", &UsageReported { events }).await }
            })
            .buffer_unordered(in_flight)
            .collect()
            .await;
        for r in results {
            r?;
        }
        let published = started.elapsed().as_secs_f64();
        loop {
            let count = bus.call(&sys(), &CountEvents {}).await? - before;
            if count >= n {
                anyhow::ensure!(count == n, "stored {count} events, sent {n}");
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(1800),
                "only {count} of {n} events stored"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = started.elapsed().as_secs_f64();
        println!("  published {n} events in {published:.2} s, all stored after {secs:.2} s");
        Ok((n as f64 / secs, secs))
    }

    pub async fn close(bus: &Bus, month: Month) -> anyhow::Result<(f64, u64)> {
        let started = Instant::now();
        let r = bus
            .call(
                &sys(),
                &CloseMonth {
                    month: month.to_string(),
                },
            )
            .await?;
        Ok((started.elapsed().as_secs_f64(), r.bills))
    }

    /// Rating CPU against its floor: the same resources rated by the engine, and the bare
    /// rust_decimal arithmetic they need (per interval minutes × price, per resource the cap).
    pub fn rating_vs_floor(resources: usize, month: Month) -> anyhow::Result<(f64, f64)> {
        let menus: Vec<Menu> = ecl_billing::menus::seeds()
            .iter()
            .filter(|s| s.code == "compute" || s.code == "volume")
            .map(ecl_billing::menus::to_menu)
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let t0 = month.start();
        let mut res = Vec::with_capacity(resources);
        for r in 0..resources {
            let (menu, plan) = if r % 2 == 0 {
                ("compute", "1CPU-4GB")
            } else {
                ("volume", "15GB")
            };
            let mut x = Resource::new(format!("res-{r}"), menu);
            for k in 0..(PER_RESOURCE - 1) {
                let s: DateTime<Utc> = t0 + CDuration::hours((r % 48) as i64 + k as i64 * 60);
                let e = s + CDuration::hours(60);
                x = x.with_interval(
                    UsageInterval::new(plan, s, Some(e)).with_status(if k % 2 == 0 {
                        "Running"
                    } else {
                        "Stopped"
                    }),
                );
            }
            res.push(x);
        }
        let period = Period::whole(month);
        let started = Instant::now();
        let mut lines = 0usize;
        for chunk in res.chunks(1000) {
            let c = rate_tenant(&menus, chunk, &period).map_err(|e| anyhow::anyhow!("{e}"))?;
            lines += c.resources.iter().map(|r| r.lines.len()).sum::<usize>();
        }
        let engine = started.elapsed().as_secs_f64();
        std::hint::black_box(lines);

        let price = Decimal::new(173_612, 6);
        let cap = Decimal::from(7000);
        let sixty = Decimal::from(60);
        let started = Instant::now();
        let mut total = Decimal::ZERO;
        for r in &res {
            let mut sum = Decimal::ZERO;
            for i in &r.intervals {
                let secs = (i.end.unwrap_or(i.start) - i.start).num_seconds();
                let minutes = Decimal::from(secs) / sixty;
                sum += (minutes * price)
                    .round_dp_with_strategy(6, rust_decimal::RoundingStrategy::ToZero);
            }
            total += sum.min(cap);
        }
        let floor = started.elapsed().as_secs_f64();
        std::hint::black_box(total);
        Ok((engine, floor))
    }

    pub struct Proc {
        pub name: String,
        pub child: std::process::Child,
    }

    /// Starts `ecl serve --target t` per group over PostgreSQL/RabbitMQ/Redis, in namespace `ns`.
    pub async fn spawn(
        groups: &[&str],
        db_url: &str,
        amqp: &str,
        redis: &str,
        ns: &str,
    ) -> anyhow::Result<Vec<Proc>> {
        let exe = std::env::current_exe()?;
        let mut out = Vec::new();
        for g in groups {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let addr = format!("127.0.0.1:{port}");
            let child = std::process::Command::new(&exe)
                .args(["serve", "--target", g])
                .env("ECL_HTTP_ADDR", &addr)
                .env("ECL_DATABASE_URL", db_url)
                .env("ECL_AMQP_URL", amqp)
                .env("ECL_REDIS_URL", redis)
                .env("ECL_NAMESPACE", ns)
                .env("ECL_BOOTSTRAP_OPERATOR_PASSWORD", "Bench-pass-123")
                .stdout(std::process::Stdio::null())
                .spawn()?;
            let started = Instant::now();
            while !ready(&addr).await {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(60),
                    "{g} did not become ready"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            out.push(Proc {
                name: g.to_string(),
                child,
            });
        }
        Ok(out)
    }

    pub fn print_procs(procs: &mut [Proc]) {
        for p in procs.iter_mut() {
            let hwm = proc_status_kb(p.child.id(), "VmHWM:")
                .map(|k| format!("{:.1} MB", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".into());
            println!("peak RSS, process {}: {hwm}", p.name);
        }
    }

    pub fn stop(procs: &mut Vec<Proc>) {
        for p in procs.iter_mut() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        procs.clear();
    }

    pub fn report(what: &str, rate: f64, aim: f64) {
        println!(
            "{what}: {rate:.0} events/s (aim ≥ {aim:.0}/s: {})",
            if rate >= aim { "met" } else { "not met" }
        );
    }

    pub fn print_rss_here() {
        print_rss("bench driver (embedded: the whole platform)");
    }
}

async fn ingest_bench(
    events_n: usize,
    resources: usize,
    tenants_n: usize,
    batch: usize,
    in_flight: usize,
    distributed: Option<(String, String, String)>,
) -> anyhow::Result<()> {
    use ecl_billing::rating::Month;
    let month = Month::containing(chrono::Utc::now()).prev();
    let resources = resources.min(events_n / ingest::PER_RESOURCE).max(1);
    let n = resources * ingest::PER_RESOURCE;
    println!(
        "usage ingestion: {n} events ({resources} resources × {} events) in batches of {batch}, month {month}",
        ingest::PER_RESOURCE
    );

    // Embedded: every target in this process, SQLite file, in-process bus.
    let dir = std::env::temp_dir().join(format!("ecl-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let settings = ecl_kernel::Settings {
        http_addr: "127.0.0.1:0".parse()?,
        database_url: None,
        data_dir: dir.clone(),
        bootstrap_operator_password: Some(ecl_kernel::Secret::new("Bench-pass-123")),
        ..Default::default()
    };
    let app = crate::App::start(settings, &["all".to_string()]).await?;
    let tenants = ingest::tenants(&app.bus, tenants_n, month).await?;
    let (rate, _) = ingest::run(
        &app.bus, &tenants, resources, month, "emb", batch, in_flight,
    )
    .await?;
    ingest::report("embedded (SQLite file, in-process bus)", rate, 100_000.0);
    let (secs, bills) = ingest::close(&app.bus, month).await?;
    println!(
        "embedded month close: {secs:.2} s for {resources} resources, {n} events ({bills} bills; aim < 10 s)"
    );
    app.stop().await;
    ingest::print_rss_here();
    let _ = std::fs::remove_dir_all(&dir);

    let (engine, floor) = ingest::rating_vs_floor(resources, month)?;
    println!(
        "rating CPU for {resources} resources: engine {:.3} s, bare rust_decimal floor {:.3} s = {:.1}× (aim ≤ 3×)",
        engine,
        floor,
        engine / floor
    );

    if let Some((pg, amqp, redis)) = distributed {
        let ns = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let db = format!("ecl_{ns}");
        let admin = sea_orm::Database::connect(format!("{pg}/postgres")).await?;
        use sea_orm::ConnectionTrait;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db}"))
            .await?;
        let db_url = format!("{pg}/{db}");
        let mut procs = ingest::spawn(
            &["identity,contract,tenant", "billing", "metering"],
            &db_url,
            &amqp,
            &redis,
            &ns,
        )
        .await?;
        let outcome = async {
            let bus = ecl_bus::Bus::new(ecl_bus::connect(&amqp, &ns).await?);
            let tenants = ingest::tenants(&bus, tenants_n, month).await?;
            let (rate, _) =
                ingest::run(&bus, &tenants, resources, month, "dist", batch, in_flight).await?;
            ingest::report("distributed (RabbitMQ + PostgreSQL, durable)", rate, 50_000.0);
            let (secs, bills) = ingest::close(&bus, month).await?;
            println!("distributed month close: {secs:.2} s for {resources} resources, {n} events ({bills} bills; aim < 10 s)");
            bus.transport().shutdown().await;
            anyhow::Ok(())
        }
        .await;
        ingest::print_procs(&mut procs);
        ingest::stop(&mut procs);
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await;
        outcome?;
    }
    Ok(())
}
