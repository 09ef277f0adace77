//! Billing's read models of contracts, tenants and the months a tenant has usage in, fed by
//! contract, tenant and metering events (each in the inbox's transaction). What a contract or
//! tenant announcement means is `ecl_store::read_models`'; these say which columns of billing's
//! own tables keep what.

use std::collections::HashMap;

use ecl_kernel::AppResult;
use ecl_proto::{
    contract::{ContractChanged, ContractView},
    metering::UsageChanged,
    tenant::{TenantChange, TenantChanged},
};
use ecl_store::read_models::{
    self, ContractField, ContractReadModel, TenantField, TenantReadModel, keep_contract,
    keep_tenant,
};
use sea_orm::{ConnectionTrait, EntityTrait, Set, sea_query::OnConflict};

use crate::{
    Billing,
    entity::{contract, tenant, tenant_month},
};

impl ContractReadModel for contract::Entity {
    fn id() -> contract::Column {
        contract::Column::Id
    }
    fn fields() -> Vec<(contract::Column, ContractField)> {
        vec![
            (contract::Column::Kind, ContractField::Kind),
            (contract::Column::ParentId, ContractField::ParentId),
            (contract::Column::ExternalId, ContractField::ExternalId),
        ]
    }
    /// The external id is printed on bills; kind and parent never change.
    fn changed_by_later_events() -> Vec<contract::Column> {
        vec![contract::Column::ExternalId]
    }
}

impl TenantReadModel for tenant::Entity {
    fn id() -> tenant::Column {
        tenant::Column::Id
    }
    fn fields() -> Vec<(tenant::Column, TenantField)> {
        use tenant::Column as C;
        vec![
            (C::ContractId, TenantField::ContractId),
            (C::Name, TenantField::Name),
            (C::Region, TenantField::Region),
            (C::WorkspaceId, TenantField::WorkspaceId),
            (C::CreatedAt, TenantField::CreatedAt),
        ]
    }
    /// Deleted tenants are kept: their months still have bills. An update renames a tenant or
    /// moves it to another workspace: open bills show it as it is now (a fixed bill keeps what it
    /// was closed with).
    fn changed_by(change: TenantChange) -> Vec<tenant::Column> {
        match change {
            TenantChange::Updated => vec![tenant::Column::Name, tenant::Column::WorkspaceId],
            TenantChange::Created | TenantChange::Deleted => Vec::new(),
        }
    }
    fn contract_id() -> tenant::Column {
        tenant::Column::ContractId
    }
}

impl Billing {
    pub(crate) async fn on_contract<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: ContractChanged,
    ) -> AppResult<()> {
        keep_contract::<contract::Entity, _>(db, &ev).await
    }

    pub(crate) async fn on_tenant<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: TenantChanged,
    ) -> AppResult<()> {
        keep_tenant::<tenant::Entity, _>(db, &ev).await
    }

    pub(crate) async fn on_usage<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: UsageChanged,
    ) -> AppResult<()> {
        let rows: Vec<tenant_month::ActiveModel> = ev
            .tenant_months
            .into_iter()
            .map(|(t, m)| tenant_month::ActiveModel {
                id: Set(format!("{t}|{m}")),
                tenant_id: Set(t),
                month: Set(m.to_string()),
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        tenant_month::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(tenant_month::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    /// Tenants billed to a contract: its own, and for a partner its children's (roll-up).
    pub(crate) async fn billed_tenants(&self, contract_id: &str) -> AppResult<Vec<tenant::Model>> {
        let mut of = self.billed_tenants_of(&[contract_id.to_string()]).await?;
        Ok(of.remove(contract_id).unwrap_or_default())
    }

    /// The tenants billed to each of `contract_ids`, in two queries however many contracts: own
    /// tenants first, then each child's, each by creation.
    pub(crate) async fn billed_tenants_of(
        &self,
        contract_ids: &[String],
    ) -> AppResult<HashMap<String, Vec<tenant::Model>>> {
        let mut members: HashMap<String, Vec<String>> = contract_ids
            .iter()
            .map(|id| (id.clone(), vec![id.clone()]))
            .collect();
        for child in read_models::children::<contract::Entity, _>(&self.db, contract_ids).await? {
            if let Some(parent) = child.parent_id.as_ref().and_then(|p| members.get_mut(p)) {
                parent.push(child.id);
            }
        }
        let all: Vec<String> = members.values().flatten().cloned().collect();
        let tenants = read_models::tenants_of::<tenant::Entity, _>(&self.db, &all).await?;
        Ok(members
            .into_iter()
            .map(|(id, ids)| {
                let mut ts: Vec<tenant::Model> = tenants
                    .iter()
                    .filter(|t| ids.contains(&t.contract_id))
                    .cloned()
                    .collect();
                ts.sort_by_key(|t| {
                    (
                        ids.iter().position(|c| *c == t.contract_id),
                        t.created_at,
                        t.id.clone(),
                    )
                });
                (id, ts)
            })
            .collect())
    }

    pub(crate) fn contract_row(view: &ContractView) -> contract::Model {
        contract::Model {
            id: view.id.clone(),
            kind: view.kind,
            parent_id: view.parent_id.clone(),
            external_id: view.external_id.clone(),
        }
    }
}
