//! User management within contracts: who may manage which contract's users is decided from the
//! contract tree, which the contract service owns — so this service asks it (with the caller's own
//! principal, so it only ever learns what the caller may see).

use crate::{ACTIVE, Identity, entity::user, password, view};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Role, validate};
use ecl_proto::{
    Page,
    contract::{ContractView, GetContract, GetContracts},
    identity::{ChangePassword, GetUsers, ListUsers, UpdateUser, UserView},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set};

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
        self.authorize_manage(ctx, &cid)
            .await
            .map_err(|e| match e.code {
                ecl_kernel::ErrorCode::Forbidden => e,
                _ => AppError::not_found(format!("user {id}")),
            })?;
        let mut am: user::ActiveModel = u.clone().into();
        if let Some(email) = &req.email {
            am.email = Set(validate::email("email", email)?);
        }
        if let Some(role) = req.role {
            let was_owner = u.role == Role::Owner.as_str();
            if role == Role::Owner || role == Role::Operator || was_owner {
                return Err(AppError::invalid(
                    "role",
                    "the owner stays the owner; other users are ADMIN or USER",
                ));
            }
            if role.as_str() != u.role {
                am.role = Set(role.as_str().into());
                // Tokens carry the role: make the user sign in again.
                am.sessions_valid_after = Set(self.clock.now().timestamp() + 1);
            }
        }
        if let Some(v) = req.can_view_usage {
            am.can_view_usage = Set(v);
        }
        Ok(view(&am.update(&self.db).await?))
    }

    pub async fn list_users(
        &self,
        ctx: &CallCtx,
        req: ListUsers,
    ) -> AppResult<Vec<(String, Page<UserView>)>> {
        req.page.limit()?;
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
        let mut pages = self
            .user_pages(&managed, Condition::all(), &req.page)
            .await?;
        if let Some(me) = ctx.principal.user_id()
            && !seen.is_empty()
        {
            let only_me = Condition::all().add(user::Column::Id.eq(me));
            pages.extend(self.user_pages(&seen, only_me, &req.page).await?);
        }
        Ok(ecl_store::paging::in_order(req.contract_ids, pages))
    }

    /// A page of active users per contract of `contract_ids` within `cond`, in two statements.
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
            view,
        )
        .await
    }

    /// Users by id as far as the caller may see them: those of contracts the caller manages (as
    /// the contract service judges, groups included), and the caller themselves.
    pub async fn get_users(&self, ctx: &CallCtx, req: GetUsers) -> AppResult<Vec<UserView>> {
        if req.ids.len() > 1000 {
            return Err(AppError::invalid("ids", "at most 1000 ids at once"));
        }
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(req.ids))
            .filter(user::Column::Status.eq(ACTIVE))
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
            .map(view)
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
}
