//! What every benchmark shares: the settings of an embedded platform, percentiles of measured
//! latencies, this process's peak and current RSS, another process's figures from
//! `/proc/<pid>/status`, and whether a process answers `/readyz` (SPEC §1: operators run each
//! service as its own deployment — the benchmarks start them so).

use std::{path::PathBuf, time::Duration};

/// The settings of a benchmark's embedded platform (target `all` in the bench process): the
/// process's own `ECL_*` settings, as `ecl serve` reads them — so a knob such as
/// `ECL_DB_MAX_CONNECTIONS` is measured as a deployment would run with it — on the embedded
/// topology (SQLite files in `data_dir`, in-process bus and cache, any free port) with the
/// benchmark's operator password.
pub(crate) fn embedded_settings(
    data_dir: PathBuf,
    operator_password: &str,
) -> anyhow::Result<ecl_kernel::Settings> {
    let env = ecl_kernel::Settings::load().map_err(anyhow::Error::msg)?;
    Ok(ecl_kernel::Settings {
        http_addr: "127.0.0.1:0".parse()?,
        data_dir,
        database_url: None,
        amqp_url: "memory:".into(),
        redis_url: "memory:".into(),
        bootstrap_operator_password: Some(ecl_kernel::Secret::new(operator_password)),
        ..env
    })
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e6
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
