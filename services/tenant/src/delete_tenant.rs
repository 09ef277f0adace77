//! Deleting a tenant (SPEC §3): by the contract's owner and admins, or by its partner's for a
//! child; deleting a tenant removes its grants, and the deletion is announced (`TenantChanged`,
//! `Deleted`). A tenant of a contract the caller cannot see is `NOT_FOUND`.

use crate::{
    Tenants,
    entity::{grant, tenant},
    view,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::tenant::{TenantChanged, TenantView};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

impl Tenants {
    pub(crate) async fn delete(&self, ctx: &CallCtx, id: &str) -> AppResult<TenantView> {
        let id = ecl_kernel::ids::parse_id("id", "ten", id)?;
        let t = tenant::Entity::find_by_id(id.clone())
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found(format!("tenant {id}")))?;
        let c = self
            .contract(ctx, &t.contract_id)
            .await
            .map_err(|e| e.hidden_as(|| AppError::not_found(format!("tenant {id}"))))?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) delete tenants",
            ));
        }
        let txn = self.db.begin().await?;
        grant::Entity::delete_many()
            .filter(grant::Column::TenantId.eq(id.clone()))
            .exec(&txn)
            .await?;
        tenant::Entity::delete_by_id(id).exec(&txn).await?;
        let v = view(&t);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &TenantChanged {
                    tenant: v.clone(),
                    change: ecl_proto::tenant::TenantChange::Deleted,
                },
            )
            .await?;
        Ok(v)
    }
}
