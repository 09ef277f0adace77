//! Partner API keys (issue 3): a key acts for one contract, like one of its admins, narrowed to its
//! scopes. Only the SHA-256 of the secret is stored; the secret is shown once, on creation.
//! Scopes are enforced by every service's bus router (`KeyUse` on each operation); rate limits by
//! the gateway, where requests enter.

use crate::{
    ACTIVE, Identity,
    entity::{api_key, user},
};
use base64::Engine;
use ecl_bus::CallCtx;
use ecl_kernel::{
    AppError, AppResult, Area, KeyCreator, Principal, Role, Scope, Validation, validate,
};
use ecl_proto::{
    Page,
    contract::{ContractStatus, GetContract},
    identity::{ApiKeyCreated, ApiKeyView, CreateApiKey, ListApiKeys},
};
use rand::Rng;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set};

/// Every key starts with this, so secret scanners and people recognise it.
const SECRET_PREFIX: &str = "ecl_";
/// Characters of the secret kept in clear for listing (`ecl_` + 8).
const SHOWN_PREFIX: usize = 12;
/// `last_used_at` is written at most this often per key (microseconds): a key used a thousand
/// times a second must not cost a thousand writes.
const LAST_USED_RESOLUTION_US: i64 = 60_000_000;

fn ts(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn view(k: &api_key::Model) -> ApiKeyView {
    ApiKeyView {
        id: k.id.clone(),
        contract_id: k.contract_id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        scopes: parse_scopes(&k.scopes),
        created_at: ts(k.created_at),
        expires_at: k.expires_at.map(ts),
        last_used_at: k.last_used_at.map(ts),
        revoked_at: k.revoked_at.map(ts),
    }
}

fn parse_scopes(s: &str) -> Vec<Scope> {
    s.split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// `ecl_` + 32 random bytes, base64url (256 bits of entropy).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Key management is for the operator and the contract's own owner and admins (signed-in users,
/// never another key).
fn manages_keys_of(who: &Principal, contract_id: &str) -> bool {
    who.is_operator()
        || (matches!(who, Principal::User { .. })
            && who.is_manager()
            && who.contract_id() == Some(contract_id))
}

impl Identity {
    pub async fn create_api_key(
        &self,
        ctx: &CallCtx,
        req: CreateApiKey,
    ) -> AppResult<ApiKeyCreated> {
        let who = &ctx.principal;
        let creator = who.user_id().ok_or_else(AppError::unauthenticated)?;
        let mut v = Validation::new();
        let contract_id = v.value(
            req.contract_id
                .or_else(|| who.contract_id().map(str::to_string))
                .ok_or_else(|| {
                    AppError::invalid("contractId", "say which contract the key is for")
                }),
        );
        let name = v.value(validate::text("name", &req.name, 100));
        let mut scopes = req.scopes;
        scopes.sort_by_key(|s| s.to_string());
        scopes.dedup();
        v.check(
            "scopes",
            !scopes.is_empty(),
            "give the key at least one scope",
        );
        let now = self.clock.now();
        v.check(
            "expiresAt",
            req.expires_at.is_none_or(|e| e > now),
            "expiresAt must be in the future",
        );
        v.finish()?;
        // A key never does more than its creator: no billing scope from one who cannot see
        // bills and usage (the scopes are narrowed again at every use, see `authenticate_key`).
        if !who.may_see_usage() && scopes.iter().any(|s| s.area == Area::Billing) {
            return Err(AppError::forbidden(
                "you cannot see bills and usage, so your keys cannot have a billing scope",
            ));
        }
        // Asked with the caller's principal: a contract they cannot see is NOT_FOUND.
        let contract = self
            .bus
            .call(
                ctx,
                &GetContract {
                    id: contract_id.clone(),
                },
            )
            .await?;
        if !manages_keys_of(who, &contract.id) {
            return Err(AppError::forbidden(
                "only the contract's owner and admins create its API keys",
            ));
        }
        if contract.status != ContractStatus::Active {
            return Err(AppError::conflict("the contract is abolished"));
        }
        let secret = new_secret();
        let row = api_key::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("key")),
            contract_id: Set(contract.id),
            name: Set(name),
            prefix: Set(secret[..SHOWN_PREFIX].to_string()),
            secret_hash: Set(ecl_cache::credential_hash(&secret)),
            scopes: Set(scopes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")),
            created_by: Set(creator.to_string()),
            created_at: Set(now.timestamp_micros()),
            expires_at: Set(req.expires_at.map(|e| e.timestamp_micros())),
            last_used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(&self.db)
        .await?;
        Ok(ApiKeyCreated {
            secret,
            api_key: view(&row),
        })
    }

    pub async fn revoke_api_key(&self, ctx: &CallCtx, id: &str) -> AppResult<ApiKeyView> {
        let id = ecl_kernel::ids::parse_id("id", "key", id)?;
        let k = api_key::Entity::find_by_id(id.clone())
            .one(&self.db)
            .await?
            .filter(|k| manages_keys_of(&ctx.principal, &k.contract_id))
            .ok_or_else(|| AppError::not_found(format!("API key {id}")))?;
        if k.revoked_at.is_some() {
            return Ok(view(&k)); // idempotent
        }
        let mut am: api_key::ActiveModel = k.clone().into();
        am.revoked_at = Set(Some(self.clock.now().timestamp_micros()));
        let k = am.update(&self.db).await?;
        // The gateway caches resolved principals briefly; drop this key's at once.
        self.cache
            .del(&ecl_cache::principal_key(&k.secret_hash))
            .await?;
        Ok(view(&k))
    }

    pub async fn list_api_keys(
        &self,
        ctx: &CallCtx,
        req: ListApiKeys,
    ) -> AppResult<Vec<(String, Page<ApiKeyView>)>> {
        let allowed: Vec<String> = req
            .contract_ids
            .iter()
            .filter(|cid| manages_keys_of(&ctx.principal, cid))
            .cloned()
            .collect();
        let pages = ecl_store::paging::page_each::<api_key::Entity, _, _>(
            &self.db,
            (api_key::Column::ContractId, &allowed),
            Condition::all(),
            &req.page,
            (api_key::Column::CreatedAt, api_key::Column::Id),
            |k| k.contract_id.clone(),
            |k| (k.created_at, k.id.clone()),
            view,
        )
        .await?;
        Ok(ecl_store::paging::in_order(req.contract_ids, pages))
    }

    /// The principal of an `X-Api-Key` secret; unknown, revoked and expired keys are all
    /// `UNAUTHENTICATED` alike.
    pub async fn authenticate_key(&self, secret: &str) -> AppResult<Principal> {
        let secret = secret.trim();
        if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
            return Err(AppError::unauthenticated());
        }
        let now = self.clock.now().timestamp_micros();
        let k = api_key::Entity::find()
            .filter(api_key::Column::SecretHash.eq(ecl_cache::credential_hash(secret)))
            .one(&self.db)
            .await?
            .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > now))
            .ok_or_else(AppError::unauthenticated)?;
        let creator = self.creator_of(&k).await?;
        if k.last_used_at
            .is_none_or(|t| now - t >= LAST_USED_RESOLUTION_US)
        {
            api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(api_key::Column::Id.eq(k.id.clone()))
                .exec(&self.db)
                .await?;
        }
        Ok(Principal::ApiKey {
            key_id: k.id.clone(),
            contract_id: k.contract_id.clone(),
            scopes: parse_scopes(&k.scopes),
            creator,
        })
    }

    /// The key's creator as they stand now. A key whose creator was deleted, or no longer manages
    /// the key's contract (demoted to a general user, moved), does nothing: `UNAUTHENTICATED`.
    async fn creator_of(&self, k: &api_key::Model) -> AppResult<KeyCreator> {
        let u = user::Entity::find_by_id(k.created_by.clone())
            .one(&self.db)
            .await?
            .filter(|u| u.status == ACTIVE);
        let role = u.as_ref().and_then(|u| Role::parse(&u.role));
        match (u, role) {
            (Some(u), Some(role @ Role::Operator)) => Ok(KeyCreator {
                user_id: u.id,
                role,
                can_view_usage: true,
            }),
            (Some(u), Some(role @ (Role::Owner | Role::Admin)))
                if u.contract_id.as_deref() == Some(k.contract_id.as_str()) =>
            {
                Ok(KeyCreator {
                    user_id: u.id,
                    role,
                    can_view_usage: role == Role::Owner || u.can_view_usage,
                })
            }
            _ => {
                tracing::info!(key_id = %k.id, "API key refused: its creator no longer holds the rights");
                Err(AppError::unauthenticated())
            }
        }
    }

    /// Drops the gateway's cached principals of the keys `user_id` created (their rights changed).
    pub(crate) async fn forget_key_principals_of<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        user_id: &str,
    ) -> AppResult<()> {
        let keys = api_key::Entity::find()
            .filter(api_key::Column::CreatedBy.eq(user_id))
            .filter(api_key::Column::RevokedAt.is_null())
            .all(db)
            .await?;
        for k in keys {
            self.cache
                .del(&ecl_cache::principal_key(&k.secret_hash))
                .await?;
        }
        Ok(())
    }

    /// An abolished contract's keys stop working (idempotent).
    pub(crate) async fn revoke_contract_keys<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        contract_id: &str,
    ) -> AppResult<()> {
        api_key::Entity::update_many()
            .col_expr(
                api_key::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(self.clock.now().timestamp_micros()),
            )
            .filter(api_key::Column::ContractId.eq(contract_id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        Ok(())
    }
}
