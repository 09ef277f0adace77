//! Which contracts a caller sees: their access (narrowed by contract groups) and the lookup that
//! answers `NOT_FOUND` for contracts outside the caller's tree.

use crate::{Contracts, access::Access, entity::contract};
use ecl_kernel::{AppError, AppResult, ContractId, Principal, Role};
use sea_orm::EntityTrait;

impl Contracts {
    /// The caller's access, with the contract groups that narrow a parent admin's or user's view.
    pub(crate) async fn access<'a>(&self, who: &'a Principal) -> AppResult<Access<'a>> {
        // A parent admin's or user's groups narrow them, and an API key its creator's groups:
        // a key never sees more children than the admin who made it.
        let only = match who {
            Principal::User {
                user_id,
                role: Role::Admin | Role::User,
                contract_id: Some(_),
                ..
            } => self.group_children_of(user_id).await?,
            Principal::ApiKey { creator, .. } if creator.role == Role::Admin => {
                self.group_children_of(&creator.user_id).await?
            }
            _ => None,
        };
        Ok(Access::new(who, only))
    }

    pub(crate) async fn find(&self, id: &str) -> AppResult<Option<contract::Model>> {
        ContractId::parse(id)?;
        Ok(contract::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?)
    }

    /// The contract if the caller may see it; `NOT_FOUND` otherwise, so ids outside one's tree
    /// reveal nothing about whether they exist.
    pub(crate) async fn visible(
        &self,
        access: &Access<'_>,
        id: &str,
    ) -> AppResult<contract::Model> {
        match self.find(id).await? {
            Some(c) if access.sees(&c) => Ok(c),
            _ => Err(AppError::not_found(format!("contract {id}"))),
        }
    }
}
