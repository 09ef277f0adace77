//! `ecl bench bus`: request/reply latency (sequential) and throughput (concurrent) of the bus every
//! service call crosses (SPEC §9: a query is a bounded number of service round-trips, so each must
//! be cheap) — the in-process bus, the AMQP bus with each way of expiring requests, and the floor,
//! a bare lapin loop (`bus/floor.rs`).

mod floor;

use super::{percentile, print_rss};
use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppResult, Principal};
use futures::{StreamExt, stream::FuturesUnordered};
use serde::{Deserialize, Serialize};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

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

pub(super) async fn bus(
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
