//! The read model of tenants and their regions, from the tenant service's `TenantChanged`
//! events (in the inbox's transaction: a redelivered event changes nothing). What an
//! announcement means is `ecl_store::read_models`'; this says which columns of the SLA's own
//! `tenants` table keep what.

use crate::entity::tenant;
use ecl_kernel::AppResult;
use ecl_proto::tenant::{TenantChange, TenantChanged};
use ecl_store::read_models::{TenantField, TenantReadModel, keep_tenant};
use sea_orm::ConnectionTrait;

impl TenantReadModel for tenant::Entity {
    fn id() -> tenant::Column {
        tenant::Column::Id
    }
    fn fields() -> Vec<(tenant::Column, TenantField)> {
        vec![
            (tenant::Column::ContractId, TenantField::ContractId),
            (tenant::Column::Region, TenantField::Region),
            (tenant::Column::Deleted, TenantField::Deleted),
        ]
    }
    /// A deleted tenant is no longer affected by its region's incidents.
    fn changed_by(_: TenantChange) -> Vec<tenant::Column> {
        vec![tenant::Column::Deleted]
    }
    fn contract_id() -> tenant::Column {
        tenant::Column::ContractId
    }
}

pub(crate) async fn on_tenant<C: ConnectionTrait>(db: &C, ev: TenantChanged) -> AppResult<()> {
    keep_tenant::<tenant::Entity, _>(db, &ev).await
}
