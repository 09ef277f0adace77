//! Creating a user (SPEC §1, §4): by the contract's owner and admins (or its partner's, within
//! their groups), as `ADMIN` or `USER` — a contract's one owner is made with the contract (by the
//! contract service, acting as the system), and operators are never made in a contract. The login
//! id, e-mail and password policy are checked at once (every bad field reported), the password is
//! hashed with argon2id, and the creation is announced (`UserCreated`).

use crate::{ACTIVE, Identity, entity::user, password, valid_login_id};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, OnUnique, Principal, Role, Validation, validate};
use ecl_proto::identity::{CreateUser, UserCreated, UserView};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};

impl Identity {
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
        let mut v = Validation::new();
        let (login_id, email) = v.value(new_user_fields(&req.login_id, &req.email, &req.password));
        v.check(
            "role",
            req.role != Role::Operator,
            "operators cannot be created in a contract",
        );
        v.value(ecl_kernel::ContractId::parse(&req.contract_id).map(|_| ()));
        v.finish()?;
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
            .on_unique("users", &["login_id"], || {
                AppError::conflict("login id already taken")
            })?;
        let v = self.user_view(&u);
        self.outbox
            .commit_with(txn, &ctx.trace_id, &UserCreated { user: v.clone() })
            .await?;
        Ok(v)
    }
}

/// A new user's login id and e-mail, checked with the password policy, all three at once.
pub(crate) fn new_user_fields(
    login_id: &str,
    email: &str,
    password: &str,
) -> AppResult<(String, String)> {
    let mut v = Validation::new();
    let login = v.value(valid_login_id(login_id));
    let email = v.value(validate::email("email", email));
    v.value(password::check_policy(password, login_id.trim()));
    v.finish()?;
    Ok((login, email))
}
