//! Sessions (SPEC §4): short-lived signed access tokens, rotated refresh tokens whose reuse revokes
//! the whole family, signing out, and verifying a bearer token for the gateway.

use crate::{
    ACCESS_TTL_SECS, ACTIVE, Identity, REFRESH_TTL_SECS,
    entity::{refresh_token, user},
    tokens::Claims,
    totp as tfa,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal, Role};
use ecl_proto::identity::{RefreshSession, SignInReply};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// How many of a user's recent credentials are remembered, so a change of their rights can drop
/// the gateway's cached principals at once.
const REMEMBERED_CREDENTIALS: usize = 32;

impl Identity {
    /// Access and refresh tokens for `user`; `family` continues a rotated session.
    pub(crate) async fn issue(
        &self,
        user: &user::Model,
        now: i64,
        family: Option<String>,
    ) -> AppResult<SignInReply> {
        let family = family.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let refresh = format!("ecl_rt_{}", tfa::challenge_id());
        refresh_token::ActiveModel {
            token_hash: Set(tfa::hash_code(&refresh)),
            family_id: Set(family.clone()),
            user_id: Set(user.id.clone()),
            issued_at: Set(now),
            expires_at: Set(now + REFRESH_TTL_SECS),
            used: Set(false),
            revoked: Set(false),
        }
        .insert(&self.db)
        .await?;
        let claims = Claims {
            sub: user.id.clone(),
            cid: user.contract_id.clone(),
            role: Role::parse(&user.role).unwrap_or(Role::User),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            fam: Some(family),
        };
        Ok(SignInReply {
            access_token: Some(self.keys.sign(&claims)?),
            refresh_token: Some(refresh),
            expires_in: ACCESS_TTL_SECS as u64,
            tfa_required: false,
            challenge: None,
        })
    }

    async fn revoke_family(&self, family: &str) -> AppResult<()> {
        refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::Revoked,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(refresh_token::Column::FamilyId.eq(family))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn refresh(&self, req: RefreshSession) -> AppResult<SignInReply> {
        let now = self.clock.now().timestamp();
        let row = refresh_token::Entity::find_by_id(tfa::hash_code(req.refresh_token.trim()))
            .one(&self.db)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        if row.revoked || row.expires_at <= now {
            return Err(AppError::unauthenticated());
        }
        // Claim it: only one presentation of a refresh token can ever win.
        let claimed = refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::Used,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(refresh_token::Column::TokenHash.eq(row.token_hash.clone()))
            .filter(refresh_token::Column::Used.eq(false))
            .exec(&self.db)
            .await?;
        if claimed.rows_affected != 1 {
            tracing::warn!("refresh token reused: revoking its family");
            self.revoke_family(&row.family_id).await?;
            return Err(AppError::unauthenticated());
        }
        let user = user::Entity::find_by_id(row.user_id.clone())
            .one(&self.db)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        if user.status != ACTIVE
            || row.issued_at < user.sessions_valid_after
            || user.locked_until > now
        {
            return Err(AppError::unauthenticated());
        }
        self.issue(&user, now, Some(row.family_id)).await
    }

    pub async fn sign_out(&self, ctx: &CallCtx, access_token: &str) -> AppResult<()> {
        let claims = self
            .keys
            .verify(access_token, self.clock.now().timestamp())
            .await?;
        if ctx.principal.user_id() != Some(claims.sub.as_str()) {
            return Err(AppError::forbidden("only your own session"));
        }
        if let Some(fam) = claims.fam {
            self.revoke_family(&fam).await?;
        }
        Ok(())
    }

    pub async fn authenticate(&self, token: &str) -> AppResult<Principal> {
        let claims = self
            .keys
            .verify(token, self.clock.now().timestamp())
            .await?;
        let user = user::Entity::find_by_id(claims.sub.clone())
            .one(&self.db)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        if user.status != ACTIVE || claims.iat < user.sessions_valid_after {
            return Err(AppError::unauthenticated());
        }
        if let Some(fam) = &claims.fam {
            let revoked = refresh_token::Entity::find()
                .filter(refresh_token::Column::FamilyId.eq(fam.clone()))
                .filter(refresh_token::Column::Revoked.eq(true))
                .one(&self.db)
                .await?;
            if revoked.is_some() {
                return Err(AppError::unauthenticated());
            }
        }
        self.remember_credential(&user.id, token).await;
        Ok(Principal::User {
            user_id: user.id,
            contract_id: user.contract_id,
            role: Role::parse(&user.role).unwrap_or(Role::User),
            can_view_usage: user.can_view_usage,
        })
    }

    /// Notes that the gateway may cache a principal for `credential` of `user_id`.
    pub(crate) async fn remember_credential(&self, user_id: &str, credential: &str) {
        let key = credentials_key(user_id);
        let hash = ecl_cache::credential_hash(credential);
        let mut list: Vec<String> = match self.cache.get(&key).await {
            Ok(Some(v)) => serde_json::from_slice(&v).unwrap_or_default(),
            _ => Vec::new(),
        };
        if list.contains(&hash) {
            return;
        }
        list.push(hash);
        if list.len() > REMEMBERED_CREDENTIALS {
            list.remove(0);
        }
        if let Ok(v) = serde_json::to_vec(&list) {
            let ttl = std::time::Duration::from_secs(ACCESS_TTL_SECS as u64);
            let _ = self.cache.set(&key, &v, ttl).await;
        }
    }

    /// The rights of `user_id` changed (role, usage visibility, deleted, contract revoked): the
    /// gateway's cached principals of their tokens and of the API keys they created are dropped,
    /// so the next request is judged by the new rights, not in up to five seconds.
    pub(crate) async fn forget_principals_of<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        user_id: &str,
    ) -> AppResult<()> {
        let key = credentials_key(user_id);
        if let Some(v) = self.cache.get(&key).await? {
            let list: Vec<String> = serde_json::from_slice(&v).unwrap_or_default();
            for hash in list {
                self.cache.del(&ecl_cache::principal_key(&hash)).await?;
            }
            self.cache.del(&key).await?;
        }
        self.forget_key_principals_of(db, user_id).await
    }
}

fn credentials_key(user_id: &str) -> String {
    format!("user-credentials:{user_id}")
}
