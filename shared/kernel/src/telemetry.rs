//! Logging and metrics set-up shared by every process.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global tracing subscriber once (later calls are no-ops, which keeps tests simple).
pub fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,lapin=warn,sea_orm_migration=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry
            .with(fmt::layer().json().with_current_span(false))
            .try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
}

/// The process-wide Prometheus recorder; `/metrics` renders it.
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (several apps in one test binary): then the
        // handle still renders, just without this process's series.
        let _ = metrics::set_global_recorder(recorder);
        // What runs here, as a constant 1-valued series (the Prometheus convention), so a
        // dashboard can join versions onto every other series from the first scrape on.
        metrics::describe_gauge!(
            "ecl_build_info",
            "Version and build profile of this binary."
        );
        metrics::gauge!(
            "ecl_build_info",
            "version" => env!("CARGO_PKG_VERSION"),
            "profile" => if cfg!(debug_assertions) { "debug" } else { "release" },
        )
        .set(1.0);
        process_collector().describe();
        handle
    })
}

/// The Prometheus process metrics (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
/// `process_open_fds`, `process_start_time_seconds`, …), read from /proc at each scrape.
fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// The text of a `/metrics` scrape: this process's series, its process metrics updated now.
pub fn render_metrics() -> String {
    let handle = metrics();
    process_collector().collect();
    handle.render()
}

/// Peak resident set size of this process in bytes (Linux `VmHWM`), for benchmark reports.
pub fn peak_rss_bytes() -> Option<u64> {
    rss_field("VmHWM:")
}

/// Current resident set size in bytes (Linux `VmRSS`).
pub fn current_rss_bytes() -> Option<u64> {
    rss_field("VmRSS:")
}

fn rss_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
}
