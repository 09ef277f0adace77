//! The sender: works off the delivery log. Each round it claims a batch of due `QUEUED` rows with
//! a lease (a conditional UPDATE, so two replicas never hold the same row), mails them with
//! `smtp_concurrency` in flight over the pooled transport, and records each outcome:
//!
//! * sent → `SENT` with its time (recorded in small groups as they complete);
//! * deferred (4xx) or the server unreachable → still `QUEUED`, next attempt after an exponential
//!   backoff with jitter (500 ms doubling, capped by `smtp_retry_max_ms`) — nothing is lost while
//!   the server is down;
//! * refused for good (5xx) → `FAILED` with the server's reply; the notice's other rows go on.
//!
//! A sender killed mid-batch leaves its leased rows to expire; another sender (or the same target
//! restarted) takes them over, so a mail is sent twice only if it was in flight — sent but not yet
//! recorded — at the kill. The loop runs as a supervised task: a panic restarts it.

use crate::{
    entity::{delivery, notice},
    mailer::{self, Mailer, Outcome},
    publish::{FAILED, QUEUED, SENT},
};
use ecl_kernel::Settings;
use futures::StreamExt;
use lettre::message::Mailbox;
use rand::Rng;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::Notify;

/// Sent rows recorded together (one UPDATE); also the most a kill can leave unrecorded beyond
/// the sends in flight.
const RECORD_EVERY: usize = 32;
/// Poll for due rows when nothing woke the sender (other replicas' notices, retries).
const IDLE_POLL: Duration = Duration::from_millis(500);
const FIRST_RETRY_MS: u64 = 500;

/// Wakes the sender when a notice was queued in this process.
#[derive(Clone)]
pub struct Handle {
    wake: Arc<Notify>,
}

impl Handle {
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

struct Sender {
    db: DatabaseConnection,
    mailer: Mailer,
    from: Mailbox,
    concurrency: usize,
    retry_max_ms: u64,
    /// How long a claim holds (`smtp_lease_ms`): longer than a batch takes — a send gives up
    /// after `send_timeout`, and none starts in the last two of those — short enough that a
    /// killed sender's rows go out again soon.
    lease: Duration,
    send_timeout: Duration,
    /// This process's claims.
    owner: String,
    wake: Arc<Notify>,
}

pub fn start(db: DatabaseConnection, mailer: Mailer, settings: &Settings) -> Handle {
    let wake = Arc::new(Notify::new());
    let from = settings.mail_from.parse().unwrap_or_else(|e| {
        tracing::warn!("ECL_MAIL_FROM is not an address ({e}); using noreply@ecl.invalid");
        "noreply@ecl.invalid"
            .parse()
            .expect("valid fallback address")
    });
    let sender = Arc::new(Sender {
        db,
        mailer,
        from,
        concurrency: settings.smtp_concurrency as usize,
        retry_max_ms: settings.smtp_retry_max_ms,
        lease: Duration::from_millis(settings.smtp_lease_ms),
        send_timeout: mailer::send_timeout(settings),
        owner: uuid::Uuid::new_v4().simple().to_string(),
        wake: wake.clone(),
    });
    tokio::spawn(async move {
        // The supervisor: a round that panicked restarts the loop; its leases expire.
        loop {
            let s = sender.clone();
            match tokio::spawn(async move { s.run().await }).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!("mail sender crashed, restarting: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Handle { wake }
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The wait before attempt `attempts + 1` of a deferred mail: 500 ms doubling per attempt,
/// capped at `max_ms`, times a random factor in [0.5, 1] so deferred mails of one notice do not
/// all come back at the same instant.
pub fn backoff(attempts: u32, max_ms: u64, jitter: f64) -> Duration {
    let exp = FIRST_RETRY_MS.saturating_mul(1u64 << attempts.saturating_sub(1).min(30));
    let capped = exp.min(max_ms) as f64;
    Duration::from_millis((capped * jitter.clamp(0.5, 1.0)) as u64)
}

impl Sender {
    async fn run(&self) {
        loop {
            match self.round().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {
                    let _ = tokio::time::timeout(IDLE_POLL, self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::warn!("mail sender round failed: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// One batch: claim, send, record. Returns how many rows it claimed.
    async fn round(&self) -> Result<usize, sea_orm::DbErr> {
        let now = now_us();
        let due: Vec<String> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(delivery::Column::Status.eq(QUEUED))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(delivery::Column::LeaseUntil.lt(now))
            .order_by_asc(delivery::Column::NextAttemptAt)
            .limit((self.concurrency * 8) as u64)
            .into_tuple()
            .all(&self.db)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let lease_until = now + self.lease.as_micros() as i64;
        let started = Instant::now();
        delivery::Entity::update_many()
            .col_expr(delivery::Column::LeaseUntil, Expr::value(lease_until))
            .col_expr(
                delivery::Column::LeaseOwner,
                Expr::value(self.owner.clone()),
            )
            .filter(delivery::Column::Id.is_in(due.clone()))
            .filter(delivery::Column::Status.eq(QUEUED))
            .filter(delivery::Column::LeaseUntil.lt(now))
            .exec(&self.db)
            .await?;
        let mine = delivery::Entity::find()
            .filter(delivery::Column::Id.is_in(due))
            .filter(delivery::Column::LeaseOwner.eq(self.owner.clone()))
            .filter(delivery::Column::LeaseUntil.eq(lease_until))
            .all(&self.db)
            .await?;
        if mine.is_empty() {
            // Another replica claimed them first.
            return Ok(1);
        }
        let claimed = mine.len();
        let mut notice_ids: Vec<String> = mine.iter().map(|d| d.notice_id.clone()).collect();
        notice_ids.sort();
        notice_ids.dedup();
        let notices: HashMap<String, notice::Model> = notice::Entity::find()
            .filter(notice::Column::Id.is_in(notice_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|n| (n.id.clone(), n))
            .collect();
        // No send starts when it could outlive the lease.
        let last_start = self.lease.saturating_sub(self.send_timeout * 2);
        let mut results = futures::stream::iter(mine.into_iter().map(|d| {
            let n = notices.get(&d.notice_id);
            async move {
                if started.elapsed() > last_start {
                    return (d, None);
                }
                let outcome = match n.map(|n| mailer::message(&self.from, n, &d)) {
                    Some(Ok(msg)) => self.mailer.send(msg).await,
                    Some(Err(e)) => Outcome::Failed(e),
                    None => Outcome::Failed("notice not found".into()),
                };
                (d, Some(outcome))
            }
        }))
        .buffer_unordered(self.concurrency);
        let mut sent = Vec::with_capacity(RECORD_EVERY);
        while let Some((d, outcome)) = results.next().await {
            match outcome {
                Some(Outcome::Sent) => {
                    sent.push(d.id);
                    if sent.len() >= RECORD_EVERY {
                        self.record_sent(std::mem::take(&mut sent)).await?;
                    }
                }
                Some(Outcome::Retry(e)) => {
                    let attempts = d.attempts as u32 + 1;
                    let wait = backoff(
                        attempts,
                        self.retry_max_ms,
                        rand::rng().random_range(0.5..=1.0),
                    );
                    metrics::counter!("ecl_mail_deferred_total").increment(1);
                    tracing::debug!(delivery = %d.id, attempts, ?wait, "mail deferred: {e}");
                    self.record(
                        &d.id,
                        QUEUED,
                        attempts,
                        Some(e),
                        now_us() + wait.as_micros() as i64,
                    )
                    .await?;
                }
                Some(Outcome::Failed(e)) => {
                    metrics::counter!("ecl_mail_failed_total").increment(1);
                    tracing::warn!(delivery = %d.id, "mail refused: {e}");
                    self.record(&d.id, FAILED, d.attempts as u32 + 1, Some(e), 0)
                        .await?;
                }
                // Not attempted (the lease ran short): hand the row back as it was.
                None => {
                    self.record(
                        &d.id,
                        QUEUED,
                        d.attempts as u32,
                        d.last_error.clone(),
                        d.next_attempt_at,
                    )
                    .await?;
                }
            }
        }
        self.record_sent(sent).await?;
        Ok(claimed)
    }

    async fn record_sent(&self, ids: Vec<String>) -> Result<(), sea_orm::DbErr> {
        if ids.is_empty() {
            return Ok(());
        }
        let n = ids.len() as u64;
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(SENT))
            .col_expr(delivery::Column::SentAt, Expr::value(now_us()))
            .col_expr(
                delivery::Column::Attempts,
                sea_orm::sea_query::ExprTrait::add(Expr::col(delivery::Column::Attempts), 1),
            )
            .col_expr(delivery::Column::LeaseUntil, Expr::value(0i64))
            .filter(delivery::Column::Id.is_in(ids))
            .filter(delivery::Column::LeaseOwner.eq(self.owner.clone()))
            .exec(&self.db)
            .await?;
        metrics::counter!("ecl_mail_sent_total").increment(n);
        Ok(())
    }

    async fn record(
        &self,
        id: &str,
        status: &str,
        attempts: u32,
        error: Option<String>,
        next_attempt_at: i64,
    ) -> Result<(), sea_orm::DbErr> {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(status))
            .col_expr(delivery::Column::Attempts, Expr::value(attempts as i32))
            .col_expr(delivery::Column::LastError, Expr::value(error))
            .col_expr(
                delivery::Column::NextAttemptAt,
                Expr::value(next_attempt_at),
            )
            .col_expr(delivery::Column::LeaseUntil, Expr::value(0i64))
            .filter(delivery::Column::Id.eq(id))
            .filter(delivery::Column::LeaseOwner.eq(self.owner.clone()))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        assert_eq!(backoff(1, 60_000, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(2, 60_000, 1.0), Duration::from_millis(1_000));
        assert_eq!(backoff(5, 60_000, 1.0), Duration::from_millis(8_000));
        assert_eq!(backoff(40, 60_000, 1.0), Duration::from_millis(60_000));
        assert_eq!(backoff(40, 60_000, 0.5), Duration::from_millis(30_000));
        // jitter is kept within [0.5, 1]
        assert_eq!(backoff(1, 60_000, 0.0), Duration::from_millis(250));
    }
}
