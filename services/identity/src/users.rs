//! User management within contracts: who may manage which contract's users is decided from the
//! contract tree, which the contract service owns — so this service asks it (with the caller's own
//! principal, so it only ever learns what the caller may see).

use crate::{
    ACTIVE, DELETED, Identity, REVOKED, entity::user, password, user_filter, valid_login_id,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, OnUnique, Principal, Role, Validation, validate};
use ecl_proto::identity::{CreateUser, UserCreated, UserDeleted};
use ecl_proto::{
    Page,
    contract::{ContractView, GetContract, GetContracts},
    identity::{ChangePassword, GetUsers, ListUsers, UpdateUser, UserView},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set, TransactionTrait,
};

impl Identity {
    /// Fails unless the caller manages `contract_id` (`NOT_FOUND` when they cannot even see it).
    pub(crate) async fn authorize_manage(
        &self,
        ctx: &CallCtx,
        contract_id: &str,
    ) -> AppResult<ContractView> {
        let c = self
            .bus
            .call(
                ctx,
                &GetContract {
                    id: contract_id.to_string(),
                },
            )
            .await?;
        if c.managed {
            Ok(c)
        } else {
            Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) manage its users",
            ))
        }
    }

    pub async fn update_user(&self, ctx: &CallCtx, req: UpdateUser) -> AppResult<UserView> {
        let id = ecl_kernel::ids::parse_id("id", "usr", &req.id)?;
        let u = user::Entity::find_by_id(id.clone())
            .one(&self.db)
            .await?
            .filter(|u| u.status == ACTIVE)
            .ok_or_else(|| AppError::not_found(format!("user {id}")))?;
        let cid = u
            .contract_id
            .clone()
            .ok_or_else(|| AppError::forbidden("operators are managed by the provider"))?;
        let contract = self
            .authorize_manage(ctx, &cid)
            .await
            .map_err(|e| match e.code {
                ecl_kernel::ErrorCode::NotFound => AppError::not_found(format!("user {id}")),
                _ => e,
            })?;
        let mut am: user::ActiveModel = u.clone().into();
        let mut v = Validation::new();
        let email = req
            .email
            .as_deref()
            .map(|e| v.value(validate::email("email", e)));
        let was_owner = u.role == Role::Owner.as_str();
        v.check(
            "role",
            !req.role
                .is_some_and(|r| r == Role::Owner || r == Role::Operator || was_owner),
            "the owner stays the owner; other users are ADMIN or USER",
        );
        v.finish()?;
        if let Some(email) = email {
            am.email = Set(email);
        }
        if let Some(role) = req.role
            && role.as_str() != u.role
        {
            am.role = Set(role.as_str().into());
            // Tokens carry the role: make the user sign in again.
            am.sessions_valid_after = Set(self.clock.now().timestamp() + 1);
        }
        let mut rights_changed = false;
        if let Some(v) = req.can_view_usage
            && v != u.can_view_usage
        {
            // Usage visibility is the owner's to give (SPEC §1): the contract's owner (or its
            // partner's owner for a child) and the operator — never the user themselves, an
            // admin, or an API key.
            let owner_of = |cid: Option<&str>| {
                ctx.principal.role() == Some(Role::Owner)
                    && matches!(ctx.principal, Principal::User { .. })
                    && cid.is_some()
                    && ctx.principal.contract_id() == cid
            };
            let allowed = ctx.principal.is_operator()
                || owner_of(Some(cid.as_str()))
                || owner_of(contract.parent_id.as_deref());
            if !allowed || ctx.principal.user_id() == Some(u.id.as_str()) {
                return Err(AppError::forbidden(
                    "only the contract's owner (or the operator) changes canViewUsage",
                ));
            }
            am.can_view_usage = Set(v);
            rights_changed = true;
        }
        if ctx.principal.user_id() == Some(u.id.as_str())
            && req
                .role
                .is_some_and(|r| r == Role::Admin && u.role != Role::Admin.as_str())
        {
            return Err(AppError::forbidden("a user cannot widen their own rights"));
        }
        rights_changed |= req.role.is_some_and(|r| r.as_str() != u.role);
        let updated = am.update(&self.db).await?;
        if rights_changed {
            self.forget_principals_of(&self.db, &updated.id).await?;
        }
        Ok(self.user_view(&updated))
    }

    pub async fn list_users(
        &self,
        ctx: &CallCtx,
        req: ListUsers,
    ) -> AppResult<Vec<(String, Page<UserView>)>> {
        // Bad arguments are refused before anything is asked of another service.
        req.page.limit()?;
        let filter = user_filter::condition(&req.filter, self.clock.now().timestamp())?;
        let visible = self
            .bus
            .call(
                ctx,
                &GetContracts {
                    ids: req.contract_ids.clone(),
                },
            )
            .await?;
        // Managers see every user of a contract, general users themselves only: one grouped
        // statement pair per kind for the whole batch.
        let (mut managed, mut seen) = (Vec::new(), Vec::new());
        for c in visible.iter().filter(|c| req.contract_ids.contains(&c.id)) {
            if c.managed {
                managed.push(c.id.clone());
            } else {
                seen.push(c.id.clone());
            }
        }
        let mut pages = self.user_pages(&managed, filter.clone(), &req.page).await?;
        if let Some(me) = ctx.principal.user_id()
            && !seen.is_empty()
        {
            let only_me = filter.add(user::Column::Id.eq(me));
            pages.extend(self.user_pages(&seen, only_me, &req.page).await?);
        }
        Ok(ecl_store::paging::in_order(req.contract_ids, pages))
    }

    /// A page of active users per contract of `contract_ids` within `cond` (the caller's view and
    /// the list's filter), in two statements.
    async fn user_pages(
        &self,
        contract_ids: &[String],
        cond: Condition,
        page: &ecl_proto::PageArgs,
    ) -> AppResult<std::collections::HashMap<String, Page<UserView>>> {
        ecl_store::paging::page_each::<user::Entity, _, _>(
            &self.db,
            (user::Column::ContractId, contract_ids),
            cond.add(user::Column::Status.eq(ACTIVE)),
            page,
            (user::Column::CreatedAt, user::Column::Id),
            |u| u.contract_id.clone().unwrap_or_default(),
            |u| (u.created_at, u.id.clone()),
            |u| self.user_view(u),
        )
        .await
    }

    /// Users by id as far as the caller may see them: those of contracts the caller manages (as
    /// the contract service judges, groups included), and the caller themselves.
    pub async fn get_users(&self, ctx: &CallCtx, req: GetUsers) -> AppResult<Vec<UserView>> {
        if req.ids.len() > 1000 {
            return Err(AppError::invalid("ids", "at most 1000 ids at once"));
        }
        let narrowed = user_filter::condition(&req.filter, self.clock.now().timestamp())?;
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(req.ids))
            .filter(user::Column::Status.eq(ACTIVE))
            .filter(narrowed)
            .all(&self.db)
            .await?;
        let mut contract_ids: Vec<String> =
            rows.iter().filter_map(|u| u.contract_id.clone()).collect();
        contract_ids.sort();
        contract_ids.dedup();
        let managed: std::collections::HashSet<String> = if contract_ids.is_empty() {
            Default::default()
        } else {
            self.bus
                .call(ctx, &GetContracts { ids: contract_ids })
                .await?
                .into_iter()
                .filter(|c| c.managed)
                .map(|c| c.id)
                .collect()
        };
        let me = ctx.principal.user_id();
        Ok(rows
            .iter()
            .filter(|u| {
                me == Some(u.id.as_str())
                    || ctx.principal.is_operator()
                    || u.contract_id.as_ref().is_some_and(|c| managed.contains(c))
            })
            .map(|u| self.user_view(u))
            .collect())
    }

    pub async fn change_password(&self, ctx: &CallCtx, req: ChangePassword) -> AppResult<()> {
        let u = self.current_user(ctx).await?;
        if !password::verify(req.old_password, u.password_hash.clone()).await? {
            return Err(AppError::invalid(
                "oldPassword",
                "the current password is wrong",
            ));
        }
        password::check_policy(&req.new_password, &u.login_id)?;
        let mut am: user::ActiveModel = u.into();
        am.password_hash = Set(password::hash(req.new_password).await?);
        // Every session of the user ends, this one included.
        am.sessions_valid_after = Set(self.clock.now().timestamp() + 1);
        am.update(&self.db).await?;
        Ok(())
    }

    pub(crate) async fn bootstrap_operator(&self, password: Option<String>) -> anyhow::Result<()> {
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
        match row.insert(&self.db).await {
            Ok(_) => {}
            // Another replica won the race: its operator stands.
            Err(e)
                if ecl_kernel::unique_violation(&e)
                    .is_some_and(|v| v.is_on("users", &["login_id"])) =>
            {
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        if generated {
            // Printed once, on the very first start, so the operator can sign in.
            println!(
                "ECL bootstrap: created login id `operator` with password `{password}` (shown once)"
            );
        } else {
            tracing::info!("created the bootstrap operator account");
        }
        Ok(())
    }

    pub(crate) async fn current_user(&self, ctx: &CallCtx) -> AppResult<user::Model> {
        let id = ctx
            .principal
            .user_id()
            .ok_or_else(AppError::unauthenticated)?;
        user::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(AppError::unauthenticated)
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
                .map_err(|e| e.hidden_as(|| AppError::not_found(format!("user {user_id}"))))?;
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
        self.forget_principals_of(&self.db, &u.id).await?;
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
        Ok(self.user_view(&u))
    }

    /// Revokes every user and API key of a contract (idempotent).
    pub async fn revoke_contract<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        contract_id: &str,
    ) -> AppResult<()> {
        self.revoke_contract_keys(db, contract_id).await?;
        let members = user::Entity::find()
            .filter(user::Column::ContractId.eq(contract_id))
            .filter(user::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
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
            .exec(db)
            .await?;
        // Inside the caller's transaction: only the cache is touched from here on (an embedded
        // store has one connection, which the transaction holds).
        for m in members {
            self.forget_principals_of(db, &m.id).await?;
        }
        Ok(())
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
