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
    /// embedded, distributed and the in-memory floor (see `src/bench_walk.rs`).
    Walk(crate::bench_walk::WalkArgs),
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
    }
}

#[derive(Serialize, Deserialize)]
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
    // Server and client on separate connections, as two processes would be.
    let server = Bus::new(ecl_bus::connect(amqp_url, &ns).await?);
    let client = Bus::new(ecl_bus::connect(amqp_url, &ns).await?);
    rows.push(
        via_bus(
            "AMQP bus (ecl)",
            server.clone(),
            client.clone(),
            sequential,
            seconds,
            in_flight,
        )
        .await?,
    );
    rows.push(floor::bare_lapin(amqp_url, &ns, sequential, seconds, in_flight).await?);
    server.transport().shutdown().await;
    client.transport().shutdown().await;
    floor::cleanup(amqp_url, &ns).await;

    println!(
        "\nbus request/reply, 64-byte payload ({sequential} sequential for latency; {in_flight} in flight for {seconds}s for throughput)"
    );
    println!(
        "{:<26} {:>10} {:>10} {:>12}",
        "", "p50 µs", "p99 µs", "req/s"
    );
    for r in &rows {
        println!(
            "{:<26} {:>10.0} {:>10.0} {:>12.0}",
            r.name, r.p50_us, r.p99_us, r.rps
        );
    }
    let (ecl, bare) = (&rows[1], &rows[2]);
    println!(
        "AMQP bus vs bare lapin: throughput {:.0} % of the floor (aim ≥ 80 %), p50 {:.2}× the floor (aim ≤ 1.5×)",
        ecl.rps / bare.rps * 100.0,
        ecl.p50_us / bare.p50_us
    );
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
        for q in [format!("{ns}.req.bench"), format!("{ns}.dead")] {
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
        // The storm signs in with the right password: nothing to lock.
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
