//! Metering's read models of tenants and contracts, fed by their services' events: which tenants
//! exist (and were deleted) and which contracts are children (who may use only resellable menus).

use crate::{
    Metering,
    entity::{known_contract, known_tenant},
};
use ecl_kernel::AppResult;
use ecl_proto::{
    contract::{ContractChanged, ContractKind},
    tenant::TenantChanged,
};
use sea_orm::{ConnectionTrait, EntityTrait, Set, sea_query::OnConflict};

impl Metering {
    pub(crate) async fn on_tenant<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: TenantChanged,
    ) -> AppResult<()> {
        let row = known_tenant::ActiveModel {
            id: Set(ev.tenant.id),
            contract_id: Set(ev.tenant.contract_id),
            deleted: Set(ev.change == "deleted"),
        };
        known_tenant::Entity::insert(row)
            .on_conflict(
                OnConflict::column(known_tenant::Column::Id)
                    .update_columns([known_tenant::Column::Deleted])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        Ok(())
    }

    pub(crate) async fn on_contract<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: ContractChanged,
    ) -> AppResult<()> {
        let kind = match ev.contract.kind {
            ContractKind::Child => "CHILD",
            ContractKind::Partner => "PARTNER",
            ContractKind::Direct => "DIRECT",
        };
        let row = known_contract::ActiveModel {
            id: Set(ev.contract.id),
            kind: Set(kind.to_string()),
        };
        known_contract::Entity::insert(row)
            .on_conflict(
                OnConflict::column(known_contract::Column::Id)
                    .update_columns([known_contract::Column::Kind])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        Ok(())
    }
}
