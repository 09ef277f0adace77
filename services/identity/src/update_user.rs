//! Changing a user (SPEC §1): e-mail and role by the contract's managers — the owner stays the
//! owner, others are `ADMIN` or `USER`, and nobody widens their own rights; usage visibility
//! (`canViewUsage`) is the owner's to give (the contract's owner, its partner's owner for a child,
//! or the operator). A changed role or right ends the user's sessions and cached principals.

use crate::{ACTIVE, Identity, entity::user};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal, Role, Validation, validate};
use ecl_proto::identity::{UpdateUser, UserView};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

impl Identity {
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
}
