//! An abolished contract's users and API keys are revoked (SPEC §2: abolishing revokes users): they
//! can no longer sign in and their tokens die. Runs in the inbox's transaction of the
//! `ContractChanged` event (idempotent: a redelivered event finds nothing left to revoke).

use crate::{ACTIVE, Identity, REVOKED, entity::user};
use ecl_kernel::AppResult;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

impl Identity {
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
