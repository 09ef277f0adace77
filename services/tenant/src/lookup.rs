//! Tenants by id (`tenant(id)`, `node(id)`): visible exactly as when walking to them — every
//! tenant of a contract the caller manages (`Contract.tenants` for managers), and the tenants the
//! caller is granted (`Contract.tenants` for a general user, `User.tenants` for a parent user in
//! a child's tenant). Anything else is absent, so the gateway answers `NOT_FOUND` and an id
//! outside one's tree reveals nothing.

use crate::{
    Tenants,
    entity::{grant, tenant},
    view,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::{
    contract::GetContracts,
    tenant::{GetTenants, TenantView},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashSet;

impl Tenants {
    pub(crate) async fn get_tenants(
        &self,
        ctx: &CallCtx,
        req: GetTenants,
    ) -> AppResult<Vec<TenantView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        if req.ids.len() > 1000 {
            return Err(AppError::invalid("ids", "at most 1000 ids at once"));
        }
        // Malformed ids cannot name a tenant: absent, like unknown ones.
        let ids: Vec<String> = req
            .ids
            .into_iter()
            .filter(|id| ecl_kernel::ids::parse_id("id", "ten", id).is_ok())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        let mut contract_ids: Vec<String> = rows.iter().map(|t| t.contract_id.clone()).collect();
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
        let granted: HashSet<String> = match ctx.principal.user_id() {
            Some(me) => grant::Entity::find()
                .filter(grant::Column::UserId.eq(me))
                .filter(grant::Column::TenantId.is_in(ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|g| g.tenant_id)
                .collect(),
            None => HashSet::new(),
        };
        Ok(rows
            .iter()
            .filter(|t| managed.contains(&t.contract_id) || granted.contains(&t.id))
            .map(view)
            .collect())
    }
}
