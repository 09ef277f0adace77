//! An abolished contract loses its tenants (SPEC §2: abolishing is refused while the child still
//! has tenants unless forced, which deletes them; SPEC §3: deleting a tenant removes its grants).
//! Runs in the inbox's transaction of the `ContractChanged` event, so a redelivered event has no
//! effect.

use crate::{
    Tenants,
    entity::{grant, tenant},
    view,
};
use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::tenant::TenantChanged;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

impl Tenants {
    /// Deletes every tenant of an abolished contract, announcing each (idempotent: a redelivered
    /// event finds nothing left).
    pub(crate) async fn purge<C: ConnectionTrait>(
        &self,
        txn: &C,
        ctx: &CallCtx,
        contract_id: &str,
    ) -> AppResult<()> {
        let rows = tenant::Entity::find()
            .filter(tenant::Column::ContractId.eq(contract_id))
            .all(txn)
            .await?;
        grant::Entity::delete_many()
            .filter(grant::Column::ContractId.eq(contract_id))
            .exec(txn)
            .await?;
        for t in &rows {
            tenant::Entity::delete_by_id(t.id.clone()).exec(txn).await?;
            self.outbox
                .add(
                    txn,
                    &ctx.trace_id,
                    &TenantChanged {
                        tenant: view(t),
                        change: ecl_proto::tenant::TenantChange::Deleted,
                    },
                )
                .await?;
        }
        Ok(())
    }
}
