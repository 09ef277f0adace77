//! Listing tenants (SPEC §3 and §9: cursor pagination on every list, a bounded number of statements
//! however many contracts a query level asks about): the tenants of the contracts the caller may
//! see, narrowed by the filter — all of a contract's tenants for its owner and admins (and the
//! partner's for a child, within their groups), the granted ones for general users.

use crate::{
    Tenants,
    entity::{grant, tenant},
    tenant_filter, view,
};
use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::{
    Page,
    contract::GetManaged,
    tenant::{ListTenants, TenantView},
};
use sea_orm::{ColumnTrait, Condition, sea_query::Query};

impl Tenants {
    /// Tenants of the contracts the caller may see, narrowed by the filter. Owners and admins (and
    /// the partner's for a child, within their groups) see all of a contract's tenants; general
    /// users the tenants they are granted.
    pub(crate) async fn list(
        &self,
        ctx: &CallCtx,
        req: ListTenants,
    ) -> AppResult<Vec<(String, Page<TenantView>)>> {
        // Bad arguments are refused before anything is asked of another service.
        req.page.limit()?;
        let filter = tenant_filter::condition(&req.filter)?;
        let visible = self
            .bus
            .call(
                ctx,
                &GetManaged {
                    ids: req.contract_ids.clone(),
                },
            )
            .await?;
        let (mut managed, mut granted) = (Vec::new(), Vec::new());
        for c in visible.iter().filter(|c| req.contract_ids.contains(&c.id)) {
            if c.managed {
                managed.push(c.id.clone());
            } else {
                granted.push(c.id.clone());
            }
        }
        // One grouped statement pair per kind of caller for the whole batch, not two statements
        // per contract: managers see every tenant, general users the ones they are granted.
        let mut pages = self
            .tenant_pages(&managed, filter.clone(), &req.page)
            .await?;
        if let Some(me) = ctx.principal.user_id()
            && !granted.is_empty()
        {
            let only_granted = filter.add(
                tenant::Column::Id.in_subquery(
                    Query::select()
                        .column(grant::Column::TenantId)
                        .from(grant::Entity)
                        .and_where(grant::Column::UserId.eq(me))
                        .to_owned(),
                ),
            );
            pages.extend(self.tenant_pages(&granted, only_granted, &req.page).await?);
        }
        Ok(ecl_store::paging::in_order(req.contract_ids, pages))
    }

    /// A page of tenants per contract of `contract_ids` within `cond`, in two statements.
    async fn tenant_pages(
        &self,
        contract_ids: &[String],
        cond: Condition,
        page: &ecl_proto::PageArgs,
    ) -> AppResult<std::collections::HashMap<String, Page<TenantView>>> {
        ecl_store::paging::page_each::<tenant::Entity, _, _>(
            &self.db,
            (tenant::Column::ContractId, contract_ids),
            cond,
            page,
            (tenant::Column::CreatedAt, tenant::Column::Id),
            |t| t.contract_id.clone(),
            |t| (t.created_at, t.id.clone()),
            view,
        )
        .await
    }
}
