//! Reading contracts: one by id, a batch of ids (the gateway's loaders), search within the
//! caller's tree, and a page of children per parent — each paginated and filtered in the query.

use crate::{ABOLISHED, ACTIVE, Contracts, access::Access, entity::contract, views::view};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, ContractId};
use ecl_proto::{
    Page, PageArgs,
    contract::{
        ContractFilter, ContractStatus, ContractView, ListChildren, ManagedContract,
        SearchContracts,
    },
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

/// The contracts of `ids`; malformed ids name none.
pub(crate) fn of_ids(ids: Vec<String>) -> sea_orm::Select<contract::Entity> {
    let ids = ids.into_iter().filter(|id| ContractId::parse(id).is_ok());
    contract::Entity::find().filter(contract::Column::Id.is_in(ids))
}

impl Contracts {
    pub async fn get(&self, ctx: &CallCtx, id: &str) -> AppResult<ContractView> {
        let access = self.access(&ctx.principal).await?;
        Ok(view(&self.visible(&access, id).await?, &access))
    }

    pub async fn get_many(&self, ctx: &CallCtx, ids: Vec<String>) -> AppResult<Vec<ContractView>> {
        let rows = ecl_store::sqlite_reads::all(&self.db, of_ids(ids)).await?;
        let access = self.access(&ctx.principal).await?;
        Ok(rows
            .iter()
            .filter(|c| access.sees(c))
            .map(|c| view(c, &access))
            .collect())
    }

    /// [`ecl_proto::contract::GetManaged`]: the visible ones of `ids` with whether the caller
    /// manages each, from each contract's place in the tree alone.
    pub async fn get_managed(
        &self,
        ctx: &CallCtx,
        ids: Vec<String>,
    ) -> AppResult<Vec<ManagedContract>> {
        let rows = self.places(&ids).await?;
        let access = self.access(&ctx.principal).await?;
        Ok(rows
            .into_iter()
            .filter(|c| access.sees(c))
            .map(|c| ManagedContract {
                managed: access.manages(&c),
                id: c.id,
            })
            .collect())
    }

    pub async fn search(
        &self,
        ctx: &CallCtx,
        req: SearchContracts,
    ) -> AppResult<Page<ContractView>> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let scope = match (who.is_operator(), who.contract_id()) {
            (true, _) => Condition::all(),
            (false, Some(cid)) => access.search_scope(cid),
            (false, None) => return Err(AppError::unauthenticated()),
        };
        self.page(&access, scope, &req.filter, &req.page).await
    }

    pub async fn children(
        &self,
        ctx: &CallCtx,
        req: ListChildren,
    ) -> AppResult<Vec<(String, Page<ContractView>)>> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let parents = self.places(&req.parent_ids).await?;
        let mut out = Vec::with_capacity(req.parent_ids.len());
        for pid in req.parent_ids {
            let scope = parents
                .iter()
                .find(|p| p.id == pid)
                .filter(|p| access.sees(p))
                .and_then(|p| access.children_scope(p));
            let page = match scope {
                Some(scope) => self.page(&access, scope, &req.filter, &req.page).await?,
                None => Page::empty(),
            };
            out.push((pid, page));
        }
        Ok(out)
    }

    /// One page of contracts within `scope` matching `filter`, ordered by (created_at, id).
    async fn page(
        &self,
        access: &Access<'_>,
        scope: Condition,
        filter: &ContractFilter,
        args: &PageArgs,
    ) -> AppResult<Page<ContractView>> {
        let mut cond = Condition::all().add(scope);
        if let Some(name) = filter
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            cond = cond.add(contract::Column::NameLower.contains(name.to_lowercase()));
        }
        if let Some(ext) = filter
            .external_id
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            cond = cond.add(contract::Column::ExternalId.eq(ext));
        }
        if let Some(st) = filter.status {
            cond = cond.add(
                contract::Column::Status.eq(if st == ContractStatus::Active {
                    ACTIVE
                } else {
                    ABOLISHED
                }),
            );
        }
        if let Some(k) = filter.kind {
            cond = cond.add(contract::Column::Kind.eq(k));
        }
        if let Some(from) = filter.created_from {
            cond = cond.add(contract::Column::CreatedAt.gte(from.timestamp_micros()));
        }
        if let Some(to) = filter.created_to {
            cond = cond.add(contract::Column::CreatedAt.lt(to.timestamp_micros()));
        }
        ecl_store::paging::page::<contract::Entity, _, _>(
            &self.db,
            cond,
            args,
            (contract::Column::CreatedAt, contract::Column::Id),
            |c| (c.created_at, c.id.clone()),
            |c| view(c, access),
        )
        .await
    }
}
