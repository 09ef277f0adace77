//! `ecl bench walk --peer postgraphile`: the walk's peer — what a team would pick to serve this
//! nested query straight from PostgreSQL. The tree the platform holds is loaded into a fresh
//! database with the tables PostGraphile serves (contracts, tenants, users, grants, with foreign
//! keys and indexes on them), PostGraphile 5 runs over it (`scripts/peer-postgraphile/run`, which
//! installs it and the Node 22 it needs from npm), and the same client measures the equivalent
//! query. PostGraphile here checks no token and no visibility: it does less than the platform.

use crate::bench_walk::floor::Tree;
use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The walk in PostGraphile's schema (amber preset): the same tree, page and fields.
pub const WALK: &str = "query($id: String!) { contractByRowId(rowId: $id) { children: contractsByParentId(first: 100, orderBy: POSITION_ASC) { edges { node { id: rowId name tenants: tenantsByContractId(orderBy: POSITION_ASC) { edges { node { id: rowId name } } } users: usersByContractId(orderBy: POSITION_ASC) { edges { node { id: rowId loginId } } } } } } } }";

const TABLES: &str = "
CREATE TABLE contracts (id text PRIMARY KEY, name text NOT NULL,
  parent_id text REFERENCES contracts(id), position int NOT NULL);
CREATE INDEX ON contracts (parent_id, position);
CREATE TABLE tenants (id text PRIMARY KEY, contract_id text NOT NULL REFERENCES contracts(id),
  name text NOT NULL, position int NOT NULL);
CREATE INDEX ON tenants (contract_id, position);
CREATE TABLE users (id text PRIMARY KEY, contract_id text NOT NULL REFERENCES contracts(id),
  login_id text NOT NULL UNIQUE, position int NOT NULL);
CREATE INDEX ON users (contract_id, position);
CREATE TABLE grants (tenant_id text NOT NULL REFERENCES tenants(id),
  user_id text NOT NULL REFERENCES users(id), PRIMARY KEY (tenant_id, user_id));
CREATE INDEX ON grants (user_id);
";

/// PostGraphile running over its own database; dropped with it.
pub struct Peer {
    pub url: String,
    child: Child,
    pg_url: String,
    db: String,
}

impl Peer {
    /// Loads `tree` into a fresh database on `pg_url` and starts PostGraphile on it.
    pub async fn start(pg_url: &str, tree: &Tree) -> anyhow::Result<Peer> {
        let db = format!("ecl_walk_peer{}", std::process::id());
        let admin = Database::connect(format!("{pg_url}/postgres"))
            .await
            .context("PostgreSQL reachable (--pg-url)")?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db}"))
            .await?;
        admin.close().await.ok();
        let conn = Database::connect(format!("{pg_url}/{db}")).await?;
        load(&conn, tree).await?;
        conn.close().await.ok();

        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/peer-postgraphile/run");
        let child = Command::new(script)
            .args([format!("{pg_url}/{db}"), port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {script}"))?;
        let peer = Peer {
            url: format!("http://127.0.0.1:{port}/graphql"),
            child,
            pg_url: pg_url.to_string(),
            db,
        };
        // Installing from npm the first time takes a while.
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let probe = http
                .post(&peer.url)
                .json(&serde_json::json!({"query": "{ __typename }"}))
                .send()
                .await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return Ok(peer);
            }
            if started.elapsed() > Duration::from_secs(300) {
                bail!("PostGraphile did not answer within 5 minutes");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Peak RSS (kB) of PostGraphile's process and of each PostgreSQL backend serving it.
    pub async fn peak_rss(&self) -> Vec<(String, Option<u64>)> {
        let mut out = vec![(
            "peer PostGraphile (node)".to_string(),
            crate::bench::proc_status_kb(self.child.id(), "VmHWM:"),
        )];
        for (i, pid) in backends(&self.pg_url, &self.db).await.iter().enumerate() {
            out.push((
                format!("peer PostgreSQL backend {i}"),
                crate::bench::proc_status_kb(*pid, "VmHWM:"),
            ));
        }
        out
    }

    /// PostGraphile's process and the PostgreSQL backends serving it (for its CPU time).
    pub async fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.child.id()];
        pids.extend(backends(&self.pg_url, &self.db).await);
        pids
    }

    /// Stops PostGraphile and drops its database.
    pub async fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(admin) = Database::connect(format!("{}/postgres", self.pg_url)).await {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db))
                .await;
        }
    }
}

/// Pids of the PostgreSQL backends connected to `db`.
pub(crate) async fn backends(pg_url: &str, db: &str) -> Vec<u32> {
    let Ok(admin) = Database::connect(format!("{pg_url}/postgres")).await else {
        return Vec::new();
    };
    let rows = admin
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity WHERE datname = $1",
            [db.into()],
        ))
        .await
        .unwrap_or_default();
    admin.close().await.ok();
    rows.iter()
        .filter_map(|r| r.try_get::<i32>("", "pid").ok())
        .map(|p| p as u32)
        .collect()
}

/// The tree in the peer's tables, in the platform's order (`position`); each of a child's users
/// but its owner holds a grant to each of its tenants.
async fn load(conn: &DatabaseConnection, tree: &Tree) -> anyhow::Result<()> {
    conn.execute_unprepared(TABLES).await?;
    let insert = |table: &str, cols: &str, rows: Vec<Vec<Value>>| {
        let width = rows.first().map(Vec::len).unwrap_or(0);
        let mut sql = format!("INSERT INTO {table} ({cols}) VALUES ");
        let mut values = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            let marks: Vec<String> = (1..=width).map(|j| format!("${}", i * width + j)).collect();
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("({})", marks.join(",")));
            values.extend(row);
        }
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    };
    let root = &tree.root;
    conn.execute_raw(insert(
        "contracts",
        "id, name, parent_id, position",
        vec![vec![
            root.id.clone().into(),
            root.name.clone().into(),
            Value::String(None),
            0.into(),
        ]],
    ))
    .await?;
    for (n, chunk) in tree.children.chunks(500).enumerate() {
        let rows = chunk
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    c.id.clone().into(),
                    c.name.clone().into(),
                    root.id.clone().into(),
                    ((n * 500 + i) as i32).into(),
                ]
            })
            .collect();
        conn.execute_raw(insert("contracts", "id, name, parent_id, position", rows))
            .await?;
        let (mut tenants, mut users, mut grants) = (Vec::new(), Vec::new(), Vec::new());
        for c in chunk {
            for (i, (id, name)) in c.tenants.iter().enumerate() {
                tenants.push(vec![
                    id.clone().into(),
                    c.id.clone().into(),
                    name.clone().into(),
                    (i as i32).into(),
                ]);
            }
            for (i, (id, login)) in c.users.iter().enumerate() {
                users.push(vec![
                    id.clone().into(),
                    c.id.clone().into(),
                    login.clone().into(),
                    (i as i32).into(),
                ]);
                if !login.ends_with("-owner") {
                    for (t, _) in &c.tenants {
                        grants.push(vec![t.clone().into(), id.clone().into()]);
                    }
                }
            }
        }
        for (table, cols, rows) in [
            ("tenants", "id, contract_id, name, position", tenants),
            ("users", "id, contract_id, login_id, position", users),
            ("grants", "tenant_id, user_id", grants),
        ] {
            for part in rows.chunks(2000) {
                if !part.is_empty() {
                    conn.execute_raw(insert(table, cols, part.to_vec())).await?;
                }
            }
        }
    }
    conn.execute_unprepared("ANALYZE").await?;
    Ok(())
}
