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

use crate::bench::{percentile, print_rss, proc_status_kb};
use crate::bench_topology::Distributed;
use anyhow::{Context as _, bail, ensure};
use futures::{StreamExt, stream};
use serde_json::{Value, json};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

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
    let settings = ecl_kernel::Settings {
        http_addr: "127.0.0.1:0".parse()?,
        data_dir: dir.clone(),
        bootstrap_operator_password: Some(ecl_kernel::Secret::new(OPERATOR_PASSWORD)),
        ..Default::default()
    };
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

fn report(args: &WalkArgs, rows: &[Row], rss: &[(String, Option<u64>)]) {
    println!(
        "\nwalk query: contract → children(first: {PAGE}) → tenants, users; partner with {} children × 3 tenants × 4 users; {}s per phase",
        args.children, args.seconds
    );
    println!(
        "{:<42} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "",
        "1: p50 ms",
        "p99 ms",
        "q/s",
        format!("{}: p50", args.clients),
        "p99 ms",
        "q/s",
        "bus req/query"
    );
    for r in rows {
        println!(
            "{:<42} {:>9.2} {:>9.2} {:>9.1} {:>9.2} {:>9.2} {:>9.1} {:>12}",
            r.name,
            r.one.p50_ms,
            r.one.p99_ms,
            r.one.qps,
            r.many.p50_ms,
            r.many.p99_ms,
            r.many.qps,
            r.bus_requests
                .map(|n| n.to_string())
                .unwrap_or_else(|| "—".into()),
        );
    }
    println!(
        "CPU per query, ms: this process (the client, and the server where it runs in process) + the server's processes (PostgreSQL backends included)"
    );
    for r in rows {
        println!(
            "  {:<40} 1 client: {:>6.2} + {:>6.2}   {} clients: {:>6.2} + {:>6.2}",
            r.name,
            r.one.cpu_self_ms,
            r.one.cpu_server_ms.max(0.0).abs(),
            args.clients,
            r.many.cpu_self_ms,
            r.many.cpu_server_ms.max(0.0).abs(),
        );
    }
    println!(
        "(queries measured: {})",
        rows.iter()
            .map(|r| format!(
                "{} {}+{}",
                r.name.split(' ').next().unwrap_or(""),
                r.one.n,
                r.many.n
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let floor = &rows[0];
    let row = |prefix: &str| rows.iter().find(|r| r.name.starts_with(prefix));
    // Levels resolved through the bus: contract, children, and tenants + users (siblings).
    let levels = 3.0;
    if let Some(e) = row("embedded") {
        for r in rows.iter().filter(|r| r.bus_requests.is_some()) {
            println!(
                "aim: bus requests per walk (all services counted) independent of the children: {} {} with {PAGE} children, {} with {NARROW}",
                r.name.split(' ').next().unwrap_or(""),
                r.bus_requests.map(|n| n.to_string()).unwrap_or_default(),
                r.narrow.map(|n| n.to_string()).unwrap_or_default()
            );
        }
        println!(
            "aim: embedded throughput at {} clients ≥ 50 % of the floor's: {:.0} %",
            args.clients,
            e.many.qps / floor.many.qps * 100.0
        );
    }
    if let Some(d) = row("distributed") {
        println!(
            "aim: distributed p50 at 1 client ≤ floor p50 + 1 ms per level ({levels} levels: ≤ {:.2} ms): {:.2} ms (bus requests {})",
            floor.one.p50_ms + levels,
            d.one.p50_ms,
            d.bus_requests.map(|n| n.to_string()).unwrap_or_default()
        );
    }
    if let Some(p) = row("peer") {
        for r in rows.iter().filter(|r| r.bus_requests.is_some()) {
            println!(
                "aim: {} ≥ 1.5× the peer's q/s: {:.2}× at 1 client, {:.2}× at {}",
                r.name.split(' ').next().unwrap_or(""),
                r.one.qps / p.one.qps,
                r.many.qps / p.many.qps,
                args.clients
            );
        }
    }
    println!("peak RSS per process:");
    for (what, kb) in rss {
        println!(
            "  {what:<48} {}",
            kb.map(|k| format!("{:.1} MB", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    print_rss("bench process at the end");
}

/// One GraphQL request; fails on transport errors and on GraphQL errors.
pub(crate) async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> anyhow::Result<Value> {
    let mut req = http
        .post(url)
        .json(&json!({"query": query, "variables": vars}));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let v: Value = req.send().await?.json().await?;
    if v.get("errors").is_some() {
        bail!("query failed: {v}");
    }
    Ok(v)
}

/// The walk, traced: the answer and its `extensions.busRequests`.
async fn walk(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    partner: &str,
    first: usize,
) -> anyhow::Result<(Value, Option<u64>)> {
    let query = WALK.replace("first: 100", &format!("first: {first}"));
    let mut req = http
        .post(url)
        .header("X-Ecl-Trace", "1")
        .json(&json!({"query": query, "variables": {"id": partner}}));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let v: Value = req.send().await?.json().await?;
    ensure!(v.get("errors").is_none(), "walk failed: {v}");
    let edges = v["data"]["contract"]["children"]["edges"]
        .as_array()
        .map(Vec::len);
    ensure!(edges.is_some(), "walk answered no children: {v}");
    let n = v["extensions"]["busRequests"].as_u64();
    Ok((v, n))
}

/// The server runs in this process: no other process to measure.
async fn no_pids() -> Vec<u32> {
    Vec::new()
}

/// `clients` run the GraphQL request `body` back to back for `seconds` (after a short warm-up).
async fn phase(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
    clients: usize,
    seconds: u64,
    server: impl AsyncFn() -> Vec<u32>,
) -> anyhow::Result<Phase> {
    let body = Arc::new(serde_json::to_vec(body)?);
    let one = {
        let (http, url, token, body) = (
            http.clone(),
            url.to_string(),
            token.to_string(),
            body.clone(),
        );
        move || {
            let (http, url, token, body) = (http.clone(), url.clone(), token.clone(), body.clone());
            async move {
                let mut req = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone());
                if !token.is_empty() {
                    req = req.bearer_auth(&token);
                }
                let bytes = req.send().await?.bytes().await?;
                // A cheap check, so the client's JSON parsing does not weigh on the figures.
                ensure!(
                    bytes.starts_with(b"{\"data\":{\"contract")
                        && !bytes.windows(9).any(|w| w == b"\"errors\":"),
                    "walk failed: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
                );
                anyhow::Ok(())
            }
        }
    };
    for _ in 0..5 {
        one().await?;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let me = std::process::id();
    let (self0, server0) = (cpu_ms(&[me]), cpu_of(&server().await));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let one = one.clone();
        // On the worker pool, as separate clients would be.
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                one().await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = lat.len().max(1) as f64;
    let self_ms = cpu_ms(&[me]) - self0;
    // Backends (or processes) that started during the phase count from 0.
    let server_ms: f64 = cpu_of(&server().await)
        .iter()
        .map(|(pid, ms)| ms - server0.get(pid).copied().unwrap_or(0.0))
        .sum();
    lat.sort();
    Ok(Phase {
        p50_ms: percentile(&lat, 0.5) / 1e3,
        p99_ms: percentile(&lat, 0.99) / 1e3,
        qps: lat.len() as f64 / elapsed,
        n: lat.len(),
        cpu_self_ms: self_ms / n,
        cpu_server_ms: server_ms / n,
    })
}

fn cpu_of(pids: &[u32]) -> std::collections::HashMap<u32, f64> {
    pids.iter().map(|p| (*p, cpu_ms(&[*p]))).collect()
}

/// CPU time (user + system) the processes `pids` have used so far, in ms (`/proc/<pid>/stat`,
/// clock ticks of 10 ms); processes that are gone count 0.
fn cpu_ms(pids: &[u32]) -> f64 {
    let ticks = |pid: &u32| -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command name in parentheses: field 3 is the state; utime and stime are 14, 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    };
    pids.iter().filter_map(ticks).sum::<u64>() as f64 * 10.0
}

/// Creates the partner (by the operator), signs its owner in and creates the children with their
/// tenants and users, all through the GraphQL API. Returns (partner id, owner's token).
async fn seed(
    http: &reqwest::Client,
    url: &str,
    args: &WalkArgs,
    what: &str,
) -> anyhow::Result<(String, String)> {
    let started = Instant::now();
    let sign_in =
        "mutation($l: String!, $p: String!) { signIn(loginId: $l, password: $p) { accessToken } }";
    let token = |v: Value| {
        v["data"]["signIn"]["accessToken"]
            .as_str()
            .map(str::to_string)
            .context("no access token")
    };
    let op = token(
        gql(
            http,
            url,
            "",
            sign_in,
            json!({"l": "operator", "p": OPERATOR_PASSWORD}),
        )
        .await?,
    )?;
    let partner = gql(
        http,
        url,
        &op,
        "mutation($i: ContractInput!) { createPartnerContract(input: $i) { id } }",
        json!({"i": contract_input("Walk Partner", "walk-owner")}),
    )
    .await?["data"]["createPartnerContract"]["id"]
        .as_str()
        .context("no partner id")?
        .to_string();
    let owner = token(
        gql(
            http,
            url,
            "",
            sign_in,
            json!({"l": "walk-owner", "p": PASSWORD}),
        )
        .await?,
    )?;

    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<anyhow::Result<()>> = stream::iter(0..args.children)
        .map(|i| {
            let (owner, partner, done) = (&owner, &partner, &done);
            async move {
                let child = gql(
                    http,
                    url,
                    owner,
                    "mutation($p: ID!, $i: ContractInput!) { createChildContract(parentId: $p, input: $i) { id } }",
                    json!({"p": partner, "i": contract_input(&format!("Walk child {i:04}"), &format!("w{i:04}-owner"))}),
                )
                .await?["data"]["createChildContract"]["id"]
                    .as_str()
                    .context("no child id")?
                    .to_string();
                for t in 0..3 {
                    gql(
                        http,
                        url,
                        owner,
                        "mutation($c: ID!, $n: String!) { createTenant(contractId: $c, input: { name: $n, region: \"jp1\" }) { id } }",
                        json!({"c": child, "n": format!("tenant-{i:04}-{t}")}),
                    )
                    .await?;
                }
                for u in 1..4 {
                    let login = format!("w{i:04}-user{u}");
                    gql(
                        http,
                        url,
                        owner,
                        "mutation($c: ID!, $i: UserInput!) { createUser(contractId: $c, input: $i) { id } }",
                        json!({"c": child, "i": {"loginId": login, "email": format!("{login}@example.com"), "password": PASSWORD, "role": "USER"}}),
                    )
                    .await?;
                }
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if n % 100 == 0 {
                    eprintln!("{what}: seeded {n} children ({:.0}s)", started.elapsed().as_secs_f64());
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(args.seed_concurrency.max(1))
        .collect()
        .await;
    for r in results {
        r?;
    }
    eprintln!(
        "{what}: seeded 1 partner, {} children, {} tenants, {} users through the API in {:.0}s",
        args.children,
        args.children * 3,
        args.children * 4 + 1,
        started.elapsed().as_secs_f64()
    );
    Ok((partner, owner))
}

pub(crate) fn contract_input(name: &str, owner_login: &str) -> Value {
    json!({
        "name": name,
        "customer": {"company": format!("{name} K.K."), "contactEmail": "contact@example.com"},
        "owner": {"loginId": owner_login, "email": format!("{owner_login}@example.com"), "password": PASSWORD}
    })
}

/// The partner's whole tree as the platform shows its owner, page by page, in the platform's order.
async fn fetch_tree(
    http: &reqwest::Client,
    url: &str,
    owner: &str,
    partner: &str,
) -> anyhow::Result<floor::Tree> {
    const PAGE_Q: &str = "query($id: ID!, $a: String) { contract(id: $id) { id name children(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id name tenants(first: 10) { edges { node { id name } } } users(first: 10) { edges { node { id loginId } } } } } } } }";
    let mut tree = floor::Tree::default();
    let mut after = Value::Null;
    loop {
        let v = gql(http, url, owner, PAGE_Q, json!({"id": partner, "a": after})).await?;
        let c = &v["data"]["contract"];
        tree.root = floor::Node {
            id: c["id"].as_str().unwrap_or_default().to_string(),
            name: c["name"].as_str().unwrap_or_default().to_string(),
            ..Default::default()
        };
        let page = &c["children"];
        for e in page["edges"].as_array().into_iter().flatten() {
            let n = &e["node"];
            let pairs = |field: &str, key: &str| -> Vec<(String, String)> {
                n[field]["edges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        (
                            e["node"]["id"].as_str().unwrap_or_default().to_string(),
                            e["node"][key].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            };
            tree.children.push(floor::Node {
                id: n["id"].as_str().unwrap_or_default().to_string(),
                name: n["name"].as_str().unwrap_or_default().to_string(),
                tenants: pairs("tenants", "name"),
                users: pairs("users", "loginId"),
            });
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    Ok(tree)
}

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

/// The floor: the walk answered by a plain async-graphql schema over the tree held in memory —
/// no bus, no services, no database, no DataLoader, no authentication.
pub(crate) mod floor {
    use async_graphql::{
        Context, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject,
    };
    use std::{collections::HashMap, sync::Arc};

    #[derive(Default, Clone)]
    pub struct Node {
        pub id: String,
        pub name: String,
        /// (id, name)
        pub tenants: Vec<(String, String)>,
        /// (id, login id)
        pub users: Vec<(String, String)>,
    }

    #[derive(Default, Clone)]
    pub struct Tree {
        pub root: Node,
        pub children: Vec<Node>,
    }

    struct Data {
        contracts: HashMap<String, Arc<Node>>,
        children: HashMap<String, Vec<Arc<Node>>>,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn contract(&self, ctx: &Context<'_>, id: ID) -> Option<Contract> {
            let data = ctx.data_unchecked::<Arc<Data>>();
            data.contracts.get(id.as_str()).cloned().map(Contract)
        }
    }

    pub struct Contract(Arc<Node>);

    #[derive(SimpleObject)]
    struct ContractEdge {
        node: Contract,
    }
    #[derive(SimpleObject)]
    struct ContractConnection {
        edges: Vec<ContractEdge>,
        total_count: usize,
    }
    #[derive(SimpleObject)]
    struct Tenant {
        id: ID,
        name: String,
    }
    #[derive(SimpleObject)]
    struct TenantEdge {
        node: Tenant,
    }
    #[derive(SimpleObject)]
    struct TenantConnection {
        edges: Vec<TenantEdge>,
        total_count: usize,
    }
    #[derive(SimpleObject)]
    struct User {
        id: ID,
        login_id: String,
    }
    #[derive(SimpleObject)]
    struct UserEdge {
        node: User,
    }
    #[derive(SimpleObject)]
    struct UserConnection {
        edges: Vec<UserEdge>,
        total_count: usize,
    }

    #[Object]
    impl Contract {
        async fn id(&self) -> ID {
            self.0.id.clone().into()
        }
        async fn name(&self) -> &str {
            &self.0.name
        }
        async fn children(&self, ctx: &Context<'_>, first: Option<usize>) -> ContractConnection {
            let data = ctx.data_unchecked::<Arc<Data>>();
            let all = data
                .children
                .get(&self.0.id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            ContractConnection {
                edges: all
                    .iter()
                    .take(first.unwrap_or(20))
                    .map(|c| ContractEdge {
                        node: Contract(c.clone()),
                    })
                    .collect(),
                total_count: all.len(),
            }
        }
        async fn tenants(&self, first: Option<usize>) -> TenantConnection {
            TenantConnection {
                edges: self
                    .0
                    .tenants
                    .iter()
                    .take(first.unwrap_or(20))
                    .map(|(id, name)| TenantEdge {
                        node: Tenant {
                            id: id.clone().into(),
                            name: name.clone(),
                        },
                    })
                    .collect(),
                total_count: self.0.tenants.len(),
            }
        }
        async fn users(&self, first: Option<usize>) -> UserConnection {
            UserConnection {
                edges: self
                    .0
                    .users
                    .iter()
                    .take(first.unwrap_or(20))
                    .map(|(id, login)| UserEdge {
                        node: User {
                            id: id.clone().into(),
                            login_id: login.clone(),
                        },
                    })
                    .collect(),
                total_count: self.0.users.len(),
            }
        }
    }

    /// Serves the floor schema over HTTP on 127.0.0.1, port 0; returns its address.
    pub async fn serve(tree: Tree) -> anyhow::Result<std::net::SocketAddr> {
        let root = Arc::new(tree.root);
        let children: Vec<Arc<Node>> = tree.children.into_iter().map(Arc::new).collect();
        let mut contracts: HashMap<String, Arc<Node>> =
            children.iter().map(|c| (c.id.clone(), c.clone())).collect();
        contracts.insert(root.id.clone(), root.clone());
        let data = Arc::new(Data {
            contracts,
            children: HashMap::from([(root.id.clone(), children)]),
        });
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .data(data)
            .finish();
        let app = axum::Router::new().route(
            "/graphql",
            axum::routing::post_service(async_graphql_axum::GraphQL::new(schema)),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(addr)
    }
}
