//! Three replicas of every target started at the same moment on a fresh PostgreSQL database: each
//! service's schema and migrations are created once, under the service's advisory lock, and every
//! replica becomes ready (before, two replicas racing on `CREATE SCHEMA` / `CREATE TABLE` made one
//! exit with `duplicate key value violates unique constraint "pg_type_typname_nsp_index"`).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_of_every_target_start_at_once_on_a_fresh_database() {
    let mut d = Distributed::prepare(&[], false).await;
    let modules = ecl::targets::modules();
    let targets: Vec<&str> = modules
        .iter()
        .flat_map(|m| [m.name, m.name, m.name])
        .collect();
    let started = Instant::now();
    d.spawn_together(&targets).await;
    eprintln!(
        "{} processes ({} targets × 3) ready {:.1?} after starting together",
        targets.len(),
        modules.len(),
        started.elapsed()
    );

    // Every migration of every service recorded exactly once.
    let db = d.database().await;
    for m in modules
        .iter()
        .filter(|m| m.needs.contains(&ecl_runtime::Need::Store))
    {
        let table = format!("\"{0}\".\"{0}_migrations\"", m.name);
        let all = scalar(&db, &format!("SELECT count(*) FROM {table}")).await;
        let distinct = scalar(&db, &format!("SELECT count(DISTINCT version) FROM {table}")).await;
        assert!(
            all > 0 && all == distinct,
            "{}: {all} records, {distinct} migrations",
            m.name
        );
    }
    // And the platform answers: the operator signs in through one of the gateways.
    let token = d.gateway().operator().await;
    assert!(!token.is_empty());
    db.close().await.ok();
    d.cleanup().await;
}
