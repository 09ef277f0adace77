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
        /// The tenants belong to this many children of one partner, whose price rules (20 %
        /// markup on everything, a fixed price for one plan of one child) price each child's
        /// end-user bill at the close; 0: one direct contract holds them all.
        #[arg(long, default_value_t = 10)]
        children: usize,
        /// Months of usage before the month a bill is read for, in the "read cost independent of
        /// history" figure (0: skip it).
        #[arg(long, default_value_t = 24)]
        history: u32,
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
            children,
            history,
            batch,
            in_flight,
            distributed,
            pg_url,
            amqp_url,
            redis_url,
        } => {
            let d = distributed.then_some((pg_url, amqp_url, redis_url));
            let shape = ingest::Shape {
                tenants,
                children,
                history,
            };
            ingest_bench(events, resources, shape, batch, in_flight, d).await
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
    use ecl_billing::commercial::{
        end_user_bill::EndUserPrices,
        price_rules::{PriceRule, Pricing, RuleScope, in_force},
    };
    use ecl_billing::rating::{Menu, Month, Period, Resource, UsageInterval, rate_tenant};
    use ecl_bus::{Bus, CallCtx};
    use ecl_kernel::ManualClock;
    use ecl_kernel::Principal;
    use ecl_proto::{
        billing::CloseMonth,
        commercial::{PriceRuleInput, PriceRuleKind, PriceRuleScope, SetPriceRule},
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

    /// The contract tree the usage belongs to.
    pub struct Shape {
        pub tenants: usize,
        /// 0: one direct contract; otherwise a partner's children.
        pub children: usize,
        pub history: u32,
    }

    /// The tree: the contract ids (the partner first, then its children; or the direct
    /// contract) and the tenants, each known to metering.
    pub struct Tree {
        pub contracts: Vec<String>,
        pub tenants: Vec<String>,
    }

    async fn contract(
        bus: &Bus,
        kind: ContractKind,
        parent_id: Option<String>,
        name: &str,
    ) -> anyhow::Result<String> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let c = bus
            .call(
                &sys(),
                &CreateContract {
                    kind,
                    parent_id,
                    name: name.into(),
                    external_id: None,
                    customer: Customer {
                        company: name.into(),
                        address: String::new(),
                        contact_name: String::new(),
                        contact_email: "bench@example.com".into(),
                    },
                    owner: OwnerInput {
                        login_id: format!("bench-{}", &suffix[..12]),
                        email: "bench@example.com".into(),
                        password: "Bench-pass-123".into(),
                    },
                },
            )
            .await?;
        Ok(c.id)
    }

    /// A direct contract with `n` tenants, or a partner whose `children` children hold them
    /// (tenant i under child i mod children); each tenant known to metering (a probe event
    /// accepted).
    pub async fn tree(bus: &Bus, n: usize, children: usize, month: Month) -> anyhow::Result<Tree> {
        let mut contracts = Vec::new();
        if children == 0 {
            contracts.push(contract(bus, ContractKind::Direct, None, "Bench Co").await?);
        } else {
            let partner = contract(bus, ContractKind::Partner, None, "Bench Partner").await?;
            contracts.push(partner.clone());
            for i in 0..children {
                let child = format!("Bench Child {i}");
                contracts
                    .push(contract(bus, ContractKind::Child, Some(partner.clone()), &child).await?);
            }
        }
        let owners = if children == 0 {
            &contracts[..]
        } else {
            &contracts[1..]
        };
        let mut out = Vec::new();
        for i in 0..n {
            let t = bus
                .call(
                    &sys(),
                    &CreateTenant {
                        contract_id: owners[i % owners.len()].clone(),
                        name: format!("bench-{i}"),
                        region: "jp1".into(),
                        workspace_id: None,
                    },
                )
                .await?;
            out.push(t.id);
        }
        known_to_metering(bus, &out, month).await?;
        Ok(Tree {
            contracts,
            tenants: out,
        })
    }

    /// Metering learns tenants from the tenant service's events: waits until it knows them all.
    async fn known_to_metering(bus: &Bus, tenants: &[String], month: Month) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let probe: Vec<UsageEvent> = tenants
                .iter()
                .map(|t| UsageEvent {
                    id: format!("probe-{t}-{month}"),
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
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "tenants unknown to metering"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The partner's price rules, effective in `month` (set while the clock is in it: a rule
    /// starts in the current month or later): 20 % markup on everything for every child, and
    /// for the first child a fixed unit price of the compute plan the benchmark uses.
    pub async fn price_rules(
        bus: &Bus,
        clock: &ManualClock,
        tree: &Tree,
        month: Month,
    ) -> anyhow::Result<()> {
        let rule = |child_id: Option<String>, fixed: bool| SetPriceRule {
            partner_id: tree.contracts[0].clone(),
            input: PriceRuleInput {
                child_id,
                scope: if fixed {
                    PriceRuleScope::Menu
                } else {
                    PriceRuleScope::All
                },
                scope_value: fixed.then(|| "compute".into()),
                kind: if fixed {
                    PriceRuleKind::Fixed
                } else {
                    PriceRuleKind::Markup
                },
                percent: (!fixed).then(|| "20".into()),
                plan: fixed.then(|| "1CPU-4GB".into()),
                unit_price: fixed.then(|| "0.2".into()),
                cap: None,
                effective_from: month.to_string(),
            },
        };
        clock.set(month.start() + CDuration::days(1));
        let set = async {
            bus.call(&sys(), &rule(None, false)).await?;
            bus.call(&sys(), &rule(Some(tree.contracts[1].clone()), true))
                .await?;
            anyhow::Ok(())
        }
        .await;
        clock.set(Utc::now());
        set
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

    /// Rating CPU against its floor: the same resources rated by the engine, rated at a child's
    /// end-user prices, and the bare rust_decimal arithmetic they need (per interval minutes ×
    /// price, per resource the cap). Returns (engine, end-user, floor) seconds.
    pub fn rating_vs_floor(resources: usize, month: Month) -> anyhow::Result<(f64, f64, f64)> {
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

        // The same resources rated at one child's end-user prices (the partner's 20 % markup,
        // and a fixed price of the compute plan): the re-pricing of the price list once, then
        // the same engine.
        let rules = [
            PriceRule {
                id: "markup".into(),
                partner_id: "p".into(),
                child_id: None,
                scope: RuleScope::All,
                pricing: Pricing::Markup {
                    percent: Decimal::from(20),
                },
                effective_from: month,
                last_month: None,
            },
            PriceRule {
                id: "fixed".into(),
                partner_id: "p".into(),
                child_id: Some("c".into()),
                scope: RuleScope::Menu("compute".into()),
                pricing: Pricing::Fixed {
                    plan: "1CPU-4GB".into(),
                    unit_price: Decimal::new(2, 1),
                    cap: None,
                },
                effective_from: month,
                last_month: None,
            },
        ];
        let started = Instant::now();
        let prices = EndUserPrices::new(&menus, &in_force(&rules, "c", month), "c");
        let mut lines = 0usize;
        for chunk in res.chunks(1000) {
            let c =
                rate_tenant(&prices.menus, chunk, &period).map_err(|e| anyhow::anyhow!("{e}"))?;
            lines += c.resources.iter().map(|r| r.lines.len()).sum::<usize>();
        }
        let end_user = started.elapsed().as_secs_f64();
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
        Ok((engine, end_user, floor))
    }

    pub struct Proc {
        pub name: String,
        pub addr: String,
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
                addr,
                child,
            });
        }
        Ok(out)
    }

    /// The phases of the last month close, as the billing process's metrics give them
    /// (`ecl_billing_month_close_seconds{phase=…}`): usage, rating, bills, repricing, total.
    pub fn close_phases(metrics: &str) -> Vec<(String, f64)> {
        metrics
            .lines()
            .filter_map(|l| l.strip_prefix("ecl_billing_month_close_seconds{phase=\""))
            .filter_map(|l| {
                let (phase, rest) = l.split_once("\"}")?;
                Some((phase.to_string(), rest.trim().parse().ok()?))
            })
            .collect()
    }

    pub fn print_close_phases(what: &str, metrics: &str) {
        let phases = close_phases(metrics);
        let get = |p: &str| phases.iter().find(|(n, _)| n == p).map(|(_, s)| *s);
        let line: Vec<String> = phases
            .iter()
            .map(|(p, s)| format!("{p} {s:.2} s"))
            .collect();
        println!("{what} month close by phase: {}", line.join(", "));
        if let (Some(rating), Some(repricing)) = (get("rating"), get("repricing"))
            && repricing > 0.0
        {
            println!(
                "{what} end-user bills: wholesale rating {rating:.2} s, re-pricing {repricing:.2} s = {:.2}× (aim ≤ 1.2×)",
                repricing / rating
            );
        }
    }

    /// Starts a new peak-RSS measurement of this process (Linux: `VmHWM` back to the current
    /// RSS), so a phase's peak is its own.
    pub fn reset_peak_rss() -> bool {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }

    /// Read cost independent of history: the bill of `month` of a contract whose tenant has
    /// `months` months of usage before it, against a contract whose tenant has none; the same
    /// usage in `month` itself (`resources` resources × 10 events). Prints the median of
    /// `GetUsage` (metering's month read) and of `GetBills` (the bill, rated from it).
    pub async fn history(
        bus: &Bus,
        month: Month,
        months: u32,
        resources: usize,
    ) -> anyhow::Result<()> {
        use ecl_proto::billing::GetBills;
        use ecl_proto::metering::GetUsage;
        let old = contract(bus, ContractKind::Direct, None, "History Old Co").await?;
        let new = contract(bus, ContractKind::Direct, None, "History New Co").await?;
        let mut tenants = Vec::new();
        for c in [&old, &new] {
            let t = bus
                .call(
                    &sys(),
                    &CreateTenant {
                        contract_id: c.clone(),
                        name: "history".into(),
                        region: "jp1".into(),
                        workspace_id: None,
                    },
                )
                .await?;
            tenants.push(t.id);
        }
        known_to_metering(bus, &tenants, month).await?;
        let mut months_of_old = vec![month];
        let mut m = month;
        for _ in 0..months {
            m = m.prev();
            months_of_old.push(m);
        }
        let record = |tenant: String, m: Month| async move {
            let run = format!("hist-{tenant}-{m}");
            let mut all = events(std::slice::from_ref(&tenant), (0, resources), m, &run);
            for e in &mut all {
                e.resource_id = format!("{tenant}-{}", e.resource_id);
            }
            for batch in all.chunks(1000) {
                let r = bus
                    .call(
                        &sys(),
                        &RecordUsage {
                            events: batch.to_vec(),
                        },
                    )
                    .await?;
                anyhow::ensure!(
                    r.iter().all(|r| r.outcome != UsageOutcome::Rejected),
                    "usage of {m} rejected"
                );
            }
            anyhow::Ok(())
        };
        for m in &months_of_old {
            record(tenants[0].clone(), *m).await?;
        }
        record(tenants[1].clone(), month).await?;
        const READS: usize = 20;
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let mut usage = [Vec::new(), Vec::new()];
        let mut bills = [Vec::new(), Vec::new()];
        for _ in 0..READS {
            for (i, (c, t)) in [(&old, &tenants[0]), (&new, &tenants[1])]
                .into_iter()
                .enumerate()
            {
                let started = Instant::now();
                let u = bus
                    .call(
                        &sys(),
                        &GetUsage {
                            tenant_ids: vec![t.clone()],
                            month,
                        },
                    )
                    .await?;
                usage[i].push(started.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(u);
                let started = Instant::now();
                let b = bus
                    .call(
                        &sys(),
                        &GetBills {
                            contract_ids: vec![c.clone()],
                            month: month.to_string(),
                            day: None,
                        },
                    )
                    .await?;
                bills[i].push(started.elapsed().as_secs_f64() * 1000.0);
                anyhow::ensure!(b.len() == 1, "the bill of {c} is missing");
            }
        }
        let [u_old, u_new] = usage.map(median);
        let [b_old, b_new] = bills.map(median);
        println!(
            "read cost independent of history ({resources} resources in {month}; median of {READS}): \
             GetUsage {u_old:.1} ms with {months} months before vs {u_new:.1} ms with none = {:.2}×; \
             bill {b_old:.1} ms vs {b_new:.1} ms = {:.2}×",
            u_old / u_new,
            b_old / b_new
        );
        Ok(())
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
    shape: ingest::Shape,
    batch: usize,
    in_flight: usize,
    distributed: Option<(String, String, String)>,
) -> anyhow::Result<()> {
    use ecl_billing::rating::Month;
    let month = Month::containing(chrono::Utc::now()).prev();
    let resources = resources.min(events_n / ingest::PER_RESOURCE).max(1);
    let n = resources * ingest::PER_RESOURCE;
    let tenants_n = shape.tenants;
    let tree_of = if shape.children == 0 {
        "one direct contract".to_string()
    } else {
        format!(
            "{} children of one partner with price rules (end-user bills at close)",
            shape.children
        )
    };
    println!(
        "usage ingestion: {n} events ({resources} resources × {} events) in batches of {batch}, month {month}, {tenants_n} tenants of {tree_of}",
        ingest::PER_RESOURCE
    );

    // Embedded: every target in this process, SQLite file, in-process bus; a clock the
    // benchmark can put back into the month it closes, to set price rules effective then.
    let dir = std::env::temp_dir().join(format!("ecl-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let settings = ecl_kernel::Settings {
        http_addr: "127.0.0.1:0".parse()?,
        database_url: None,
        data_dir: dir.clone(),
        bootstrap_operator_password: Some(ecl_kernel::Secret::new("Bench-pass-123")),
        ..Default::default()
    };
    let clock = ecl_kernel::ManualClock::default();
    clock.set(chrono::Utc::now());
    let app = crate::App::start_with_clock(settings, &["all".to_string()], Arc::new(clock.clone()))
        .await?;
    // The clock follows the real time, except while price rules are set.
    let held = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticking = {
        let (clock, held) = (clock.clone(), held.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if !held.load(std::sync::atomic::Ordering::SeqCst) {
                    clock.set(chrono::Utc::now());
                }
            }
        })
    };
    let outcome = async {
        let tree = ingest::tree(&app.bus, tenants_n, shape.children, month).await?;
        if shape.children > 0 {
            held.store(true, std::sync::atomic::Ordering::SeqCst);
            let set = ingest::price_rules(&app.bus, &clock, &tree, month).await;
            held.store(false, std::sync::atomic::Ordering::SeqCst);
            set?;
        }
        let (rate, _) = ingest::run(
            &app.bus,
            &tree.tenants,
            resources,
            month,
            "emb",
            batch,
            in_flight,
        )
        .await?;
        ingest::report("embedded (SQLite file, in-process bus)", rate, 100_000.0);
        print_rss("bench driver after ingestion (embedded: the whole platform)");
        let reset = ingest::reset_peak_rss();
        let (secs, bills) = ingest::close(&app.bus, month).await?;
        println!(
            "embedded month close: {secs:.2} s for {resources} resources, {n} events ({bills} bills; aim < 10 s)"
        );
        if reset {
            print_rss("month close alone (embedded: the whole platform; aim < 300 MB)");
        }
        ingest::print_close_phases("embedded", &ecl_kernel::telemetry::render_metrics());
        if shape.history > 0 {
            ingest::history(&app.bus, month.prev(), shape.history, 1000).await?;
        }
        anyhow::Ok(())
    }
    .await;
    ticking.abort();
    app.stop().await;
    ingest::print_rss_here();
    let _ = std::fs::remove_dir_all(&dir);
    outcome?;

    let (engine, end_user, floor) = ingest::rating_vs_floor(resources, month)?;
    println!(
        "rating CPU for {resources} resources: engine {:.3} s, bare rust_decimal floor {:.3} s = {:.1}× (aim ≤ 3×); at end-user prices {:.3} s = {:.2}× the wholesale rating",
        engine,
        floor,
        engine / floor,
        end_user,
        end_user / engine
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
            let tree = ingest::tree(&bus, tenants_n, shape.children, month).await?;
            let (rate, _) = ingest::run(
                &bus,
                &tree.tenants,
                resources,
                month,
                "dist",
                batch,
                in_flight,
            )
            .await?;
            ingest::report("distributed (RabbitMQ + PostgreSQL, durable)", rate, 50_000.0);
            let (secs, bills) = ingest::close(&bus, month).await?;
            println!("distributed month close: {secs:.2} s for {resources} resources, {n} events ({bills} bills; aim < 10 s)");
            // The processes keep real time, so no price rule is in force in the closed month:
            // end-user bills are re-priced at the wholesale prices.
            let billing = &procs[1].addr;
            let metrics = reqwest::get(format!("http://{billing}/metrics"))
                .await?
                .text()
                .await?;
            ingest::print_close_phases("distributed (no price rule in force)", &metrics);
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
