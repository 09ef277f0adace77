//! Dead letters: events a consumer group's handler kept failing on (see `ecl_bus::deliver` for
//! the retry policy), kept in the group's own `dead_letters` table — whichever transport carried
//! them — until an operator replays them (`ecl dead-letters list|replay`).
//!
//! Replaying marks rows; the consumer's own process picks marked rows up (within a second),
//! runs them through its handler (and so through its inbox) once, and deletes each that
//! succeeded. One that fails again stays, with the new error and its attempts counted.

use ecl_bus::EventEnvelope;
use ecl_kernel::{AppError, AppResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "dead_letters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub topic: String,
        pub trace_id: String,
        /// The event body (JSON as published).
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        /// The last failure, `CODE: message` (an internal error's reference finds its cause in
        /// the consumer's log).
        #[sea_orm(column_type = "Text")]
        pub error: String,
        /// Failed handler runs so far (delivery attempts and replays).
        pub attempts: i32,
        /// Unix microseconds of the last failure.
        pub failed_at: i64,
        /// An operator asked for a replay that has not run yet.
        pub replay_requested: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity};

/// Keeps `event` (or updates the row kept before: a replay that failed again).
pub async fn keep<C: ConnectionTrait>(
    db: &C,
    event: &EventEnvelope,
    error: &AppError,
    attempts: u32,
) -> AppResult<()> {
    let mut stmt = Query::insert();
    stmt.into_table(Entity)
        .columns([
            Column::EventId,
            Column::Topic,
            Column::TraceId,
            Column::Payload,
            Column::Error,
            Column::Attempts,
            Column::FailedAt,
            Column::ReplayRequested,
        ])
        .values_panic([
            event.id.clone().into(),
            event.topic.clone().into(),
            event.trace_id.clone().into(),
            // Bodies are JSON; anything else is kept readable rather than refused.
            String::from_utf8_lossy(&event.body).into_owned().into(),
            error.to_string().into(),
            (attempts as i32).into(),
            chrono::Utc::now().timestamp_micros().into(),
            false.into(),
        ])
        .on_conflict(
            OnConflict::column(Column::EventId)
                .update_columns([Column::Error, Column::FailedAt, Column::ReplayRequested])
                .value(
                    Column::Attempts,
                    Expr::col((Entity, Column::Attempts)).add(attempts as i32),
                )
                .to_owned(),
        );
    db.execute(&stmt).await?;
    tracing::error!(topic = %event.topic, id = %event.id, attempts, "event dead-lettered: {error}");
    Ok(())
}

/// Every dead letter of this store, oldest failure first.
pub async fn list<C: ConnectionTrait>(db: &C) -> AppResult<Vec<entity::Model>> {
    Ok(Entity::find()
        .order_by_asc(Column::FailedAt)
        .order_by_asc(Column::EventId)
        .all(db)
        .await?)
}

/// Asks for a replay of the given dead letters (all of them when `ids` is `None`); returns how
/// many rows were marked.
pub async fn request_replay<C: ConnectionTrait>(db: &C, ids: Option<&[String]>) -> AppResult<u64> {
    let mut update = Entity::update_many().col_expr(Column::ReplayRequested, Expr::value(true));
    if let Some(ids) = ids {
        update = update.filter(Column::EventId.is_in(ids.iter().cloned()));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Takes up to `limit` requested replays for this process: each row is claimed by clearing its
/// flag with a conditional update, so of several replicas exactly one runs it.
pub async fn claim_replays<C: ConnectionTrait>(
    db: &C,
    limit: u64,
) -> AppResult<Vec<EventEnvelope>> {
    let rows = Entity::find()
        .filter(Column::ReplayRequested.eq(true))
        .order_by_asc(Column::FailedAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let claimed = Entity::update_many()
            .col_expr(Column::ReplayRequested, Expr::value(false))
            .filter(Column::EventId.eq(r.event_id.clone()))
            .filter(Column::ReplayRequested.eq(true))
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if claimed {
            out.push(EventEnvelope {
                id: r.event_id,
                topic: r.topic,
                trace_id: r.trace_id,
                body: bytes::Bytes::from(r.payload),
            });
        }
    }
    Ok(out)
}

/// A replayed dead letter was handled: it goes.
pub async fn replayed<C: ConnectionTrait>(db: &C, event_id: &str) -> AppResult<()> {
    let stmt = Query::delete()
        .from_table(Entity)
        .and_where(Expr::col(Column::EventId).eq(event_id))
        .to_owned();
    db.execute(&stmt).await?;
    Ok(())
}
