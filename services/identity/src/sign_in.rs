//! Signing in (SPEC §4): login id and password, then — when the user has TOTP on — a code (or a
//! recovery code) against a short-lived challenge. Every attempt of either factor is claimed from
//! the lockout count first (see `lockout`); only the whole sign-in succeeding clears it. The answer
//! never tells which factor, or the lock, refused.

use crate::{ACTIVE, Identity, entity::user, lockout::refused, password, totp as tfa};
use ecl_kernel::AppResult;
use ecl_proto::identity::{SignIn, SignInReply, VerifyTfa};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

impl Identity {
    pub async fn sign_in(&self, req: SignIn) -> AppResult<SignInReply> {
        let found = user::Entity::find()
            .filter(user::Column::LoginId.eq(req.login_id.trim()))
            .filter(user::Column::Status.eq(ACTIVE))
            .one(&self.db)
            .await?;
        let now = self.clock.now().timestamp();
        let attempt = match &found {
            Some(u) => self.claim_attempt(&u.id, now).await?,
            None => None,
        };
        // An unknown login id and a locked account cost the same hashing work as a wrong
        // password, so neither the message nor the timing tells the caller which it was.
        let hash = match (&found, attempt) {
            (Some(u), Some(_)) => u.password_hash.clone(),
            _ => password::dummy_hash().to_string(),
        };
        let verified = password::verify(req.password, hash).await;
        let (Some(user), Some(attempt)) = (found, attempt) else {
            verified?;
            return Err(refused());
        };
        let ok = match verified {
            Ok(ok) => ok,
            Err(e) => {
                // Not checked (e.g. the hashing queue is full): the attempt does not count.
                self.attempt_passed(&user.id).await?;
                return Err(e);
            }
        };
        if !ok {
            self.attempt_failed(&user.id, attempt, now).await?;
            return Err(refused());
        }
        if self.totp_row(&user.id).await?.is_some_and(|t| t.enabled) {
            // The password is right, but the sign-in is not complete: earlier failures stay
            // counted until the second factor succeeds too.
            self.attempt_passed(&user.id).await?;
            let challenge = tfa::challenge_id();
            let exp = now + tfa::CHALLENGE_TTL_SECS;
            let value = format!("{}:{exp}", user.id);
            self.cache
                .set(
                    &challenge_key(&challenge),
                    value.as_bytes(),
                    std::time::Duration::from_secs(tfa::CHALLENGE_TTL_SECS as u64),
                )
                .await?;
            return Ok(SignInReply {
                access_token: None,
                refresh_token: None,
                expires_in: 0,
                tfa_required: true,
                challenge: Some(challenge),
            });
        }
        self.sign_in_succeeded(&user.id).await?;
        self.issue(&user, now, None).await
    }

    /// The second step: a TOTP code (accepted once) or an unused recovery code.
    pub async fn verify_tfa(&self, req: VerifyTfa) -> AppResult<SignInReply> {
        let key = challenge_key(req.challenge.trim());
        let stored = self.cache.get(&key).await?.ok_or_else(refused)?;
        let stored = String::from_utf8(stored).map_err(|_| refused())?;
        let (user_id, exp) = stored.rsplit_once(':').ok_or_else(refused)?;
        let now = self.clock.now().timestamp();
        if exp.parse::<i64>().unwrap_or(0) < now {
            self.cache.del(&key).await?;
            return Err(refused());
        }
        let user = user::Entity::find_by_id(user_id.to_string())
            .one(&self.db)
            .await?
            .filter(|u| u.status == ACTIVE)
            .ok_or_else(refused)?;
        let row = self
            .totp_row(&user.id)
            .await?
            .filter(|t| t.enabled)
            .ok_or_else(refused)?;
        let Some(attempt) = self.claim_attempt(&user.id, now).await? else {
            self.cache.del(&key).await?;
            return Err(refused());
        };
        let accepted = match self.accept_code(&user, &row, &req.code).await {
            Ok(true) => Ok(true),
            Ok(false) => self.use_recovery_code(&row, &req.code).await,
            Err(e) => Err(e),
        };
        let accepted = match accepted {
            Ok(a) => a,
            Err(e) => {
                self.attempt_passed(&user.id).await?;
                return Err(e);
            }
        };
        if !accepted {
            self.attempt_failed(&user.id, attempt, now).await?;
            return Err(refused());
        }
        // One answer per challenge.
        self.cache.del(&key).await?;
        self.sign_in_succeeded(&user.id).await?;
        self.issue(&user, now, None).await
    }
}

fn challenge_key(challenge: &str) -> String {
    format!("tfa-challenge:{challenge}")
}
