//! `/metrics` answers process metrics (memory, CPU, file descriptors, start time) and the build
//! (`ecl_build_info{version=…}`) from the very first scrape of a fresh process.

use crate::common;

use common::*;

#[actix_rt::test]
async fn the_first_scrape_has_process_metrics_and_build_info() {
    let proc = spawn_process(&[]).await;
    let text = reqwest::get(format!("http://{}/metrics", proc.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in the first scrape:\n{text}"))
    };
    let rss = value("process_resident_memory_bytes");
    assert!(rss > 1e6, "{rss}");
    // The same figure as the kernel's, within what a scrape allocates.
    let kernel = proc.memory("VmRSS:") as f64;
    assert!((rss - kernel).abs() < 0.5 * kernel, "{rss} vs {kernel}");
    assert!(value("process_cpu_seconds_total") >= 0.0);
    assert!(value("process_open_fds") >= 3.0);
    let start = value("process_start_time_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        now - start < 600.0 && start <= now + 1.0,
        "started at {start}"
    );
    let build = format!("ecl_build_info{{version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(
        text.lines()
            .any(|l| l.starts_with(&build) && l.ends_with(" 1")),
        "{build} in:\n{text}"
    );
}
