//! Account lockout (SPEC §4): `threshold` failed attempts within `window` seconds lock the account
//! for `period` seconds, and the error never tells which factor was wrong.
//!
//! Every attempt — a password, a TOTP code, a recovery code — first *claims* a slot with one atomic
//! statement and only then does the expensive check. So 32 parallel guesses are 32 claims, of
//! which only the first `threshold` are even checked: the count cannot be lost between a read and
//! a write, on one replica or many (the database is shared). A factor that succeeds gives its slot
//! back; only a whole sign-in that succeeds clears the count, so a known password never buys fresh
//! second-factor guesses (issue 9).

use crate::{Identity, entity::user};
use ecl_kernel::{AppError, AppResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};

/// Lockout policy: after `threshold` failures within `window` seconds the account is locked for
/// `period` seconds.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    pub threshold: u32,
    pub window: i64,
    pub period: i64,
}

/// A claimed attempt: its number in the current window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    pub number: i32,
}

impl Identity {
    /// Claims one attempt for `user_id` at `now`. `None` when the account is locked — or became
    /// locked because this claim went past the threshold: the caller refuses without checking.
    pub(crate) async fn claim_attempt(
        &self,
        user_id: &str,
        now: i64,
    ) -> AppResult<Option<Attempt>> {
        let fresh = Expr::val(now)
            .sub(Expr::col(user::Column::FailuresSince))
            .gte(self.lockout.window);
        // Both CASEs read the row as it was before this UPDATE (standard SQL, SQLite and
        // PostgreSQL alike), so the window test is the same for both columns.
        let stmt = Query::update()
            .table(user::Entity)
            .value(
                user::Column::FailedAttempts,
                Expr::case(fresh.clone(), 1)
                    .finally(Expr::col(user::Column::FailedAttempts).add(1)),
            )
            .value(
                user::Column::FailuresSince,
                Expr::case(fresh, now).finally(Expr::col(user::Column::FailuresSince)),
            )
            .and_where(Expr::col(user::Column::Id).eq(user_id))
            .and_where(Expr::col(user::Column::LockedUntil).lte(now))
            .returning_col(user::Column::FailedAttempts)
            .to_owned();
        let Some(row) = self.db.query_one(&stmt).await? else {
            return Ok(None); // locked (or gone)
        };
        let number: i32 = row.try_get("", "failed_attempts")?;
        if number as u32 > self.lockout.threshold {
            self.lock(user_id, now).await?;
            return Ok(None);
        }
        Ok(Some(Attempt { number }))
    }

    /// The claimed attempt failed: the `threshold`-th failure locks the account.
    pub(crate) async fn attempt_failed(
        &self,
        user_id: &str,
        attempt: Attempt,
        now: i64,
    ) -> AppResult<()> {
        if attempt.number as u32 >= self.lockout.threshold {
            self.lock(user_id, now).await?;
        }
        Ok(())
    }

    /// One factor succeeded but the sign-in is not complete (a second factor follows): the slot is
    /// given back, earlier failures stay counted.
    pub(crate) async fn attempt_passed(&self, user_id: &str) -> AppResult<()> {
        user::Entity::update_many()
            .col_expr(
                user::Column::FailedAttempts,
                Expr::col(user::Column::FailedAttempts).sub(1),
            )
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::FailedAttempts.gt(0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The whole sign-in succeeded: the count starts again.
    pub(crate) async fn sign_in_succeeded(&self, user_id: &str) -> AppResult<()> {
        user::Entity::update_many()
            .col_expr(user::Column::FailedAttempts, Expr::value(0))
            .col_expr(user::Column::FailuresSince, Expr::value(0))
            .filter(user::Column::Id.eq(user_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn lock(&self, user_id: &str, now: i64) -> AppResult<()> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::FailedAttempts, Expr::value(0))
            .col_expr(user::Column::FailuresSince, Expr::value(0))
            .col_expr(
                user::Column::LockedUntil,
                Expr::value(now + self.lockout.period),
            )
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::LockedUntil.lte(now))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 1 {
            tracing::warn!(
                user_id,
                "account locked after {} failed attempts",
                self.lockout.threshold
            );
        }
        Ok(())
    }
}

/// What every refused attempt answers, whichever factor or lock it was.
pub(crate) fn refused() -> AppError {
    AppError::unauthenticated()
}
