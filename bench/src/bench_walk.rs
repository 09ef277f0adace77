//! `ecl bench walk`: the partner walk query — `contract → children(first: 100) → tenants, users` —
//! over a partner with 1,000 children of 3 tenants and 4 users each, run by the partner's owner at
//! 1 and at 32 concurrent clients: embedded (target `all` in this process, SQLite files, in-process
//! bus), distributed (one `ecl serve --target` process per service over RabbitMQ, PostgreSQL and
//! Redis) and the floor — the same query answered by a plain async-graphql schema over the same
//! data held in memory, in this process, in the same run. Every row is measured the same way:
//! the same HTTP client against an axum server on 127.0.0.1.
//!
//! Seeding goes through the public API only (never into a database behind a service's back).
//! Each child brings 4 users, and each user costs one argon2id hash (~50 ms of one core), so the
//! seeding runs `--seed-concurrency` children at once to keep both cores hashing; about two
//! minutes per topology for 1,000 children.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `bench_walk.rs` | the arguments, and the run: each topology seeded, checked against the floor, measured |
//! | `bench_walk/seed.rs` | the partner's tree created through the GraphQL API |
//! | `bench_walk/fetch_tree.rs` | the tree read back as the platform shows it, for the floor |
//! | `bench_walk/floor.rs` | the floor: a plain async-graphql schema over that tree in memory |
//! | `bench_walk/queries.rs` | one GraphQL request; the walk, traced (its bus requests) |
//! | `bench_walk/phase.rs` | one measured phase: latency, throughput, CPU of each process |
//! | `bench_walk/report.rs` | the printed table and the aims |
//! | `bench_walk/namespace.rs` | removing a namespace's queues and exchanges from the broker |

mod fetch_tree;
pub(crate) mod floor;
mod namespace;
mod phase;
mod queries;
mod report;
mod seed;

pub(crate) use namespace::delete_namespace;
pub(crate) use queries::gql;
pub(crate) use seed::contract_input;

use crate::bench::proc_status_kb;
use crate::bench_topology::Distributed;
use anyhow::ensure;
use fetch_tree::fetch_tree;
use phase::{no_pids, phase};
use queries::walk;
use report::report;
use seed::seed;
use serde_json::json;

#[derive(clap::Args, Clone)]
pub struct WalkArgs {
    /// Children of the partner (each gets 3 tenants and 4 users).
    #[arg(long, default_value_t = 1000)]
    children: usize,
    /// Seconds of each measured phase (per topology and client count).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients of the second phase (the first has one).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Children seeded at once.
    #[arg(long, default_value_t = 16)]
    seed_concurrency: usize,
    /// Skip the distributed topology.
    #[arg(long)]
    embedded_only: bool,
    /// Also measure a peer over the same tree, in the same run (`postgraphile`: PostGraphile 5
    /// over PostgreSQL on `--pg-url`, installed from npm by `scripts/peer-postgraphile/run`).
    #[arg(long, value_enum)]
    peer: Option<PeerKind>,
    #[command(flatten)]
    servers: crate::bench_topology::Servers,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum PeerKind {
    Postgraphile,
}

pub(crate) const PASSWORD: &str = "Walk-bench-pass-1";
const OPERATOR_PASSWORD: &str = "Walk-operator-pass-1";
const PAGE: usize = 100;
/// The narrow walk: its bus requests must equal the full page's.
const NARROW: usize = 10;

/// The measured query (the walk, first page of 100 children).
const WALK: &str = "query($id: ID!) { contract(id: $id) { children(first: 100) { edges { node { id name tenants { edges { node { id name } } } users { edges { node { id loginId } } } } } } } }";

/// Latency and throughput of one phase.
struct Phase {
    p50_ms: f64,
    p99_ms: f64,
    qps: f64,
    n: usize,
    /// CPU per query: of this (the bench) process — the client, and the server where it runs
    /// in process — and of the server's own processes (PostgreSQL backends included).
    cpu_self_ms: f64,
    cpu_server_ms: f64,
}

/// Figures of one topology.
struct Row {
    name: &'static str,
    one: Phase,
    many: Phase,
    bus_requests: Option<u64>,
    /// The same walk's bus requests with a page of `NARROW` children.
    narrow: Option<u64>,
}

pub async fn run(args: WalkArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let mut rows = Vec::new();
    let mut rss = Vec::new();

    // Embedded: target `all` in this process on SQLite files (the `cargo run` default).
    let dir = std::env::temp_dir().join(format!("ecl-bench-walk-{}", std::process::id()));
    let settings = crate::bench::embedded_settings(dir.clone(), OPERATOR_PASSWORD)?;
    let app = crate::App::start(settings, &["all".to_string()]).await?;
    let url = format!("http://{}/graphql", app.addr);
    let (partner, owner) = seed(&http, &url, &args, "embedded").await?;
    let tree = fetch_tree(&http, &url, &owner, &partner).await?;

    // The floor, over the very data the platform holds, served the same way (HTTP on 127.0.0.1).
    let floor = floor::serve(tree.clone()).await?;
    let floor_url = format!("http://{floor}/graphql");
    let platform_answer = walk(&http, &url, &owner, &partner, PAGE).await?;
    let floor_answer = walk(&http, &floor_url, "", &partner, PAGE).await?;
    let narrow = walk(&http, &url, &owner, &partner, NARROW).await?.1;
    ensure!(
        platform_answer.0["data"] == floor_answer.0["data"],
        "the floor's answer differs from the platform's"
    );
    let walk_body = json!({"query": WALK, "variables": {"id": partner}});
    rows.push(Row {
        name: "floor (plain async-graphql, in memory)",
        one: phase(&http, &floor_url, "", &walk_body, 1, args.seconds, no_pids).await?,
        many: phase(
            &http,
            &floor_url,
            "",
            &walk_body,
            args.clients,
            args.seconds,
            no_pids,
        )
        .await?,
        bus_requests: None,
        narrow: None,
    });
    if let Some(PeerKind::Postgraphile) = args.peer {
        let peer = crate::bench_peer::Peer::start(&args.servers.pg_url, &tree).await?;
        let measured = async {
            let body = json!({"query": crate::bench_peer::WALK, "variables": {"id": partner}});
            let answer = gql(
                &http,
                &peer.url,
                "",
                crate::bench_peer::WALK,
                body["variables"].clone(),
            )
            .await?;
            ensure!(
                answer["data"]["contractByRowId"] == floor_answer.0["data"]["contract"],
                "the peer's answer differs from the platform's"
            );
            let pids = async || peer.pids().await;
            anyhow::Ok(Row {
                name: "peer (PostGraphile 5, PostgreSQL)",
                one: phase(&http, &peer.url, "", &body, 1, args.seconds, pids).await?,
                many: phase(
                    &http,
                    &peer.url,
                    "",
                    &body,
                    args.clients,
                    args.seconds,
                    pids,
                )
                .await?,
                bus_requests: None,
                narrow: None,
            })
        }
        .await;
        rss.extend(peer.peak_rss().await);
        peer.stop().await;
        rows.push(measured?);
    }
    rows.push(Row {
        name: "embedded (all, SQLite, in-process bus)",
        one: phase(&http, &url, &owner, &walk_body, 1, args.seconds, no_pids).await?,
        many: phase(
            &http,
            &url,
            &owner,
            &walk_body,
            args.clients,
            args.seconds,
            no_pids,
        )
        .await?,
        bus_requests: platform_answer.1,
        narrow,
    });
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    rss.push((
        "bench process (embedded all + floor + clients)".to_string(),
        ecl_kernel::telemetry::peak_rss_bytes().map(|b| b / 1024),
    ));

    if !args.embedded_only {
        let d = Distributed::start(
            &args.servers,
            "walk",
            &["identity", "contract", "tenant", "gateway"],
            OPERATOR_PASSWORD,
            &[],
        )
        .await?;
        let result = async {
            let url = format!("http://{}/graphql", d.addr("gateway"));
            let (partner, owner) = seed(&http, &url, &args, "distributed").await?;
            let answer = walk(&http, &url, &owner, &partner, PAGE).await?;
            let narrow = walk(&http, &url, &owner, &partner, NARROW).await?.1;
            let body = json!({"query": WALK, "variables": {"id": partner}});
            let pids = async || d.pids().await;
            anyhow::Ok(Row {
                name: "distributed (RabbitMQ, PostgreSQL, Redis)",
                one: phase(&http, &url, &owner, &body, 1, args.seconds, pids).await?,
                many: phase(&http, &url, &owner, &body, args.clients, args.seconds, pids).await?,
                bus_requests: answer.1,
                narrow,
            })
        }
        .await;
        for (target, pid, _) in &d.procs {
            rss.push((
                format!("distributed {target}"),
                proc_status_kb(*pid, "VmHWM:"),
            ));
        }
        d.stop().await;
        rows.push(result?);
    }

    report(&args, &rows, &rss);
    Ok(())
}
