//! Identity service: users, password sign-in, access tokens, token verification for the gateway.
//!
//! One use case per file, each named after the rule it holds:
//! - `sign_in`: password sign-in and the TOTP second step;
//! - `lockout`: counting failed attempts atomically and locking the account;
//! - `sessions`: access/refresh tokens, rotation, sign-out, token verification;
//! - `totp`: TOTP enrolment, codes accepted once (replay refused in the store), recovery codes;
//! - `users`: who manages a contract's users, and the caller's own user; the user lifecycle in
//!   `bootstrap_operator`, `create_user`, `update_user`, `delete_user`, `list_users`, `get_users`,
//!   `change_password` and `revoke_contract` (an abolished contract's users and keys);
//! - `api_keys`: partner API keys, narrowed to their creator's rights;
//! - `password`: argon2id hashing on a bounded, low-priority pool, and the password policy.

mod api_keys;
mod bootstrap_operator;
mod change_password;
mod create_user;
mod delete_user;
mod entity;
mod get_users;
mod list_users;
mod lockout;
mod members;
mod migration;
pub mod password;
mod revoke_contract;
mod sessions;
mod sign_in;
mod tokens;
mod totp;
mod update_user;
mod user_filter;
mod users;

use ecl_bus::{EventRouter, Router};
use ecl_kernel::{AppError, AppResult, SharedClock};
use ecl_proto::identity::{
    Authenticate, AuthenticateKey, ChangePassword, CheckNewUser, ConfirmTotp, CreateApiKey,
    CreateUser, DeleteUser, DisableTotp, EnrollTotp, GetMe, GetUsers, ListApiKeys, ListUsers,
    RefreshSession, RevokeApiKey, SignIn, SignOut, UpdateUser, UserView, VerifyTfa,
};
use ecl_proto::{Event, contract::ContractChanged};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use entity::user;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokens::Keys;

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

pub use lockout::Lockout;

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
    ecl_store::migrate::<migration::Migrator>(&db, NAME).await?;
    let keys = Keys::load(db.clone(), ctx.clock.now().timestamp()).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
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
    // An abolished contract's users are revoked: they can no longer sign in, and their tokens die
    // (in the inbox's transaction: a redelivered event has no effect).
    let events = EventRouter::default().on({
        let inbox = inbox.clone();
        move |s: Arc<Identity>, _ctx, id, ev: ContractChanged| {
            let inbox = inbox.clone();
            async move {
                if ev.change != ecl_proto::contract::ContractChange::Abolished {
                    return Ok(());
                }
                inbox
                    .handle(&id, ContractChanged::TOPIC, |txn| {
                        Box::pin(async move { s.revoke_contract(txn, &ev.contract.id).await })
                    })
                    .await?;
                Ok(())
            }
        }
    });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router(), events, Some(&inbox)).await?;
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
        .route(|_s: Arc<Identity>, _ctx, req: CheckNewUser| async move {
            create_user::new_user_fields(&req.login_id, &req.email, &req.password).map(|_| ())
        })
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

/// A user as the messages show them, from a stored row or a listed one ([`user::Listed`]);
/// `now` (unix seconds) tells whether they are locked out.
macro_rules! user_view {
    ($u:expr, $now:expr) => {{
        let u = $u;
        ecl_proto::identity::UserView {
            id: u.id.clone(),
            contract_id: u.contract_id.clone(),
            login_id: u.login_id.clone(),
            email: u.email.clone(),
            role: ecl_kernel::Role::parse(&u.role).unwrap_or(ecl_kernel::Role::User),
            can_view_usage: u.can_view_usage,
            created_at: chrono::DateTime::from_timestamp_micros(u.created_at).unwrap_or_default(),
            status: if u.locked_until > $now {
                ecl_proto::identity::UserStatus::Locked
            } else {
                ecl_proto::identity::UserStatus::Active
            },
        }
    }};
}
pub(crate) use user_view;

fn view(u: &user::Model, now: i64) -> UserView {
    user_view!(u, now)
}

impl Identity {
    /// [`view`] as of the service clock's now.
    fn user_view(&self, u: &user::Model) -> UserView {
        view(u, self.clock.now().timestamp())
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
