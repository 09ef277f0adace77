//! Every PostgreSQL backend of the run's database terminated (`pg_terminate_backend`) in the
//! middle of 100,000 usage events and a stream of requests, and again as soon as they reconnected: the
//! pools reconnect, ingestion resumes, each event is stored exactly once, no request outlives its
//! deadline.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_connections_terminated_mid_stream_lose_nothing() {
    let survived = survive("pg", false, Pace::Steady, |d| {
        let db = d.db.clone();
        async move {
            let admin = sea_orm::Database::connect(pg_url("postgres"))
                .await
                .expect("postgres");
            let sql = format!(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{db}' AND pid <> pg_backend_pid()) t"
            );
            let first = scalar(&admin, &sql).await;
            assert!(first > 0, "the run's processes hold connections");
            // Once more as soon as the pools have reconnected.
            let open = format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()"
            );
            until(Duration::from_secs(30), "the pools reconnect", || {
                let (admin, open) = (&admin, &open);
                async move { scalar(admin, open).await > 0 }
            })
            .await;
            let second = scalar(&admin, &sql).await;
            eprintln!("terminated {first} and then {second} backends of {db}");
            admin.close().await.ok();
        }
    })
    .await;
    // Exactly once: not one event lost, none counted twice.
    assert_eq!(survived.stored, EVENTS as i64);
    survived.requests.assert_within_deadline();
}
