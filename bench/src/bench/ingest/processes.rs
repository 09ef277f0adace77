//! The distributed run's processes (SPEC §1: each service its own deployment): `ecl serve --target`
//! per group over PostgreSQL, RabbitMQ and Redis, each waited for until ready; their peak RSS; and
//! stopping them.

use crate::bench::{proc_status_kb, ready};
use std::time::{Duration, Instant};

pub struct Proc {
    pub name: String,
    pub addr: String,
    pub child: std::process::Child,
}

/// Starts `ecl serve --target t` per group over PostgreSQL/RabbitMQ/Redis, in namespace `ns`.
pub async fn spawn(
    groups: &[&str],
    db_url: &str,
    amqp: &str,
    redis: &str,
    ns: &str,
) -> anyhow::Result<Vec<Proc>> {
    let exe = std::env::current_exe()?;
    let mut out = Vec::new();
    for g in groups {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(&exe)
            .args(["serve", "--target", g])
            .env("ECL_HTTP_ADDR", &addr)
            .env("ECL_DATABASE_URL", db_url)
            .env("ECL_AMQP_URL", amqp)
            .env("ECL_REDIS_URL", redis)
            .env("ECL_NAMESPACE", ns)
            .env("ECL_BOOTSTRAP_OPERATOR_PASSWORD", "Bench-pass-123")
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let started = Instant::now();
        while !ready(&addr).await {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "{g} did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        out.push(Proc {
            name: g.to_string(),
            addr,
            child,
        });
    }
    Ok(out)
}

pub fn print_procs(procs: &mut [Proc]) {
    for p in procs.iter_mut() {
        let hwm = proc_status_kb(p.child.id(), "VmHWM:")
            .map(|k| format!("{:.1} MB", k as f64 / 1024.0))
            .unwrap_or_else(|| "n/a".into());
        println!("peak RSS, process {}: {hwm}", p.name);
    }
}

pub fn stop(procs: &mut Vec<Proc>) {
    for p in procs.iter_mut() {
        let _ = p.child.kill();
        let _ = p.child.wait();
    }
    procs.clear();
}
