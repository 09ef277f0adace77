//! `ecl bench sla`: availability and credits of a partner with 1,000 children × 3 tenants over a
//! month with 10,000 incidents — the time and the bus requests of `GetAvailability` for every
//! child at once (one request as the gateway's DataLoader sends it) and of the GraphQL walk
//! `children(first: 100) { availability credits tenants { incidents } }` page by page, and peak
//! RSS. Embedded: target `all` in this process, SQLite files, in-process bus.
//!
//! Seeding goes through the public API: children (each owner an argon2id hash), tenants, one
//! compute VM per tenant running all month, then the incidents (each mails its FAILURE notice,
//! so seeding takes minutes; only the reads are timed).

use crate::bench_walk::{PASSWORD, contract_input, gql};
use anyhow::Context as _;
use chrono::{Datelike, Duration, TimeZone, Utc};
use ecl_bus::CallCtx;
use ecl_kernel::{Principal, Role};
use ecl_proto::sla::{GetAvailability, ListCredits};
use futures::{StreamExt, stream};
use serde_json::{Value, json};
use std::time::Instant;

#[derive(clap::Args, Clone)]
pub struct SlaArgs {
    /// Children of the partner (3 tenants each).
    #[arg(long, default_value_t = 1000)]
    children: usize,
    /// Incidents in the month.
    #[arg(long, default_value_t = 10_000)]
    incidents: usize,
    /// Requests in flight while seeding.
    #[arg(long, default_value_t = 16)]
    seed_concurrency: usize,
}

const OPERATOR_PASSWORD: &str = "Sla-operator-pass-1";
const SIGN_IN: &str =
    "mutation($l: String!, $p: String!) { signIn(loginId: $l, password: $p) { accessToken } }";
const WALK: &str = "query($id: ID!, $m: String!, $after: String) { contract(id: $id) { children(first: 100, after: $after) { pageInfo { endCursor hasNextPage } edges { node { id availability(month: $m) { credit } credits { totalCount } tenants { edges { node { incidents(first: 20) { totalCount } } } } } } } } }";

pub async fn run(args: SlaArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let dir = std::env::temp_dir().join(format!("ecl-bench-sla-{}", std::process::id()));
    let settings = crate::bench::embedded_settings(dir.clone(), OPERATOR_PASSWORD)?;
    let app = crate::App::start(settings, &["all".to_string()]).await?;
    let url = format!("http://{}/graphql", app.addr);
    let result = bench(&http, &url, &app, &args).await;
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    crate::bench::print_rss("bench process (embedded all + client)");
    Ok(())
}

/// Every bus request this process made so far (`ecl_bus_requests_total`, all operations): the
/// gateway's and every service's, since embedded they share the process.
async fn bus_requests(http: &reqwest::Client, addr: &str) -> anyhow::Result<f64> {
    Ok(by_op(http, addr).await?.values().sum())
}

/// `ecl_bus_requests_total` by operation.
async fn by_op(
    http: &reqwest::Client,
    addr: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let text = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let mut out = std::collections::BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| l.starts_with("ecl_bus_requests_total{"))
    {
        let op = l
            .split("op=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("?");
        let n: f64 = l
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        *out.entry(op.to_string()).or_default() += n;
    }
    Ok(out)
}

/// Waits until the platform is idle — no bus request for a second — so the reads are measured
/// alone (the incidents' notices are resolved and mailed in the background after seeding).
async fn settle(http: &reqwest::Client, addr: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = bus_requests(http, addr).await?;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = bus_requests(http, addr).await?;
        if now == last {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed().as_secs() < 1800,
            "the platform never settled"
        );
        last = now;
    }
}

async fn token(http: &reqwest::Client, url: &str, login: &str, pw: &str) -> anyhow::Result<String> {
    gql(http, url, "", SIGN_IN, json!({"l": login, "p": pw})).await?["data"]["signIn"]
        ["accessToken"]
        .as_str()
        .map(str::to_string)
        .context("no access token")
}

async fn bench(
    http: &reqwest::Client,
    url: &str,
    app: &crate::App,
    args: &SlaArgs,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let m0 = now.year() * 12 + now.month0() as i32 - 1;
    let start = Utc
        .with_ymd_and_hms(m0 / 12, (m0 % 12) as u32 + 1, 1, 0, 0, 0)
        .single()
        .context("month")?;
    let month = start.format("%Y-%m").to_string();
    let seeding = Instant::now();
    let op = token(http, url, "operator", OPERATOR_PASSWORD).await?;
    let partner = gql(
        http,
        url,
        &op,
        "mutation($i: ContractInput!) { createPartnerContract(input: $i) { id } }",
        json!({"i": contract_input("SLA bench partner", "sla-bench-owner")}),
    )
    .await?["data"]["createPartnerContract"]["id"]
        .as_str()
        .context("no partner")?
        .to_string();
    let owner = token(http, url, "sla-bench-owner", PASSWORD).await?;
    let seeded: Vec<anyhow::Result<(String, Vec<String>)>> = stream::iter(0..args.children)
        .map(|i| {
            let (owner, partner) = (&owner, &partner);
            async move {
                let child = gql(
                    http,
                    url,
                    owner,
                    "mutation($p: ID!, $i: ContractInput!) { createChildContract(parentId: $p, input: $i) { id } }",
                    json!({"p": partner, "i": contract_input(&format!("SLA child {i:04}"), &format!("sla{i:04}-owner"))}),
                )
                .await?["data"]["createChildContract"]["id"]
                    .as_str()
                    .context("no child")?
                    .to_string();
                let mut tenants = Vec::new();
                for t in 0..3 {
                    tenants.push(
                        gql(
                            http,
                            url,
                            owner,
                            "mutation($c: ID!, $n: String!) { createTenant(contractId: $c, input: { name: $n, region: \"jp1\" }) { id } }",
                            json!({"c": child, "n": format!("sla-{i:04}-{t}")}),
                        )
                        .await?["data"]["createTenant"]["id"]
                            .as_str()
                            .context("no tenant")?
                            .to_string(),
                    );
                }
                Ok((child, tenants))
            }
        })
        .buffer_unordered(args.seed_concurrency)
        .collect()
        .await;
    let seeded: Vec<(String, Vec<String>)> = seeded.into_iter().collect::<anyhow::Result<_>>()?;
    let children: Vec<String> = seeded.iter().map(|(c, _)| c.clone()).collect();
    let tenants: Vec<String> = seeded.iter().flat_map(|(_, t)| t.clone()).collect();
    // One VM per tenant, all month (metering learns of new tenants from events: retry a while).
    for chunk in tenants.chunks(500) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|t| json!({"id": format!("vm-{t}"), "tenantId": t, "resourceId": format!("vm-{t}"), "menuCode": "compute", "kind": "START", "at": start.to_rfc3339(), "plan": "1CPU-4GB", "status": "Running"}))
            .collect();
        for attempt in 0.. {
            let r = gql(
                http,
                url,
                &op,
                "mutation($e: [UsageEventInput!]!){ recordUsage(events:$e){ outcome code } }",
                json!({"e": events}),
            )
            .await?;
            let unknown = r["data"]["recordUsage"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["code"] == "UNKNOWN_TENANT"));
            if !unknown {
                break;
            }
            anyhow::ensure!(attempt < 200, "metering never heard of the tenants");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let minutes = 30 * 24 * 60;
    let seeded_incidents: Vec<anyhow::Result<()>> = stream::iter(0..args.incidents)
        .map(|i| {
            let op = &op;
            let tenant = &tenants[(i * 7919) % tenants.len()];
            let at = start + Duration::minutes(((i * 104_729) % minutes) as i64);
            let cause = if i % 10 == 9 { "THIRD_PARTY" } else { "FAILURE" };
            async move {
                gql(
                    http,
                    url,
                    op,
                    "mutation($i: RecordIncidentInput!){ recordIncident(input:$i){ id } }",
                    json!({"i": {"menuCode": "compute", "cause": cause, "title": format!("bench {i}"), "tenantIds": [tenant],
                                 "startedAt": at.to_rfc3339(), "restoredAt": (at + Duration::minutes((i % 120) as i64 + 1)).to_rfc3339()}}),
                )
                .await
                .map(|_| ())
            }
        })
        .buffer_unordered(args.seed_concurrency)
        .collect()
        .await;
    seeded_incidents
        .into_iter()
        .collect::<anyhow::Result<()>>()?;
    println!(
        "seeded {} children × 3 tenants, {} incidents in {month} in {:.0} s",
        args.children,
        args.incidents,
        seeding.elapsed().as_secs_f64()
    );

    // Every child at once over the bus, as the operator (what one DataLoader batch sends).
    let operator = Principal::User {
        user_id: "bench".into(),
        contract_id: None,
        role: Role::Operator,
        can_view_usage: true,
    };
    let ctx = CallCtx::new(operator, std::time::Duration::from_secs(120));
    let addr = app.addr.to_string();
    settle(http, &addr).await?;
    let before = bus_requests(http, &addr).await?;
    let t = Instant::now();
    let rows = app
        .bus
        .call(
            &ctx,
            &GetAvailability {
                contract_ids: children.clone(),
                month: ecl_kernel::Month::parse(&month)?,
            },
        )
        .await?;
    let availability_ms = t.elapsed().as_secs_f64() * 1000.0;
    let cells: usize = rows.iter().map(|(_, r)| r.len()).sum();
    let credit: rust_decimal::Decimal = rows
        .iter()
        .flat_map(|(_, r)| r.iter())
        .filter_map(|a| a.credit.parse::<rust_decimal::Decimal>().ok())
        .sum();
    let availability_requests = bus_requests(http, &addr).await? - before;
    let before = bus_requests(http, &addr).await?;
    let t = Instant::now();
    app.bus
        .call(
            &ctx,
            &ListCredits {
                contract_ids: children.clone(),
                page: Default::default(),
            },
        )
        .await?;
    let credits_ms = t.elapsed().as_secs_f64() * 1000.0;
    let credits_requests = bus_requests(http, &addr).await? - before;

    // The walk through the gateway, by the partner's owner, page by page.
    let before = bus_requests(http, &addr).await?;
    let ops_before = by_op(http, &addr).await?;
    let t = Instant::now();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let r = gql(
            http,
            url,
            &owner,
            WALK,
            json!({"id": partner, "m": month, "after": after}),
        )
        .await?;
        let kids = &r["data"]["contract"]["children"];
        pages += 1;
        if kids["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = kids["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    let walk_ms = t.elapsed().as_secs_f64() * 1000.0;
    let walk_requests = bus_requests(http, &addr).await? - before;
    let walk_ops: Vec<(String, f64)> = by_op(http, &addr)
        .await?
        .into_iter()
        .map(|(op, n)| {
            let d = n - ops_before.get(&op).copied().unwrap_or(0.0);
            (op, d)
        })
        .filter(|(_, d)| *d > 0.0)
        .collect();

    println!(
        "\nsla: a partner with {} children × 3 tenants, {} incidents in {month}",
        args.children, args.incidents
    );
    println!("{:<58} {:>10} {:>13}", "read", "ms", "bus requests");
    println!(
        "{:<58} {:>10.1} {:>13}",
        format!(
            "GetAvailability, {} children ({cells} tenant × menu)",
            children.len()
        ),
        availability_ms,
        availability_requests
    );
    println!(
        "{:<58} {:>10.1} {:>13}",
        format!("ListCredits, {} children", children.len()),
        credits_ms,
        credits_requests
    );
    println!(
        "{:<58} {:>10.1} {:>13}",
        format!("GraphQL walk, {pages} pages of 100 children"),
        walk_ms,
        walk_requests
    );
    println!("walk's bus requests by operation: {walk_ops:?}");
    println!("credit earned in all: {credit} JPY");
    Ok(())
}
