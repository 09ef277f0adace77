//! Users by id (`user(id)`, `node(id)`, a grant's user) as far as the caller may see them (SPEC §1):
//! those of contracts the caller manages (as the contract service judges, groups included), and
//! the caller themselves; anything else is absent.

use crate::{ACTIVE, Identity, entity::user};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    contract::GetContracts,
    identity::{GetUsers, UserView},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

impl Identity {
    /// Users by id as far as the caller may see them: those of contracts the caller manages (as
    /// the contract service judges, groups included), and the caller themselves.
    pub async fn get_users(&self, ctx: &CallCtx, req: GetUsers) -> AppResult<Vec<UserView>> {
        if req.ids.len() > 1000 {
            return Err(AppError::invalid("ids", "at most 1000 ids at once"));
        }
        // `filter` narrows the ids with the rules of `Contract.users(filter:)` (the tenant service
        // asks so for `Tenant.users(filter:)`)
        let narrowed = crate::user_filter::condition(&req.filter, self.clock.now().timestamp())?;
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
}
