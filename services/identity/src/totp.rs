//! Two-factor authentication with TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step), usable
//! with Google Authenticator; one-time recovery codes; the sign-in challenge.
//!
//! Replay (RFC 6238 §5.2): the last accepted time step is kept per user in the identity store, and
//! a code is accepted only for a later step — one conditional UPDATE, so two replicas (or two
//! parallel requests) can never both accept the same code, and no cache eviction or flush can
//! re-open a used one.

use crate::{
    Identity,
    entity::{totp, user},
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::identity::TotpEnrollment;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use sha2::{Digest, Sha256};
use totp_rs::{Secret, Totp};

pub const ISSUER: &str = "ECL";
/// How long a sign-in challenge may be answered.
pub const CHALLENGE_TTL_SECS: i64 = 5 * 60;
pub const RECOVERY_CODES: usize = 10;

pub fn totp_for(secret_b32: &str, account: &str) -> AppResult<Totp> {
    let secret = Secret::try_from_base32(secret_b32).map_err(AppError::internal)?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(AppError::internal)
}

pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

/// The step a code matches at `now` (±1 step), if any.
pub fn matching_step(
    row: &totp::Model,
    account: &str,
    code: &str,
    now: i64,
) -> AppResult<Option<u64>> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(totp_for(&row.secret, account)?.check(code, now.max(0) as u64))
}

pub fn hash_code(code: &str) -> String {
    let normalized: String = code
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| *c != '-')
        .collect();
    Sha256::digest(normalized.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ten fresh recovery codes (`XXXXX-XXXXX`, 50 bits each) and their hashes.
pub fn recovery_codes() -> (Vec<String>, Vec<String>) {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let mut s: String = (0..10)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            s.insert(5, '-');
            s
        })
        .collect();
    let hashes = codes.iter().map(|c| hash_code(c)).collect();
    (codes, hashes)
}

/// A random, URL-safe challenge id.
pub fn challenge_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Identity {
    pub(crate) async fn totp_row(&self, user_id: &str) -> AppResult<Option<totp::Model>> {
        Ok(totp::Entity::find_by_id(user_id.to_string())
            .one(&self.db)
            .await?)
    }

    /// Accepts a TOTP code once: only a step later than the last accepted one, claimed with one
    /// conditional write in the store.
    pub(crate) async fn accept_code(
        &self,
        user: &user::Model,
        row: &totp::Model,
        code: &str,
    ) -> AppResult<bool> {
        let Some(step) = matching_step(row, &user.login_id, code, self.clock.now().timestamp())?
        else {
            return Ok(false);
        };
        let step = i64::try_from(step).map_err(AppError::internal)?;
        let res = totp::Entity::update_many()
            .col_expr(totp::Column::LastStep, Expr::value(step))
            .filter(totp::Column::UserId.eq(row.user_id.clone()))
            .filter(
                Condition::any()
                    .add(totp::Column::LastStep.is_null())
                    .add(totp::Column::LastStep.lt(step)),
            )
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Consumes a recovery code if it is one of the user's unused ones.
    pub(crate) async fn use_recovery_code(&self, row: &totp::Model, code: &str) -> AppResult<bool> {
        let mut hashes: Vec<String> =
            serde_json::from_str(&row.recovery_hashes).unwrap_or_default();
        let h = hash_code(code);
        let Some(i) = hashes.iter().position(|x| *x == h) else {
            return Ok(false);
        };
        hashes.remove(i);
        // Conditional on the list we read: two concurrent uses of one code cannot both succeed.
        let res = totp::Entity::update_many()
            .col_expr(
                totp::Column::RecoveryHashes,
                sea_orm::sea_query::Expr::value(
                    serde_json::to_string(&hashes).map_err(AppError::internal)?,
                ),
            )
            .filter(totp::Column::UserId.eq(row.user_id.clone()))
            .filter(totp::Column::RecoveryHashes.eq(row.recovery_hashes.clone()))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    pub async fn enroll_totp(&self, ctx: &CallCtx) -> AppResult<TotpEnrollment> {
        let user = self.current_user(ctx).await?;
        if self.totp_row(&user.id).await?.is_some_and(|t| t.enabled) {
            return Err(AppError::conflict(
                "two-factor authentication is already on; disable it first",
            ));
        }
        let secret = new_secret();
        let t = totp_for(&secret, &user.login_id)?;
        let row = totp::ActiveModel {
            user_id: Set(user.id.clone()),
            secret: Set(secret.clone()),
            enabled: Set(false),
            recovery_hashes: Set("[]".into()),
            last_step: Set(None),
            created_at: Set(self.clock.now().timestamp_micros()),
        };
        totp::Entity::delete_by_id(user.id.clone())
            .exec(&self.db)
            .await?;
        row.insert(&self.db).await?;
        Ok(TotpEnrollment {
            secret,
            otpauth_uri: t.to_url().map_err(AppError::internal)?,
            qr_code: format!(
                "data:image/png;base64,{}",
                t.to_qr_base64().map_err(AppError::internal)?
            ),
        })
    }

    pub async fn confirm_totp(&self, ctx: &CallCtx, code: &str) -> AppResult<Vec<String>> {
        let user = self.current_user(ctx).await?;
        let row = self
            .totp_row(&user.id)
            .await?
            .ok_or_else(|| AppError::conflict("enrol first (enrollTotp)"))?;
        if row.enabled {
            return Err(AppError::conflict(
                "two-factor authentication is already on",
            ));
        }
        if !self.accept_code(&user, &row, code).await? {
            return Err(AppError::invalid(
                "code",
                "the code does not match; check the authenticator's time",
            ));
        }
        let (codes, hashes) = recovery_codes();
        let mut am: totp::ActiveModel = row.into();
        am.enabled = Set(true);
        am.recovery_hashes = Set(serde_json::to_string(&hashes).map_err(AppError::internal)?);
        am.update(&self.db).await?;
        Ok(codes)
    }

    pub async fn disable_totp(&self, ctx: &CallCtx, code: &str) -> AppResult<()> {
        let user = self.current_user(ctx).await?;
        let row = self
            .totp_row(&user.id)
            .await?
            .filter(|t| t.enabled)
            .ok_or_else(|| AppError::conflict("two-factor authentication is off"))?;
        if !self.accept_code(&user, &row, code).await? {
            return Err(AppError::invalid("code", "the code does not match"));
        }
        totp::Entity::delete_by_id(user.id).exec(&self.db).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s → 94287082 (8 digits); 6 digits → 287082.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let t = totp_for(&secret, "a@example.com").unwrap();
        assert_eq!(t.generate(59).to_string(), "287082");
        let row = totp::Model {
            user_id: "u".into(),
            secret,
            enabled: true,
            recovery_hashes: "[]".into(),
            last_step: None,
            created_at: 0,
        };
        assert_eq!(
            matching_step(&row, "a@example.com", "287082", 59).unwrap(),
            Some(1)
        );
        assert_eq!(
            matching_step(&row, "a@example.com", "287082", 59 + 30).unwrap(),
            Some(1),
            "one step of skew"
        );
        assert_eq!(
            matching_step(&row, "a@example.com", "287082", 59 + 60).unwrap(),
            None,
            "two steps: refused"
        );
        assert_eq!(
            matching_step(&row, "a@example.com", "28708x", 59).unwrap(),
            None
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_normalized() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        assert_eq!(hash_code(&codes[0].to_lowercase()), hashes[0]);
        assert_eq!(hash_code(&codes[0].replace('-', "")), hashes[0]);
    }
}
