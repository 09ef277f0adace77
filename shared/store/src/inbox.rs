//! Transactional inbox: a consumer group records the id of every event it handled in its own
//! `inbox` table, in the same transaction as the changes the handler makes. A redelivered event
//! (the broker redelivers what was not acknowledged before a connection or a process died; the
//! outbox relay may publish a row twice) finds its id there and is acknowledged without effect —
//! whatever the handler does, so handlers need not be idempotent themselves.
//!
//! ```ignore
//! let inbox = Inbox::start(db.clone(), NAME);
//! // in an event handler (`id` is the event id the EventRouter passes):
//! let handled = inbox
//!     .handle(&id, TenantChanged::TOPIC, |txn| {
//!         Box::pin(async move { svc.on_tenant(txn, ev).await })
//!     })
//!     .await?; // None: handled before, nothing ran
//! ```
//!
//! Dead letters (events a handler kept failing on) live beside it, in `dead_letters`: see
//! [`crate::dead_letters`].

use ecl_kernel::{AppError, AppResult};
use futures::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};
use sea_orm_migration::prelude::*;
use std::time::Duration;

/// Handled ids are kept this long: far beyond any redelivery (the broker redelivers within
/// seconds, a relay republishes within its retry backoff), short enough to keep the table small.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One handled event.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub topic: String,
        /// Unix microseconds; pruning goes by it.
        #[sea_orm(indexed)]
        pub handled_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The migration that creates `inbox` and `dead_letters`; every service that consumes events
/// lists it in its migrator (after its own).
pub struct CreateInbox;

impl MigrationName for CreateInbox {
    fn name(&self) -> &str {
        "s0001_inbox_dead_letters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, boolean, integer, string, text};
        manager
            .create_table(
                Table::create()
                    .table("inbox")
                    .if_not_exists()
                    .col(string("event_id").primary_key())
                    .col(string("topic"))
                    .col(big_integer("handled_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-inbox-handled_at")
                    .table("inbox")
                    .col("handled_at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("dead_letters")
                    .if_not_exists()
                    .col(string("event_id").primary_key())
                    .col(string("topic"))
                    .col(string("trace_id"))
                    .col(text("payload"))
                    .col(text("error"))
                    .col(integer("attempts"))
                    .col(big_integer("failed_at"))
                    .col(boolean("replay_requested"))
                    .to_owned(),
            )
            .await
    }
}

/// A consumer group's inbox (its service's database); cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    db: DatabaseConnection,
    group: &'static str,
}

impl Inbox {
    /// The inbox of `group` in `db`; starts pruning ids older than [`RETENTION`].
    pub fn start(db: DatabaseConnection, group: &'static str) -> Inbox {
        let inbox = Inbox { db, group };
        tokio::spawn(prune(inbox.clone()));
        inbox
    }

    pub fn group(&self) -> &'static str {
        self.group
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Handles event `event_id` once: begins a transaction, records the id, runs `body` in that
    /// transaction and commits. `Ok(None)` when the id was recorded before (handled already:
    /// `body` does not run). An error from `body` rolls everything back, the id included, so the
    /// transport's retry runs it again.
    ///
    /// Everything `body` writes must go through the transaction it gets (on an in-memory SQLite
    /// database it holds the only connection). Wake the outbox after this returns if `body` added
    /// events to it.
    pub async fn handle<T, F>(&self, event_id: &str, topic: &str, body: F) -> AppResult<Option<T>>
    where
        T: Send,
        F: for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, AppResult<T>> + Send,
    {
        let txn = self.db.begin().await?;
        if event_id.is_empty() {
            // A producer outside the platform that sets no message id: nothing to recognise a
            // redelivery by, so it is handled every time it arrives.
            tracing::debug!(
                group = self.group,
                topic,
                "event without id: not deduplicated"
            );
        } else if !self.record(&txn, event_id, topic).await? {
            metrics::counter!("ecl_inbox_duplicates_total", "group" => self.group).increment(1);
            tracing::debug!(
                group = self.group,
                topic,
                event_id,
                "event handled before: acknowledged without effect"
            );
            return Ok(None);
        }
        let out = body(&txn).await?;
        txn.commit().await?;
        Ok(Some(out))
    }

    /// Inserts the id; false when it is there already. On PostgreSQL a concurrent handler of the
    /// same id (a redelivery while the first delivery is still running) waits here for the first
    /// transaction and then sees the conflict, or proceeds if the first rolled back.
    async fn record(
        &self,
        txn: &DatabaseTransaction,
        event_id: &str,
        topic: &str,
    ) -> AppResult<bool> {
        let mut stmt = Query::insert();
        stmt.into_table(entity::Entity)
            .columns([
                entity::Column::EventId,
                entity::Column::Topic,
                entity::Column::HandledAt,
            ])
            .values_panic([
                event_id.into(),
                topic.into(),
                chrono::Utc::now().timestamp_micros().into(),
            ])
            .on_conflict(
                OnConflict::column(entity::Column::EventId)
                    .do_nothing()
                    .to_owned(),
            );
        Ok(txn.execute(&stmt).await?.rows_affected() == 1)
    }

    /// Keeps `event` as a dead letter (or updates the one kept before, when a replay failed again).
    pub async fn dead_letter(
        &self,
        event: &ecl_bus::EventEnvelope,
        error: &AppError,
        attempts: u32,
    ) -> AppResult<()> {
        crate::dead_letters::keep(&self.db, event, error, attempts).await
    }
}

async fn prune(inbox: Inbox) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let cutoff = chrono::Utc::now().timestamp_micros() - RETENTION.as_micros() as i64;
        let stmt = Query::delete()
            .from_table(entity::Entity)
            .and_where(Expr::col(entity::Column::HandledAt).lt(cutoff))
            .to_owned();
        if let Err(e) = inbox.db.execute(&stmt).await {
            tracing::warn!(group = inbox.group, "inbox pruning failed: {e}");
        }
    }
}
