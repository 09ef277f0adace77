//! `ecl bench sign-in`: sign-in throughput with argon2id (SPEC §4: login id + password, argon2id)
//! against the machine's ceiling (cores ÷ hash time), and the p99 of ordinary queries before and
//! during a sign-in storm (hashing must not starve them). Embedded platform, over HTTP.

use super::{percentile, print_rss};
use std::time::{Duration, Instant};

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

pub(super) async fn sign_in(seconds: u64, clients: usize) -> anyhow::Result<()> {
    let password = "Bench-pass-123";
    let settings = ecl_kernel::Settings {
        database_url: Some("sqlite::memory:".into()),
        // The storm signs in with the right password: nothing to lock. All its clients are
        // 127.0.0.1, so the per-client sign-in limit is lifted: the storm measures the hashing.
        sign_in_burst: 1_000_000,
        ..crate::bench::embedded_settings(std::env::temp_dir(), password)?
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
