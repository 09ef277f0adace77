//! Listing a contract's users (SPEC §1 and §9: cursor pagination on every list, one grouped
//! statement pair per kind of caller for a whole batch of contracts): managers see every active
//! user of a contract, general users themselves only, narrowed by the list's filter.

use crate::{ACTIVE, Identity, entity::user, user_filter};
use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::{
    Page,
    contract::GetManaged,
    identity::{ListUsers, UserView},
};
use sea_orm::{ColumnTrait, Condition};

impl Identity {
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
                &GetManaged {
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
    /// the list's filter), in two statements, reading only the listed columns.
    async fn user_pages(
        &self,
        contract_ids: &[String],
        cond: Condition,
        page: &ecl_proto::PageArgs,
    ) -> AppResult<std::collections::HashMap<String, Page<UserView>>> {
        let now = self.clock.now().timestamp();
        ecl_store::paging::page_each_as::<user::Entity, user::Listed, _, _>(
            &self.db,
            (user::Column::ContractId, contract_ids),
            cond.add(user::Column::Status.eq(ACTIVE)),
            page,
            (user::Column::CreatedAt, user::Column::Id),
            |u| u.contract_id.clone().unwrap_or_default(),
            |u| (u.created_at, u.id.clone()),
            |u| crate::user_view!(u, now),
        )
        .await
    }
}
