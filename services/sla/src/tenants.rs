//! The read model of tenants and their regions, from the tenant service's `TenantChanged`
//! events (in the inbox's transaction: a redelivered event changes nothing).

use crate::entity::tenant;
use ecl_kernel::AppResult;
use ecl_proto::tenant::TenantChanged;
use sea_orm::{ConnectionTrait, EntityTrait, Set, sea_query::OnConflict};

pub(crate) async fn on_tenant<C: ConnectionTrait>(db: &C, ev: TenantChanged) -> AppResult<()> {
    let t = ev.tenant;
    let row = tenant::ActiveModel {
        id: Set(t.id),
        contract_id: Set(t.contract_id),
        region: Set(t.region),
        deleted: Set(ev.change == "deleted"),
    };
    tenant::Entity::insert(row)
        .on_conflict(
            OnConflict::column(tenant::Column::Id)
                .update_columns([tenant::Column::Deleted])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
