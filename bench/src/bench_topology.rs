//! The distributed topology the benchmarks measure: one `ecl serve --target …` process per target
//! over the real servers, isolated by a fresh database and namespace that are removed afterwards.
//! One implementation for every benchmark that compares embedded with distributed.

use crate::bench::ready;
use anyhow::{Context as _, bail};
use std::time::{Duration, Instant};

/// Where the distributed topology's servers are.
#[derive(clap::Args, Clone, Debug)]
pub struct Servers {
    #[arg(
        long,
        env = "ECL_BENCH_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,
    /// A fresh database is created (and dropped afterwards) on this server.
    #[arg(
        long,
        env = "ECL_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub pg_url: String,
    #[arg(
        long,
        env = "ECL_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/0"
    )]
    pub redis_url: String,
}

/// The running processes of one distributed topology.
pub struct Distributed {
    servers: Servers,
    ns: String,
    db: String,
    /// Target, pid and HTTP address of each process, in start order.
    pub procs: Vec<(String, u32, String)>,
    children: Vec<std::process::Child>,
}

impl Distributed {
    /// Starts `targets` in order, each ready before the next, with `env` added to every process.
    /// `name` prefixes the namespace and the database (`ecl_{name}{pid}`).
    pub async fn start(
        servers: &Servers,
        name: &str,
        targets: &[&str],
        operator_password: &str,
        env: &[(&str, String)],
    ) -> anyhow::Result<Distributed> {
        use sea_orm::ConnectionTrait;
        let ns = format!("{name}{}", std::process::id());
        let db = format!("ecl_{ns}");
        let admin = sea_orm::Database::connect(format!("{}/postgres", servers.pg_url))
            .await
            .context("PostgreSQL reachable (--pg-url)")?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db}"))
            .await?;
        admin.close().await?;
        let exe = std::env::current_exe()?;
        let mut d = Distributed {
            servers: servers.clone(),
            ns,
            db,
            procs: Vec::new(),
            children: Vec::new(),
        };
        for target in targets {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let addr = format!("127.0.0.1:{port}");
            let child = std::process::Command::new(&exe)
                .args(["serve", "--target", target])
                .env("ECL_HTTP_ADDR", &addr)
                .env("ECL_DATABASE_URL", format!("{}/{}", servers.pg_url, d.db))
                .env("ECL_AMQP_URL", &servers.amqp_url)
                .env("ECL_REDIS_URL", &servers.redis_url)
                .env("ECL_NAMESPACE", &d.ns)
                .env("ECL_BOOTSTRAP_OPERATOR_PASSWORD", operator_password)
                .envs(env.iter().map(|(k, v)| (*k, v)))
                .env(
                    "RUST_LOG",
                    std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
                )
                .stdout(std::process::Stdio::null())
                .spawn()?;
            d.procs.push((target.to_string(), child.id(), addr.clone()));
            d.children.push(child);
            let started = Instant::now();
            while !ready(&addr).await {
                if started.elapsed() > Duration::from_secs(60) {
                    d.stop().await;
                    bail!("{target} did not become ready");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(d)
    }

    /// The HTTP address of the (first) process of `target`.
    pub fn addr(&self, target: &str) -> String {
        self.procs
            .iter()
            .find(|p| p.0 == target)
            .map(|p| p.2.clone())
            .unwrap_or_default()
    }

    /// The processes and the PostgreSQL backends serving them (for their CPU time).
    pub async fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.procs.iter().map(|p| p.1).collect();
        pids.extend(crate::bench_peer::backends(&self.servers.pg_url, &self.db).await);
        pids
    }

    /// Kills the processes and removes the database, queues and exchanges.
    pub async fn stop(mut self) {
        use sea_orm::ConnectionTrait;
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Ok(admin) =
            sea_orm::Database::connect(format!("{}/postgres", self.servers.pg_url)).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db))
                .await;
        }
        crate::bench_walk::delete_namespace(&self.servers.amqp_url, &self.ns).await;
    }
}
