//! `ecl bench notify`: a `MAINTENANCE` notice on every tenant of a partner with 1,000 children ×
//! 3 tenants × 4 users (each child's owner and 3 users, each user granted one tenant; the
//! partner's owner in CC) — the time to resolve the recipients and the bus requests it took (read
//! from the notification process's /metrics), the mails per second until a local SMTP sink has
//! accepted the last one, and peak RSS per process. Embedded (target `all` in this process,
//! SQLite files, in-process bus) and distributed (one process per target over RabbitMQ and
//! PostgreSQL).
//!
//! The sink is a minimal SMTP responder in this process (greeting, EHLO, MAIL, RCPT, DATA, QUIT,
//! all accepted), so the figure is the platform's, not a mail server's. Seeding goes through the
//! public API (each user costs an argon2id hash: about two minutes per topology).

use crate::bench::proc_status_kb;
use crate::bench_topology::Distributed;
use anyhow::{Context as _, bail};
use futures::{StreamExt, stream};
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(clap::Args, Clone)]
pub struct NotifyArgs {
    /// Children of the partner (each: 3 tenants, its owner and 3 users).
    #[arg(long, default_value_t = 1000)]
    children: usize,
    /// Children seeded at once.
    #[arg(long, default_value_t = 16)]
    seed_concurrency: usize,
    /// Skip the distributed topology.
    #[arg(long)]
    embedded_only: bool,
    /// Mails in flight per notification process (`ECL_SMTP_CONCURRENCY`).
    #[arg(long, default_value_t = 16)]
    smtp_concurrency: u32,
    #[command(flatten)]
    servers: crate::bench_topology::Servers,
}

const PASSWORD: &str = "Notify-bench-pass-1";
const OPERATOR_PASSWORD: &str = "Notify-operator-pass-1";

/// What one topology measured.
struct Figures {
    name: &'static str,
    recipients: u64,
    publish_ms: f64,
    resolve_ms: f64,
    bus_requests: f64,
    mails_per_sec: f64,
    last_mail_secs: f64,
}

pub async fn run(args: NotifyArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let mut rows = Vec::new();
    let mut rss: Vec<(String, Option<u64>)> = Vec::new();

    let (sink_addr, accepted) = sink().await?;
    let smtp_url = format!("smtp://{sink_addr}");

    let dir = std::env::temp_dir().join(format!("ecl-bench-notify-{}", std::process::id()));
    let settings = ecl_kernel::Settings {
        smtp_url: Some(ecl_kernel::Secret::new(smtp_url.clone())),
        smtp_concurrency: args.smtp_concurrency,
        ..crate::bench::embedded_settings(dir.clone(), OPERATOR_PASSWORD)?
    };
    let app = crate::App::start(settings, &["all".to_string()]).await?;
    let addr = app.addr.to_string();
    let tenants = seed(&http, &addr, &args, "embedded").await?;
    rows.push(
        measure(
            "embedded (all, SQLite, in-process bus)",
            &http,
            &addr,
            &addr,
            &tenants,
            &accepted,
        )
        .await?,
    );
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    rss.push((
        "bench process (embedded all + sink + client)".into(),
        ecl_kernel::telemetry::peak_rss_bytes().map(|b| b / 1024),
    ));

    if !args.embedded_only {
        let d = Distributed::start(
            &args.servers,
            "notify",
            &["identity", "contract", "tenant", "notification", "gateway"],
            OPERATOR_PASSWORD,
            &[
                ("ECL_SMTP_URL", smtp_url.clone()),
                ("ECL_SMTP_CONCURRENCY", args.smtp_concurrency.to_string()),
            ],
        )
        .await?;
        let result = async {
            let tenants = seed(&http, &d.addr("gateway"), &args, "distributed").await?;
            measure(
                "distributed (RabbitMQ, PostgreSQL)",
                &http,
                &d.addr("gateway"),
                &d.addr("notification"),
                &tenants,
                &accepted,
            )
            .await
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

    println!(
        "\nnotify: MAINTENANCE on every tenant of a partner with {} children × 3 tenants × 4 users, {} mails in flight",
        args.children, args.smtp_concurrency
    );
    println!(
        "{:<42} {:>10} {:>11} {:>11} {:>12} {:>10} {:>11}",
        "topology",
        "recipients",
        "publish ms",
        "resolve ms",
        "bus requests",
        "mails/s",
        "last mail s"
    );
    for r in &rows {
        println!(
            "{:<42} {:>10} {:>11.0} {:>11.0} {:>12.0} {:>10.0} {:>11.2}",
            r.name,
            r.recipients,
            r.publish_ms,
            r.resolve_ms,
            r.bus_requests,
            r.mails_per_sec,
            r.last_mail_secs
        );
    }
    println!(
        "aims: resolve < 1 s with bus requests independent of the children; ≥ 1,000 mails/s; notification < 100 MB peak"
    );
    println!("peak RSS per process:");
    for (what, kb) in rss {
        match kb {
            Some(kb) => println!("  {what:<44} {:>8.1} MB", kb as f64 / 1024.0),
            None => println!("  {what:<44} unknown"),
        }
    }
    Ok(())
}

/// The SMTP sink: accepts everything, counts the messages.
async fn sink() -> anyhow::Result<(std::net::SocketAddr, Arc<AtomicU64>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let _ = session(socket, count).await;
            });
        }
    });
    Ok((addr, accepted))
}

async fn session(socket: tokio::net::TcpStream, count: Arc<AtomicU64>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                }
                count.fetch_add(1, Ordering::Relaxed);
                write.write_all(b"250 accepted\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 OK\r\n").await?,
        }
    }
}

async fn gql(
    http: &reqwest::Client,
    addr: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> anyhow::Result<Value> {
    let mut req = http
        .post(format!("http://{addr}/graphql"))
        .json(&json!({"query": query, "variables": vars}));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let v: Value = req.send().await?.json().await?;
    if let Some(e) = v.get("errors") {
        bail!("GraphQL error: {e}");
    }
    Ok(v)
}

async fn sign_in(
    http: &reqwest::Client,
    addr: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    let v = gql(
        http,
        addr,
        "",
        "mutation($l: String!, $p: String!) { signIn(loginId: $l, password: $p) { accessToken } }",
        json!({"l": login, "p": password}),
    )
    .await?;
    v["data"]["signIn"]["accessToken"]
        .as_str()
        .map(str::to_string)
        .context("no access token")
}

fn contract_input(name: &str, owner_login: &str) -> Value {
    json!({
        "name": name,
        "customer": {"company": format!("{name} K.K."), "contactEmail": "contact@example.com"},
        "owner": {"loginId": owner_login, "email": format!("{owner_login}@example.com"), "password": PASSWORD}
    })
}

/// Seeds the partner tree; returns every child tenant's id.
async fn seed(
    http: &reqwest::Client,
    addr: &str,
    args: &NotifyArgs,
    what: &str,
) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let op = sign_in(http, addr, "operator", OPERATOR_PASSWORD).await?;
    let partner = gql(
        http,
        addr,
        &op,
        "mutation($i: ContractInput!) { createPartnerContract(input: $i) { id } }",
        json!({"i": contract_input("Notify Partner", "notify-owner")}),
    )
    .await?["data"]["createPartnerContract"]["id"]
        .as_str()
        .context("no partner id")?
        .to_string();
    let owner = sign_in(http, addr, "notify-owner", PASSWORD).await?;
    let done = AtomicU64::new(0);
    let results: Vec<anyhow::Result<Vec<String>>> = stream::iter(0..args.children)
        .map(|i| {
            let (owner, partner, done) = (&owner, &partner, &done);
            async move {
                let child = gql(
                    http,
                    addr,
                    owner,
                    "mutation($p: ID!, $i: ContractInput!) { createChildContract(parentId: $p, input: $i) { id } }",
                    json!({"p": partner, "i": contract_input(&format!("Notify child {i:04}"), &format!("n{i:04}-owner"))}),
                )
                .await?["data"]["createChildContract"]["id"]
                    .as_str()
                    .context("no child id")?
                    .to_string();
                let mut tenants = Vec::new();
                for t in 0..3 {
                    let tenant = gql(
                        http,
                        addr,
                        owner,
                        "mutation($c: ID!, $n: String!) { createTenant(contractId: $c, input: { name: $n, region: \"jp1\" }) { id } }",
                        json!({"c": child, "n": format!("tenant-{i:04}-{t}")}),
                    )
                    .await?["data"]["createTenant"]["id"]
                        .as_str()
                        .context("no tenant id")?
                        .to_string();
                    let login = format!("n{i:04}-user{t}");
                    let user = gql(
                        http,
                        addr,
                        owner,
                        "mutation($c: ID!, $i: UserInput!) { createUser(contractId: $c, input: $i) { id } }",
                        json!({"c": child, "i": {"loginId": login, "email": format!("{login}@example.com"), "password": PASSWORD, "role": "USER"}}),
                    )
                    .await?["data"]["createUser"]["id"]
                        .as_str()
                        .context("no user id")?
                        .to_string();
                    gql(
                        http,
                        addr,
                        owner,
                        "mutation($t: ID!, $u: ID!) { grantTenantAccess(tenantId: $t, userId: $u) { userId } }",
                        json!({"t": tenant, "u": user}),
                    )
                    .await?;
                    tenants.push(tenant);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 100 == 0 {
                    eprintln!("{what}: seeded {n} children ({:.0}s)", started.elapsed().as_secs_f64());
                }
                anyhow::Ok(tenants)
            }
        })
        .buffer_unordered(args.seed_concurrency.max(1))
        .collect()
        .await;
    let mut tenants = Vec::new();
    for r in results {
        tenants.extend(r?);
    }
    eprintln!(
        "{what}: seeded {} children, {} tenants, {} users in {:.0}s",
        args.children,
        tenants.len(),
        args.children * 4 + 1,
        started.elapsed().as_secs_f64()
    );
    Ok(tenants)
}

/// A gauge's value from a process's /metrics.
async fn gauge(http: &reqwest::Client, addr: &str, name: &str) -> anyhow::Result<f64> {
    let text = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{name} not in {addr}/metrics"))
}

async fn measure(
    name: &'static str,
    http: &reqwest::Client,
    gateway: &str,
    notification: &str,
    tenants: &[String],
    accepted: &AtomicU64,
) -> anyhow::Result<Figures> {
    let op = sign_in(http, gateway, "operator", OPERATOR_PASSWORD).await?;
    let before = accepted.load(Ordering::Relaxed);
    let started = Instant::now();
    let v = gql(
        http,
        gateway,
        &op,
        "mutation($i: PublishNoticeInput!) { publishNotice(input: $i) { id recipientCount } }",
        json!({"i": {"category": "MAINTENANCE", "title": "Storage maintenance", "body": "Firmware of the jp1 storage.",
                     "titleJa": "ストレージメンテナンス", "bodyJa": "jp1 ストレージのファームウェア更新", "tenantIds": tenants}}),
    )
    .await?;
    let publish_ms = started.elapsed().as_secs_f64() * 1000.0;
    let recipients = v["data"]["publishNotice"]["recipientCount"]
        .as_u64()
        .context("no recipient count")?;
    while accepted.load(Ordering::Relaxed) - before < recipients {
        if started.elapsed() > Duration::from_secs(600) {
            bail!(
                "the sink got {} of {recipients} mails",
                accepted.load(Ordering::Relaxed) - before
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let last_mail_secs = started.elapsed().as_secs_f64();
    Ok(Figures {
        name,
        recipients,
        publish_ms,
        resolve_ms: gauge(http, notification, "ecl_notice_last_resolve_seconds").await? * 1000.0,
        bus_requests: gauge(http, notification, "ecl_notice_last_resolve_bus_requests").await?,
        mails_per_sec: recipients as f64 / last_mail_secs,
        last_mail_secs,
    })
}
