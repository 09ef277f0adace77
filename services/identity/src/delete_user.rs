//! Deleting a user (SPEC §1): by the contract's managers (a user of a contract the caller cannot
//! see is `NOT_FOUND`); the contract's owner cannot be deleted. The row stays, marked deleted so old
//! tokens are recognisably dead, with its login id freed for reuse; the deletion is announced
//! (`UserDeleted`: the tenant service drops the user's grants) and the user's cached principals go.

use crate::{ACTIVE, DELETED, Identity, entity::user};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal, Role};
use ecl_proto::identity::UserDeleted;
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};

impl Identity {
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
}
