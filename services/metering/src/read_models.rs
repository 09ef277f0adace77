//! Metering's read models of tenants and contracts, fed by their services' events: which tenants
//! exist (and were deleted) and which contracts are children (who may use only resellable menus).
//! What an announcement means is `ecl_store::read_models`'; these say which columns of metering's
//! own tables (`known_tenants`, `known_contracts`) keep what.

use crate::{
    Metering,
    entity::{known_contract, known_tenant},
};
use ecl_kernel::AppResult;
use ecl_proto::{
    contract::ContractChanged,
    tenant::{TenantChange, TenantChanged},
};
use ecl_store::read_models::{
    ContractField, ContractReadModel, TenantField, TenantReadModel, keep_contract, keep_tenant,
};
use sea_orm::ConnectionTrait;

impl TenantReadModel for known_tenant::Entity {
    fn id() -> known_tenant::Column {
        known_tenant::Column::Id
    }
    fn fields() -> Vec<(known_tenant::Column, TenantField)> {
        vec![
            (known_tenant::Column::ContractId, TenantField::ContractId),
            (known_tenant::Column::Deleted, TenantField::Deleted),
        ]
    }
    /// A deleted tenant's events are refused from then on.
    fn changed_by(_: TenantChange) -> Vec<known_tenant::Column> {
        vec![known_tenant::Column::Deleted]
    }
    fn contract_id() -> known_tenant::Column {
        known_tenant::Column::ContractId
    }
}

impl ContractReadModel for known_contract::Entity {
    fn id() -> known_contract::Column {
        known_contract::Column::Id
    }
    fn fields() -> Vec<(known_contract::Column, ContractField)> {
        vec![(known_contract::Column::Kind, ContractField::Kind)]
    }
    fn changed_by_later_events() -> Vec<known_contract::Column> {
        vec![known_contract::Column::Kind]
    }
}

impl Metering {
    pub(crate) async fn on_tenant<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: TenantChanged,
    ) -> AppResult<()> {
        keep_tenant::<known_tenant::Entity, _>(db, &ev).await
    }

    pub(crate) async fn on_contract<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: ContractChanged,
    ) -> AppResult<()> {
        keep_contract::<known_contract::Entity, _>(db, &ev).await
    }
}
