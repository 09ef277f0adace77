//! SQLite's write-ahead log, kept bounded while the database is never idle.
//!
//! SQLite starts the log over only when a writer finds every frame checkpointed and no connection
//! reading from it. A service whose pooled connections read while others write (metering during
//! an ingestion: validation reads beside the batches being stored) never gives it that moment,
//! and the log grows without limit: 8.9 GB beside a 454 MB database in one ingestion of 1 M
//! events. Every [`WalCheckpoints::EVERY`] commits, a `TRUNCATE` checkpoint waits up to 50 ms for
//! the readers of the moment to finish, copies the log into the database and truncates it.
//! Under the ingestion benchmark's constant reads most give up within those 50 ms: the log still
//! peaked at 4.1 GB there (truncated to 0 whenever one succeeded) — bounded in part, not fully.
//! PostgreSQL needs none of it.

use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

#[derive(Debug, Default)]
pub struct WalCheckpoints {
    commits: AtomicU64,
}

impl WalCheckpoints {
    /// Commits between checkpoints. A metering batch of 1,000 events writes ~4.6 MB of log
    /// (every index page it touches, whole); at 256 commits the log of an embedded ingestion
    /// still peaked at 4.6 GB before its checkpoint truncated it, so 32 (~150 MB).
    pub const EVERY: u64 = 32;

    /// Counts a commit on `db`; every [`Self::EVERY`]th checkpoints the log. A checkpoint that
    /// cannot finish (readers past the busy timeout) is logged and left to the next one.
    pub async fn after_commit(&self, db: &DatabaseConnection) {
        if db.get_database_backend() != DbBackend::Sqlite
            || self.commits.fetch_add(1, Ordering::Relaxed) % Self::EVERY != Self::EVERY - 1
        {
            return;
        }
        // A TRUNCATE checkpoint holds the write lock while it waits for the readers of the
        // moment: on the pool's 5 s busy timeout a writer behind it could wait that long. 50 ms
        // on this connection for the checkpoint (the next one tries again), 5 s again after.
        if let Err(e) = db
            .execute_unprepared(
                "PRAGMA busy_timeout = 50; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA busy_timeout = 5000",
            )
            .await
        {
            tracing::warn!("WAL checkpoint: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectOptions, Database};
    use std::sync::Arc;

    /// A writer committing while read transactions overlap (some connection always reads): without
    /// the checkpoints the log grows with every commit; with them it stays near one checkpoint's
    /// worth of commits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_stays_bounded_under_constant_reads() {
        let grown_without = wal_after_writes(false).await;
        let grown_with = wal_after_writes(true).await;
        eprintln!("WAL without checkpoints {grown_without} B, with {grown_with} B");
        assert!(
            grown_with * 4 < grown_without,
            "WAL with checkpoints {grown_with} B, without {grown_without} B"
        );
    }

    /// The checkpoint's short busy timeout does not stay on the connection it ran on.
    #[tokio::test]
    async fn the_connection_keeps_its_busy_timeout() {
        let dir = std::env::temp_dir().join(format!("ecl-wal-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut opts =
            ConnectOptions::new(format!("sqlite://{}?mode=rwc", dir.join("t.db").display()));
        opts.max_connections(1).sqlx_logging(false);
        let db = Database::connect(opts).await.unwrap();
        let wal = WalCheckpoints::default();
        for _ in 0..WalCheckpoints::EVERY {
            wal.after_commit(&db).await;
        }
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA busy_timeout",
            ))
            .await
            .unwrap()
            .unwrap();
        let timeout: i64 = row.try_get_by_index(0).unwrap();
        db.close().await.unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(timeout, 5_000);
    }

    /// The size of the log after 1,500 commits of 4 kB rows beside two readers in a loop.
    async fn wal_after_writes(checkpoints: bool) -> u64 {
        let dir = std::env::temp_dir().join(format!("ecl-wal-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(4)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            });
        let db = Database::connect(opts).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            .await
            .unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (db, stop) = (db.clone(), stop.clone());
                tokio::spawn(async move {
                    // read transactions that overlap: some connection always reads
                    while !stop.load(Ordering::Relaxed) {
                        use sea_orm::TransactionTrait;
                        let txn = db.begin().await.unwrap();
                        txn.execute_unprepared("SELECT count(*), max(length(body)) FROM t")
                            .await
                            .unwrap();
                        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
                        txn.commit().await.unwrap();
                    }
                })
            })
            .collect();
        let wal = WalCheckpoints::default();
        let body = "x".repeat(4_000);
        for i in 0..1_500 {
            db.execute_unprepared(&format!(
                "INSERT OR REPLACE INTO t VALUES ({}, '{body}')",
                i % 300
            ))
            .await
            .unwrap();
            if checkpoints {
                wal.after_commit(&db).await;
            }
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.await.unwrap();
        }
        let size = std::fs::metadata(dir.join("t.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
        db.close().await.unwrap();
        std::fs::remove_dir_all(&dir).ok();
        size
    }
}
