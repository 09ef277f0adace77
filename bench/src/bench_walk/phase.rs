//! One measured phase of the walk: `clients` run the same GraphQL request back to back for a number
//! of seconds, with latency percentiles, queries per second, and the CPU per query of this process
//! and of the server's processes.

use super::Phase;
use crate::bench::percentile;
use anyhow::ensure;
use serde_json::Value;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

/// The server runs in this process: no other process to measure.
pub(super) async fn no_pids() -> Vec<u32> {
    Vec::new()
}

/// `clients` run the GraphQL request `body` back to back for `seconds` (after a short warm-up).
pub(super) async fn phase(
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
