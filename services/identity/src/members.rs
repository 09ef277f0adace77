//! Every user of many contracts in one request, unpaged: a notice's recipients are computed from
//! them, and the number of bus requests for one notice must not grow with its recipients.

use crate::{ACTIVE, Identity, entity::user};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::identity::{ContractMembers, UserView};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

impl Identity {
    pub(crate) async fn contract_members(
        &self,
        ctx: &CallCtx,
        req: ContractMembers,
    ) -> AppResult<Vec<UserView>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden(
                "a notice's audience is resolved by the platform",
            ));
        }
        let active = user::Entity::find()
            .filter(user::Column::Status.eq(ACTIVE))
            .filter(user::Column::ContractId.is_not_null());
        if req.all {
            return Ok(active
                .all(&self.db)
                .await?
                .iter()
                .map(|u| self.user_view(u))
                .collect());
        }
        let mut out = Vec::new();
        // In chunks: a statement's bound parameters are limited (SQLite, PostgreSQL).
        for chunk in req.contract_ids.chunks(5_000) {
            out.extend(
                active
                    .clone()
                    .filter(user::Column::ContractId.is_in(chunk.to_vec()))
                    .all(&self.db)
                    .await?
                    .iter()
                    .map(|u| self.user_view(u)),
            );
        }
        Ok(out)
    }
}
