//! Identity service: users, password sign-in, access tokens, token verification for the gateway.

mod entity;
mod migration;
pub mod password;
mod tokens;

use ecl_bus::{CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult, Principal, Role, SharedClock, validate};
use ecl_proto::contract::ContractChanged;
use ecl_proto::identity::{
    Authenticate, CreateUser, DeleteUser, GetMe, SignIn, SignInReply, UserCreated, UserDeleted,
    UserView,
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::Outbox;
use entity::user;
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

pub struct Identity {
    db: DatabaseConnection,
    keys: Keys,
    clock: SharedClock,
    outbox: Outbox,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    migration::Migrator::up(&db, None).await?;
    let keys = Keys::load(db.clone(), ctx.clock.now().timestamp()).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let svc = Arc::new(Identity {
        db: db.clone(),
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
}

fn view(u: &user::Model) -> UserView {
    UserView {
        id: u.id.clone(),
        contract_id: u.contract_id.clone(),
        login_id: u.login_id.clone(),
        email: u.email.clone(),
        role: Role::parse(&u.role).unwrap_or(Role::User),
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
        let ok = password::verify(req.password, hash).await?;
        let user = match (found, ok) {
            (Some(u), true) => u,
            _ => return Err(AppError::unauthenticated()),
        };
        let now = self.clock.now().timestamp();
        let claims = Claims {
            sub: user.id.clone(),
            cid: user.contract_id.clone(),
            role: Role::parse(&user.role).unwrap_or(Role::User),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        Ok(SignInReply {
            access_token: self.keys.sign(&claims)?,
            expires_in: ACCESS_TTL_SECS as u64,
        })
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
        Ok(Principal::User {
            user_id: user.id,
            contract_id: user.contract_id,
            role: Role::parse(&user.role).unwrap_or(Role::User),
        })
    }

    pub async fn create_user(&self, ctx: &CallCtx, req: CreateUser) -> AppResult<UserView> {
        // Contract owners are made by the contract service, which has already checked the caller.
        if !matches!(ctx.principal, Principal::System { .. }) {
            return Err(AppError::forbidden(
                "users are created through their contract",
            ));
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
        if !matches!(ctx.principal, Principal::System { .. }) {
            return Err(AppError::forbidden("not allowed"));
        }
        let Some(u) = user::Entity::find_by_id(user_id.to_string())
            .one(&self.db)
            .await?
        else {
            return Ok(());
        };
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

    /// Revokes every user of a contract (idempotent).
    pub async fn revoke_contract(&self, contract_id: &str) -> AppResult<()> {
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
