//! `ecl bench idle`: the memory of idle service processes (SPEC §1: operators run each service as
//! its own deployment): one `ecl serve --target X` per target with this process's environment,
//! each waited for until ready and idle, then its RSS printed.

use super::{print_rss, proc_status_kb, ready};
use std::time::{Duration, Instant};

pub(super) async fn idle(targets: &[String], settle: u64) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for t in targets {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(&exe)
            .args(["serve", "--target", t])
            .env("ECL_HTTP_ADDR", &addr)
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let started = Instant::now();
        while !ready(&addr).await {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "{t} did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        children.push((t.clone(), child));
    }
    tokio::time::sleep(Duration::from_secs(settle)).await;
    println!("\nidle processes (ready, no traffic for {settle}s)");
    println!("{:<14} {:>12} {:>12}", "target", "RSS MB", "peak RSS MB");
    for (t, child) in &mut children {
        let mb = |kb: Option<u64>| {
            kb.map(|k| format!("{:.1}", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".into())
        };
        println!(
            "{:<14} {:>12} {:>12}",
            t,
            mb(proc_status_kb(child.id(), "VmRSS:")),
            mb(proc_status_kb(child.id(), "VmHWM:"))
        );
        let _ = child.kill();
        let _ = child.wait();
    }
    print_rss("bench driver");
    Ok(())
}
