//! Counting tenants (SPEC §3, a list's `totalCount`): how many tenants each contract has, only
//! for the contracts the caller sees (the others are absent), in one grouped statement for the
//! whole batch.

use crate::{Tenants, entity::tenant};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::{contract::GetContracts, tenant::CountTenants};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

impl Tenants {
    /// How many tenants each contract has — only for contracts the caller sees (the others are
    /// absent), in one grouped statement for the batch.
    pub(crate) async fn count(
        &self,
        ctx: &CallCtx,
        req: CountTenants,
    ) -> AppResult<Vec<(String, u64)>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        let visible: Vec<String> = self
            .bus
            .call(
                ctx,
                &GetContracts {
                    ids: req.contract_ids.clone(),
                },
            )
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let counts: std::collections::HashMap<String, i64> = if visible.is_empty() {
            Default::default()
        } else {
            tenant::Entity::find()
                .select_only()
                .column(tenant::Column::ContractId)
                .column_as(tenant::Column::Id.count(), "n")
                .filter(tenant::Column::ContractId.is_in(visible.clone()))
                .group_by(tenant::Column::ContractId)
                .into_tuple::<(String, i64)>()
                .all(&self.db)
                .await?
                .into_iter()
                .collect()
        };
        Ok(req
            .contract_ids
            .into_iter()
            .filter(|id| visible.contains(id))
            .map(|id| {
                let n: i64 = counts.get(&id).copied().unwrap_or(0);
                (id, n as u64)
            })
            .collect())
    }
}
