//! The tenants a failure or maintenance notice concerns, with who may work in each — for the
//! whole notice in two statements, however many tenants (the notification service's recipients).

use crate::{
    Tenants,
    entity::{grant, tenant},
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::tenant::{NoticeTenants, TenantAudience};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use std::collections::HashMap;

impl Tenants {
    pub(crate) async fn notice_tenants(
        &self,
        ctx: &CallCtx,
        req: NoticeTenants,
    ) -> AppResult<Vec<TenantAudience>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden(
                "a notice's audience is resolved by the platform",
            ));
        }
        let mut find = tenant::Entity::find();
        if !req.all {
            find = find.filter(
                Condition::any()
                    .add(tenant::Column::Id.is_in(req.tenant_ids))
                    .add(tenant::Column::ContractId.is_in(req.contract_ids)),
            );
        }
        let tenants = find.all(&self.db).await?;
        let ids: Vec<String> = tenants.iter().map(|t| t.id.clone()).collect();
        let mut users: HashMap<String, Vec<String>> = HashMap::new();
        // Grants in chunks: a statement's bound parameters are limited (SQLite, PostgreSQL).
        for chunk in ids.chunks(5_000) {
            for g in grant::Entity::find()
                .filter(grant::Column::TenantId.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                users.entry(g.tenant_id).or_default().push(g.user_id);
            }
        }
        Ok(tenants
            .into_iter()
            .map(|t| TenantAudience {
                user_ids: users.remove(&t.id).unwrap_or_default(),
                tenant_id: t.id,
                contract_id: t.contract_id,
            })
            .collect())
    }
}
