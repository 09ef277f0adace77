//! Identity service: users, password sign-in, access tokens, token verification for the gateway.

mod api_keys;
mod entity;
mod members;
mod migration;
pub mod password;
mod tfa;
mod tokens;
mod users;

use ecl_bus::{CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult, Principal, Role, SharedClock, validate};
use ecl_proto::contract::ContractChanged;
use ecl_proto::identity::{
    Authenticate, AuthenticateKey, ChangePassword, ConfirmTotp, CreateApiKey, CreateUser,
    DeleteUser, DisableTotp, EnrollTotp, GetMe, GetUsers, ListApiKeys, ListUsers, RefreshSession,
    RevokeApiKey, SignIn, SignInReply, SignOut, TotpEnrollment, UpdateUser, UserCreated,
    UserDeleted, UserView, VerifyTfa,
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::Outbox;
use entity::{refresh_token, totp, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use tokens::{Claims, Keys};

pub const NAME: &str = "identity";
/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh tokens live 30 days (each use rotates to a fresh one).
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
const ACTIVE: &str = "ACTIVE";
const DELETED: &str = "DELETED";
const REVOKED: &str = "REVOKED";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "users, sign-in, two-factor authentication, tokens, API keys",
        needs: &[Need::Store, Need::Bus, Need::Cache],
        init: |ctx| Box::pin(init(ctx)),
    }
}

/// Lockout policy (SPEC §4): after `threshold` failures within `window` seconds the account is
/// locked for `period` seconds.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    pub threshold: u32,
    pub window: i64,
    pub period: i64,
}

pub struct Identity {
    db: DatabaseConnection,
    bus: ecl_bus::Bus,
    cache: Arc<dyn ecl_cache::Cache>,
    lockout: Lockout,
    keys: Keys,
    clock: SharedClock,
    outbox: Outbox,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    migration::Migrator::up(&db, None).await?;
    let keys = Keys::load(db.clone(), ctx.clock.now().timestamp()).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let lockout = Lockout {
        threshold: ctx.settings.lockout_threshold,
        window: ctx.settings.lockout_window_secs as i64,
        period: ctx.settings.lockout_secs as i64,
    };
    let svc = Arc::new(Identity {
        db: db.clone(),
        bus: ctx.bus.clone(),
        cache: ctx.cache.clone(),
        lockout,
        keys,
        clock: ctx.clock.clone(),
        outbox,
    });
    svc.bootstrap_operator(
        ctx.settings
            .bootstrap_operator_password
            .as_ref()
            .map(|s| s.expose().to_string()),
    )
    .await?;
    // An abolished contract's users are revoked: they can no longer sign in, and their tokens die.
    let events = EventRouter::default().on(
        |s: Arc<Identity>, _ctx, _id, ev: ContractChanged| async move {
            if ev.change == "abolished" {
                s.revoke_contract(&ev.contract.id).await
            } else {
                Ok(())
            }
        },
    );
    ecl_runtime::serve(&ctx.bus, NAME, svc, router(), events).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

fn router() -> Router<Identity> {
    Router::default()
        .route(|s: Arc<Identity>, _ctx, req: RefreshSession| async move { s.refresh(req).await })
        .route(|s: Arc<Identity>, ctx, req: SignOut| async move {
            s.sign_out(&ctx, &req.access_token).await
        })
        .route(|s: Arc<Identity>, _ctx, req: VerifyTfa| async move { s.verify_tfa(req).await })
        .route(|s: Arc<Identity>, ctx, _: EnrollTotp| async move { s.enroll_totp(&ctx).await })
        .route(|s: Arc<Identity>, ctx, req: ConfirmTotp| async move {
            s.confirm_totp(&ctx, &req.code).await
        })
        .route(|s: Arc<Identity>, ctx, req: DisableTotp| async move {
            s.disable_totp(&ctx, &req.code).await
        })
        .route(|s: Arc<Identity>, _ctx, req: SignIn| async move { s.sign_in(req).await })
        .route(|s: Arc<Identity>, _ctx, req: Authenticate| async move {
            s.authenticate(&req.token).await
        })
        .route(
            |s: Arc<Identity>, ctx, req: CreateUser| async move { s.create_user(&ctx, req).await },
        )
        .route(|s: Arc<Identity>, ctx, req: DeleteUser| async move {
            s.delete_user(&ctx, &req.user_id).await
        })
        .route(|s: Arc<Identity>, ctx, _: GetMe| async move { s.me(&ctx).await })
        .route(
            |s: Arc<Identity>, ctx, req: UpdateUser| async move { s.update_user(&ctx, req).await },
        )
        .route(|s: Arc<Identity>, ctx, req: ListUsers| async move { s.list_users(&ctx, req).await })
        .route(|s: Arc<Identity>, ctx, req: ChangePassword| async move {
            s.change_password(&ctx, req).await
        })
        .route(|s: Arc<Identity>, ctx, req: GetUsers| async move { s.get_users(&ctx, req).await })
        .route(|s: Arc<Identity>, ctx, req: CreateApiKey| async move {
            s.create_api_key(&ctx, req).await
        })
        .route(|s: Arc<Identity>, ctx, req: RevokeApiKey| async move {
            s.revoke_api_key(&ctx, &req.id).await
        })
        .route(|s: Arc<Identity>, ctx, req: ListApiKeys| async move {
            s.list_api_keys(&ctx, req).await
        })
        .route(|s: Arc<Identity>, ctx, req: ecl_proto::identity::ContractMembers| async move {
            s.contract_members(&ctx, req).await
        })
        .route(|s: Arc<Identity>, _ctx, req: AuthenticateKey| async move {
            s.authenticate_key(&req.secret).await
        })
}

fn view(u: &user::Model) -> UserView {
    UserView {
        id: u.id.clone(),
        contract_id: u.contract_id.clone(),
        login_id: u.login_id.clone(),
        email: u.email.clone(),
        role: Role::parse(&u.role).unwrap_or(Role::User),
        can_view_usage: u.can_view_usage,
        created_at: chrono::DateTime::from_timestamp_micros(u.created_at).unwrap_or_default(),
    }
}

fn valid_login_id(login_id: &str) -> AppResult<String> {
    let v = login_id.trim();
    let ok = (3..=64).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(AppError::invalid(
            "loginId",
            "login id must be 3–64 characters of letters, digits, . _ @ -",
        ))
    }
}

impl Identity {
    async fn bootstrap_operator(&self, password: Option<String>) -> anyhow::Result<()> {
        if user::Entity::find()
            .filter(user::Column::LoginId.eq("operator"))
            .one(&self.db)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let (password, generated) = match password {
            Some(p) => (p, false),
            None => (format!("Op-{}", uuid::Uuid::new_v4().simple()), true),
        };
        let row = user::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("usr")),
            contract_id: Set(None),
            login_id: Set("operator".into()),
            email: Set("operator@localhost".into()),
            password_hash: Set(password::hash(password.clone()).await?),
            role: Set(Role::Operator.as_str().into()),
            status: Set(ACTIVE.into()),
            sessions_valid_after: Set(0),
            failed_attempts: Set(0),
            failures_since: Set(0),
            locked_until: Set(0),
            can_view_usage: Set(true),
            created_at: Set(self.clock.now().timestamp_micros()),
        };
        // Another replica may have won the race: that is fine.
        if row.insert(&self.db).await.is_ok() {
            if generated {
                // Printed once, on the very first start, so the operator can sign in.
                println!(
                    "ECL bootstrap: created login id `operator` with password `{password}` (shown once)"
                );
            } else {
                tracing::info!("created the bootstrap operator account");
            }
        }
        Ok(())
    }

    pub async fn sign_in(&self, req: SignIn) -> AppResult<SignInReply> {
        let found = user::Entity::find()
            .filter(user::Column::LoginId.eq(req.login_id.trim()))
            .filter(user::Column::Status.eq(ACTIVE))
            .one(&self.db)
            .await?;
        let hash = found
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| password::dummy_hash().to_string());
        let now = self.clock.now().timestamp();
        // A locked account is refused exactly like a wrong password — after the same hashing work,
        // so neither the message nor the timing tells the caller which it was.
        let ok = password::verify(req.password, hash).await?;
        let user = match found {
            Some(u) if u.locked_until > now => return Err(AppError::unauthenticated()),
            Some(u) if ok => u,
            Some(u) => {
                self.record_failure(u, now).await?;
                return Err(AppError::unauthenticated());
            }
            None => return Err(AppError::unauthenticated()),
        };
        if user.failed_attempts != 0 || user.locked_until != 0 {
            let mut am: user::ActiveModel = user.clone().into();
            am.failed_attempts = Set(0);
            am.failures_since = Set(0);
            am.locked_until = Set(0);
            am.update(&self.db).await?;
        }
        if self.totp_row(&user.id).await?.is_some_and(|t| t.enabled) {
            // Second factor required: no tokens yet, a short-lived challenge instead.
            let challenge = tfa::challenge_id();
            let exp = now + tfa::CHALLENGE_TTL_SECS;
            let value = format!("{}:{exp}", user.id);
            self.cache
                .set(
                    &format!("tfa-challenge:{challenge}"),
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
        self.issue(&user, now, None).await
    }

    /// Access and refresh tokens for `user`; `family` continues a rotated session.
    async fn issue(
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

    async fn totp_row(&self, user_id: &str) -> AppResult<Option<totp::Model>> {
        Ok(totp::Entity::find_by_id(user_id.to_string())
            .one(&self.db)
            .await?)
    }

    async fn current_user(&self, ctx: &CallCtx) -> AppResult<user::Model> {
        let id = ctx
            .principal
            .user_id()
            .ok_or_else(AppError::unauthenticated)?;
        user::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(AppError::unauthenticated)
    }

    /// Accepts a TOTP code once: the matched step is claimed in the shared cache, so the same
    /// code is refused the second time on any replica.
    async fn accept_code(
        &self,
        user: &user::Model,
        row: &totp::Model,
        code: &str,
    ) -> AppResult<bool> {
        let Some(step) =
            tfa::matching_step(row, &user.login_id, code, self.clock.now().timestamp())?
        else {
            return Ok(false);
        };
        // Three steps of validity (±1) bound how long a step can be replayed.
        self.cache
            .set_nx(
                &format!("totp-used:{}:{step}", user.id),
                b"1",
                std::time::Duration::from_secs(120),
            )
            .await
    }

    pub async fn verify_tfa(&self, req: VerifyTfa) -> AppResult<SignInReply> {
        let key = format!("tfa-challenge:{}", req.challenge.trim());
        let stored = self
            .cache
            .get(&key)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        let stored = String::from_utf8(stored).map_err(|_| AppError::unauthenticated())?;
        let (user_id, exp) = stored
            .rsplit_once(':')
            .ok_or_else(AppError::unauthenticated)?;
        let now = self.clock.now().timestamp();
        if exp.parse::<i64>().unwrap_or(0) < now {
            self.cache.del(&key).await?;
            return Err(AppError::unauthenticated());
        }
        let user = user::Entity::find_by_id(user_id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        let row = self
            .totp_row(&user.id)
            .await?
            .filter(|t| t.enabled)
            .ok_or_else(AppError::unauthenticated)?;
        if user.status != ACTIVE || user.locked_until > now {
            return Err(AppError::unauthenticated());
        }
        let accepted = if self.accept_code(&user, &row, &req.code).await? {
            true
        } else {
            self.use_recovery_code(&row, &req.code).await?
        };
        if !accepted {
            self.record_failure(user, now).await?;
            return Err(AppError::unauthenticated());
        }
        // One answer per challenge.
        self.cache.del(&key).await?;
        self.issue(&user, now, None).await
    }

    /// Consumes a recovery code if it is one of the user's unused ones.
    async fn use_recovery_code(&self, row: &totp::Model, code: &str) -> AppResult<bool> {
        let mut hashes: Vec<String> =
            serde_json::from_str(&row.recovery_hashes).unwrap_or_default();
        let h = tfa::hash_code(code);
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
        let secret = tfa::new_secret();
        let t = tfa::totp_for(&secret, &user.login_id)?;
        let row = totp::ActiveModel {
            user_id: Set(user.id.clone()),
            secret: Set(secret.clone()),
            enabled: Set(false),
            recovery_hashes: Set("[]".into()),
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
        let (codes, hashes) = tfa::recovery_codes();
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

    /// Counts a failed sign-in; the `threshold`-th failure within the window locks the account.
    /// (Counted in the database every identity replica shares, so failures add up across replicas.)
    async fn record_failure(&self, u: user::Model, now: i64) -> AppResult<()> {
        let fresh_window = now - u.failures_since >= self.lockout.window;
        let failures = if fresh_window {
            1
        } else {
            u.failed_attempts + 1
        };
        let mut am: user::ActiveModel = u.into();
        if fresh_window {
            am.failures_since = Set(now);
        }
        if failures as u32 >= self.lockout.threshold {
            am.failed_attempts = Set(0);
            am.failures_since = Set(0);
            am.locked_until = Set(now + self.lockout.period);
            tracing::warn!("account locked after {failures} failed sign-ins");
        } else {
            am.failed_attempts = Set(failures);
        }
        am.update(&self.db).await?;
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
        Ok(Principal::User {
            user_id: user.id,
            contract_id: user.contract_id,
            role: Role::parse(&user.role).unwrap_or(Role::User),
            can_view_usage: user.can_view_usage,
        })
    }

    pub async fn create_user(&self, ctx: &CallCtx, req: CreateUser) -> AppResult<UserView> {
        // Contract owners are made by the contract service (acting as the system), which has
        // already checked the caller; everyone else needs to manage the contract.
        if !matches!(ctx.principal, Principal::System { .. }) {
            if req.role == Role::Owner {
                return Err(AppError::invalid(
                    "role",
                    "a contract has exactly one owner, created with the contract",
                ));
            }
            self.authorize_manage(ctx, &req.contract_id).await?;
        }
        let login_id = valid_login_id(&req.login_id)?;
        let email = validate::email("email", &req.email)?;
        password::check_policy(&req.password, &login_id)?;
        if req.role == Role::Operator {
            return Err(AppError::invalid(
                "role",
                "operators cannot be created in a contract",
            ));
        }
        ecl_kernel::ContractId::parse(&req.contract_id)?;
        let row = user::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("usr")),
            contract_id: Set(Some(req.contract_id)),
            login_id: Set(login_id),
            email: Set(email),
            password_hash: Set(password::hash(req.password).await?),
            role: Set(req.role.as_str().into()),
            status: Set(ACTIVE.into()),
            sessions_valid_after: Set(0),
            failed_attempts: Set(0),
            failures_since: Set(0),
            locked_until: Set(0),
            can_view_usage: Set(true),
            created_at: Set(self.clock.now().timestamp_micros()),
        };
        let txn = self.db.begin().await?;
        let u = row
            .insert(&txn)
            .await
            .map_err(|e| match AppError::from(e) {
                e if e.code == ecl_kernel::ErrorCode::Conflict => {
                    AppError::conflict("login id already taken")
                }
                e => e,
            })?;
        let v = view(&u);
        self.outbox
            .commit_with(txn, &ctx.trace_id, &UserCreated { user: v.clone() })
            .await?;
        Ok(v)
    }

    pub async fn delete_user(&self, ctx: &CallCtx, user_id: &str) -> AppResult<()> {
        let Some(u) = user::Entity::find_by_id(user_id.to_string())
            .one(&self.db)
            .await?
        else {
            return Err(AppError::not_found(format!("user {user_id}")));
        };
        if !matches!(ctx.principal, Principal::System { .. }) {
            let cid = u
                .contract_id
                .clone()
                .ok_or_else(|| AppError::not_found(format!("user {user_id}")))?;
            self.authorize_manage(ctx, &cid)
                .await
                .map_err(|_| AppError::not_found(format!("user {user_id}")))?;
            if u.role == Role::Owner.as_str() {
                return Err(AppError::conflict("the contract's owner cannot be deleted"));
            }
            if u.status != ACTIVE {
                return Err(AppError::not_found(format!("user {user_id}")));
            }
        }
        let txn = self.db.begin().await?;
        let mut am: user::ActiveModel = u.clone().into();
        am.status = Set(DELETED.into());
        // Free the login id for reuse; the row stays so old tokens are recognisably dead.
        am.login_id = Set(format!("deleted:{}:{}", u.id, u.login_id));
        am.update(&txn).await?;
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &UserDeleted {
                    user_id: u.id.clone(),
                    contract_id: u.contract_id.clone(),
                },
            )
            .await?;
        Ok(())
    }

    pub async fn me(&self, ctx: &CallCtx) -> AppResult<UserView> {
        let id = ctx
            .principal
            .user_id()
            .ok_or_else(AppError::unauthenticated)?;
        let u = user::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        Ok(view(&u))
    }

    /// Revokes every user and API key of a contract (idempotent).
    pub async fn revoke_contract(&self, contract_id: &str) -> AppResult<()> {
        self.revoke_contract_keys(contract_id).await?;
        user::Entity::update_many()
            .col_expr(
                user::Column::Status,
                sea_orm::sea_query::Expr::value(REVOKED),
            )
            .col_expr(
                user::Column::SessionsValidAfter,
                sea_orm::sea_query::Expr::value(self.clock.now().timestamp() + 1),
            )
            .filter(user::Column::ContractId.eq(contract_id))
            .filter(user::Column::Status.eq(ACTIVE))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
