//! User management within contracts: who may manage which contract's users is decided from the
//! contract tree, which the contract service owns — so this service asks it (with the caller's own
//! principal, so it only ever learns what the caller may see).
//!
//! The parts every user use case shares: whether the caller manages a contract's users, and the
//! caller's own user (`me`). The use cases each have a file: `create_user`, `update_user`,
//! `delete_user`, `list_users`, `get_users`, `change_password`, `bootstrap_operator`,
//! `revoke_contract`.

use crate::{Identity, entity::user};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    contract::{ContractView, GetContract},
    identity::UserView,
};
use sea_orm::EntityTrait;

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
}
