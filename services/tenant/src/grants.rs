//! Access rights (SPEC §3): a user works in a tenant only when granted. The tenant's managers grant
//! and revoke; the user belongs to the tenant's contract or to its partner (parent-contract users
//! may work in child tenants). Deleting a tenant or a user removes their grants.

use crate::{
    Tenants,
    entity::{grant, tenant},
    view,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    Page,
    contract::GetContracts,
    identity::{GetUsers, UserFilter, UserView},
    tenant::{
        GrantView, ListTenantUsers, ListUserTenants, SetTenantAccess, TenantFilter, TenantView,
    },
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::{HashMap, HashSet};

fn grant_view(g: &grant::Model) -> GrantView {
    GrantView {
        tenant_id: g.tenant_id.clone(),
        user_id: g.user_id.clone(),
        created_at: chrono::DateTime::from_timestamp_micros(g.created_at).unwrap_or_default(),
    }
}

impl Tenants {
    pub(crate) async fn set_access(
        &self,
        ctx: &CallCtx,
        req: SetTenantAccess,
    ) -> AppResult<Option<GrantView>> {
        let tid = ecl_kernel::ids::parse_id("tenantId", "ten", &req.tenant_id)?;
        let uid = ecl_kernel::ids::parse_id("userId", "usr", &req.user_id)?;
        let not_found = || AppError::not_found(format!("tenant {tid}"));
        let t = tenant::Entity::find_by_id(tid.clone())
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let c = self
            .contract(ctx, &t.contract_id)
            .await
            .map_err(|e| e.hidden_as(not_found))?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the tenant contract's owner and admins (or its partner's) manage access",
            ));
        }
        let key = (tid.clone(), uid.clone());
        if !req.granted {
            grant::Entity::delete_by_id(key).exec(&self.db).await?;
            return Ok(None);
        }
        let user = self
            .bus
            .call(
                ctx,
                &GetUsers {
                    ids: vec![uid.clone()],
                    filter: Default::default(),
                },
            )
            .await?
            .pop()
            .ok_or_else(|| AppError::not_found(format!("user {uid}")))?;
        let contract_ok = user.contract_id.as_deref() == Some(c.id.as_str())
            || (user.contract_id.is_some() && user.contract_id == c.parent_id);
        if !contract_ok {
            return Err(AppError::invalid(
                "userId",
                "only users of the tenant's contract or of its partner can be granted access",
            ));
        }
        if let Some(g) = grant::Entity::find_by_id(key.clone()).one(&self.db).await? {
            return Ok(Some(grant_view(&g))); // idempotent
        }
        let inserted = grant::ActiveModel {
            tenant_id: Set(tid),
            user_id: Set(uid),
            contract_id: Set(t.contract_id),
            created_at: Set(self.clock.now().timestamp_micros()),
        }
        .insert(&self.db)
        .await;
        match inserted {
            Ok(g) => Ok(Some(grant_view(&g))),
            // Granted meanwhile by a concurrent request: idempotent too.
            Err(e)
                if ecl_kernel::unique_violation(&e)
                    .is_some_and(|v| v.is_on("tenant_grants", &["tenant_id", "user_id"])) =>
            {
                let g = grant::Entity::find_by_id(key).one(&self.db).await?;
                Ok(g.as_ref().map(grant_view))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Users with access to each tenant: all of them for the tenant's managers, the caller's own
    /// grant for a granted user, nothing otherwise. Users the caller may not see are left out.
    pub(crate) async fn tenant_users(
        &self,
        ctx: &CallCtx,
        req: ListTenantUsers,
    ) -> AppResult<Vec<(String, Page<UserView>)>> {
        req.page.limit()?;
        let tenants = tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(req.tenant_ids.clone()))
            .all(&self.db)
            .await?;
        let mut contract_ids: Vec<String> = tenants.iter().map(|t| t.contract_id.clone()).collect();
        contract_ids.sort();
        contract_ids.dedup();
        let managed: HashSet<String> = if contract_ids.is_empty() {
            HashSet::new()
        } else {
            self.bus
                .call(ctx, &GetContracts { ids: contract_ids })
                .await?
                .into_iter()
                .filter(|c| c.managed)
                .map(|c| c.id)
                .collect()
        };
        // Managers see every grant of a tenant, a granted user their own: one grouped statement
        // pair per kind for the whole batch.
        let (mut all, mut own) = (Vec::new(), Vec::new());
        for t in tenants.iter().filter(|t| req.tenant_ids.contains(&t.id)) {
            if managed.contains(&t.contract_id) {
                all.push(t.id.clone());
            } else {
                own.push(t.id.clone());
            }
        }
        let narrowed = self.users_named(ctx, &req.filter, &all, &own).await?;
        let mut pages = self.grant_pages(&all, narrowed.clone(), &req.page).await?;
        if let Some(me) = ctx.principal.user_id()
            && !own.is_empty()
        {
            let mine = narrowed.add(grant::Column::UserId.eq(me));
            pages.extend(self.grant_pages(&own, mine, &req.page).await?);
        }
        let pages = ecl_store::paging::in_order(req.tenant_ids, pages);
        // One identity request for every user on every page.
        let mut ids: Vec<String> = pages
            .iter()
            .flat_map(|(_, p)| p.edges.iter().map(|(_, u)| u.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        let users: HashMap<String, UserView> = if ids.is_empty() {
            HashMap::new()
        } else {
            self.bus
                .call(
                    ctx,
                    &GetUsers {
                        ids,
                        filter: Default::default(),
                    },
                )
                .await?
                .into_iter()
                .map(|u| (u.id.clone(), u))
                .collect()
        };
        Ok(pages
            .into_iter()
            .map(|(tid, p)| (tid, p.filter_map(|uid| users.get(&uid).cloned())))
            .collect())
    }

    /// Tenants each user may work in — for the user themselves and for those who manage the
    /// user's contract.
    pub(crate) async fn user_tenants(
        &self,
        ctx: &CallCtx,
        req: ListUserTenants,
    ) -> AppResult<Vec<(String, Page<TenantView>)>> {
        req.page.limit()?;
        // The filter names tenants; the pages run over grants, so it narrows them by subquery.
        let filter = if req.filter == TenantFilter::default() {
            Condition::all()
        } else {
            Condition::all().add(grant::Column::TenantId.in_subquery(
                crate::tenant_filter::ids_where(crate::tenant_filter::condition(&req.filter)?),
            ))
        };
        // Identity answers only with the users the caller may see (themselves, or managed).
        let visible: HashSet<String> = self
            .bus
            .call(
                ctx,
                &GetUsers {
                    ids: req.user_ids.clone(),
                    filter: Default::default(),
                },
            )
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let visible: Vec<String> = req
            .user_ids
            .iter()
            .filter(|u| visible.contains(*u))
            .cloned()
            .collect();
        // A user's own grants are theirs to see. Someone else's are shown only in contracts the
        // caller sees itself: an admin limited to a contract group must not learn of a parent
        // user's tenants in the children outside its groups (issue 9).
        let me = ctx.principal.user_id();
        let (own, others): (Vec<String>, Vec<String>) =
            visible.into_iter().partition(|u| Some(u.as_str()) == me);
        let mut grants = self
            .tenant_pages_of(&own, filter.clone(), &req.page)
            .await?;
        if !others.is_empty() {
            let mut contracts: Vec<String> = grant::Entity::find()
                .select_only()
                .column(grant::Column::ContractId)
                .distinct()
                .filter(grant::Column::UserId.is_in(others.clone()))
                .into_tuple::<String>()
                .all(&self.db)
                .await?;
            contracts.sort();
            let seen: Vec<String> = if contracts.is_empty() {
                Vec::new()
            } else {
                self.bus
                    .call(ctx, &GetContracts { ids: contracts })
                    .await?
                    .into_iter()
                    .map(|c| c.id)
                    .collect()
            };
            let within = filter.add(grant::Column::ContractId.is_in(seen));
            grants.extend(self.tenant_pages_of(&others, within, &req.page).await?);
        }
        // One query for the tenants on every page.
        let ids: Vec<String> = grants
            .values()
            .flat_map(|p| p.edges.iter().map(|(_, t)| t.clone()))
            .collect();
        let rows: HashMap<String, tenant::Model> = if ids.is_empty() {
            HashMap::new()
        } else {
            tenant::Entity::find()
                .filter(tenant::Column::Id.is_in(ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|t| (t.id.clone(), t))
                .collect()
        };
        let pages = grants
            .into_iter()
            .map(|(uid, p)| (uid, p.filter_map(|tid| rows.get(&tid).map(view))))
            .collect();
        Ok(ecl_store::paging::in_order(req.user_ids, pages))
    }

    /// A page of granted tenant ids per user of `user_ids` within `cond`, in two statements.
    async fn tenant_pages_of(
        &self,
        user_ids: &[String],
        cond: Condition,
        page: &ecl_proto::PageArgs,
    ) -> AppResult<HashMap<String, Page<String>>> {
        ecl_store::paging::page_each::<grant::Entity, _, _>(
            &self.db,
            (grant::Column::UserId, user_ids),
            cond,
            page,
            (grant::Column::CreatedAt, grant::Column::TenantId),
            |g| g.user_id.clone(),
            |g| (g.created_at, g.tenant_id.clone()),
            |g| g.tenant_id.clone(),
        )
        .await
    }

    /// A page of grants (as user ids) per tenant of `tenant_ids` within `cond`, in two statements.
    /// The grants whose users `filter` names (`Tenant.users(filter:)`): the user fields are
    /// identity's, so identity judges which of the tenants' granted users match, with the same
    /// rules as `Contract.users(filter:)` — one request per 1,000 granted users of the batch.
    async fn users_named(
        &self,
        ctx: &CallCtx,
        filter: &UserFilter,
        all: &[String],
        own: &[String],
    ) -> AppResult<Condition> {
        if filter.is_empty() {
            return Ok(Condition::all());
        }
        let tenants: Vec<&String> = all.iter().chain(own).collect();
        let mut granted: Vec<String> = if tenants.is_empty() {
            Vec::new()
        } else {
            grant::Entity::find()
                .select_only()
                .column(grant::Column::UserId)
                .filter(grant::Column::TenantId.is_in(tenants))
                .into_tuple()
                .all(&self.db)
                .await?
        };
        granted.sort();
        granted.dedup();
        // at least one request, so identity checks the filter even for tenants without grants
        let chunks: Vec<&[String]> = if granted.is_empty() {
            vec![&[]]
        } else {
            granted.chunks(1000).collect()
        };
        let mut named: Vec<String> = Vec::new();
        for ids in chunks {
            let req = GetUsers {
                ids: ids.to_vec(),
                filter: filter.clone(),
            };
            named.extend(self.bus.call(ctx, &req).await?.into_iter().map(|u| u.id));
        }
        Ok(Condition::all().add(grant::Column::UserId.is_in(named)))
    }

    async fn grant_pages(
        &self,
        tenant_ids: &[String],
        cond: Condition,
        page: &ecl_proto::PageArgs,
    ) -> AppResult<HashMap<String, Page<String>>> {
        ecl_store::paging::page_each::<grant::Entity, _, _>(
            &self.db,
            (grant::Column::TenantId, tenant_ids),
            cond,
            page,
            (grant::Column::CreatedAt, grant::Column::UserId),
            |g| g.tenant_id.clone(),
            |g| (g.created_at, g.user_id.clone()),
            |g| g.user_id.clone(),
        )
        .await
    }

    /// A deleted user's grants go (idempotent).
    pub(crate) async fn forget_user<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        user_id: &str,
    ) -> AppResult<()> {
        grant::Entity::delete_many()
            .filter(grant::Column::UserId.eq(user_id))
            .exec(db)
            .await?;
        Ok(())
    }
}
