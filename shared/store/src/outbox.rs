//! Transactional outbox: a service writes its events into its own `outbox` table in the same
//! transaction as the change they announce; a relay publishes them afterwards and deletes them once
//! the broker confirmed. So a committed change is never lost and never announced uncommitted.
//!
//! Event ids are fixed when written, so a row published twice (crash between confirm and delete, or
//! two replicas relaying) is recognised by idempotent consumers.

use ecl_bus::Bus;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::Event;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, entity::prelude::*,
};
use sea_orm_migration::prelude::*;
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub topic: String,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub trace_id: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The migration that creates the outbox table; every service lists it in its migrator.
pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m0000_create_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string, text};
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("topic"))
                    .col(text("payload"))
                    .col(string("trace_id"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await
    }
}

/// Handle to a service's outbox: write events in a transaction, then `wake` the relay.
#[derive(Clone)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Outbox {
    /// Starts the relay for `db` and returns the handle.
    pub fn start(db: DatabaseConnection, bus: Bus, service: &'static str) -> Outbox {
        let wake = Arc::new(Notify::new());
        tokio::spawn(relay(db, bus, wake.clone(), service));
        Outbox { wake }
    }

    /// Records `event` inside the caller's transaction.
    pub async fn add<E: Event, C: ConnectionTrait>(
        &self,
        txn: &C,
        trace_id: &str,
        event: &E,
    ) -> AppResult<()> {
        let row = entity::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            topic: Set(E::TOPIC.to_string()),
            payload: Set(serde_json::to_string(event).map_err(AppError::internal)?),
            trace_id: Set(trace_id.to_string()),
            created_at: Set(chrono::Utc::now().timestamp_micros()),
        };
        row.insert(txn).await?;
        Ok(())
    }

    /// Records `event` in `txn`, commits, and wakes the relay: the usual end of a change.
    pub async fn commit_with<E: Event>(
        &self,
        txn: sea_orm::DatabaseTransaction,
        trace_id: &str,
        event: &E,
    ) -> AppResult<()> {
        self.add(&txn, trace_id, event).await?;
        txn.commit().await?;
        self.wake();
        Ok(())
    }

    /// Tells the relay there is something to publish (call after commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

const BATCH: u64 = 200;

/// Publishes outbox rows oldest first. Never gives up: a failure (broker down) is logged and retried
/// with backoff, and rows stay in the table until confirmed.
async fn relay(db: DatabaseConnection, bus: Bus, wake: Arc<Notify>, service: &'static str) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match relay_once(&db, &bus).await {
            Ok(n) if n as u64 == BATCH => continue,
            Ok(_) => {
                backoff = Duration::from_millis(100);
                // Poll now and then too: a row written by another replica has no one to wake us.
                let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
            }
            Err(e) => {
                tracing::warn!(service, "outbox relay: {e}; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Publishes one batch of the oldest rows and deletes what the broker confirmed.
///
/// On PostgreSQL the batch is claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that
/// lasts until its rows are deleted: a second replica's relay skips them and takes the next ones,
/// so replicas do not publish the same row twice (each row once, barring a crash between confirm
/// and commit — consumers' inboxes absorb that). SQLite has a single writer: nothing to claim.
async fn relay_once(db: &DatabaseConnection, bus: &Bus) -> AppResult<usize> {
    use sea_orm::{TransactionTrait, sea_query::LockBehavior, sea_query::LockType};
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        // No transaction: a deferred SQLite transaction that reads and then writes fails at once
        // (SQLITE_BUSY_SNAPSHOT) whenever a handler committed in between.
        let rows = oldest().all(db).await?;
        return publish_and_delete(db, bus, rows).await;
    }
    let txn = db.begin().await?;
    let rows = oldest()
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    let result = publish_and_delete(&txn, bus, rows).await;
    txn.commit().await?;
    result
}

fn oldest() -> sea_orm::Select<entity::Entity> {
    entity::Entity::find()
        .order_by_asc(entity::Column::Id)
        .limit(BATCH)
}

async fn publish_and_delete<C: ConnectionTrait>(
    db: &C,
    bus: &Bus,
    rows: Vec<entity::Model>,
) -> AppResult<usize> {
    let n = rows.len();
    let mut published = Vec::with_capacity(n);
    let mut failed = None;
    for row in rows {
        match bus
            .publish_raw(
                row.id.clone(),
                row.topic,
                row.trace_id,
                bytes::Bytes::from(row.payload),
            )
            .await
        {
            Ok(()) => published.push(row.id),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // What the broker confirmed goes, also when a later row failed (that one is retried).
    if !published.is_empty() {
        entity::Entity::delete_many()
            .filter(entity::Column::Id.is_in(published))
            .exec(db)
            .await?;
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(n),
    }
}
