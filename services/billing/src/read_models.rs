//! Billing's read models of contracts, tenants and the months a tenant has usage in, fed by
//! contract, tenant and metering events (each in the inbox's transaction).

use std::collections::HashMap;

use ecl_kernel::AppResult;
use ecl_proto::{
    contract::{ContractChanged, ContractKind, ContractView},
    metering::UsageChanged,
    tenant::TenantChanged,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};

use crate::{
    Billing,
    entity::{contract, tenant, tenant_month},
};

impl Billing {
    pub(crate) async fn on_contract<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: ContractChanged,
    ) -> AppResult<()> {
        let c = ev.contract;
        let kind = match c.kind {
            ContractKind::Child => "CHILD",
            ContractKind::Partner => "PARTNER",
            ContractKind::Direct => "DIRECT",
        };
        let row = contract::ActiveModel {
            id: Set(c.id),
            kind: Set(kind.into()),
            parent_id: Set(c.parent_id),
            external_id: Set(c.external_id),
        };
        contract::Entity::insert(row)
            .on_conflict(
                OnConflict::column(contract::Column::Id)
                    .update_columns([contract::Column::ExternalId])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        Ok(())
    }

    pub(crate) async fn on_tenant<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: TenantChanged,
    ) -> AppResult<()> {
        // Deleted tenants are kept: their months still have bills. An update renames a tenant
        // or moves it to another workspace: open bills show it as it is now (a fixed bill keeps
        // what it was closed with).
        let updated = ev.change == "updated";
        let t = ev.tenant;
        let row = tenant::ActiveModel {
            id: Set(t.id),
            contract_id: Set(t.contract_id),
            name: Set(t.name),
            region: Set(t.region),
            workspace_id: Set(t.workspace_id),
            created_at: Set(t.created_at.timestamp_micros()),
        };
        tenant::Entity::insert(row)
            .on_conflict(if updated {
                OnConflict::column(tenant::Column::Id)
                    .update_columns([tenant::Column::Name, tenant::Column::WorkspaceId])
                    .to_owned()
            } else {
                OnConflict::column(tenant::Column::Id)
                    .do_nothing()
                    .to_owned()
            })
            .exec_without_returning(db)
            .await?;
        Ok(())
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
                month: Set(m),
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
        for child in contract::Entity::find()
            .filter(contract::Column::ParentId.is_in(contract_ids.to_vec()))
            .all(&self.db)
            .await?
        {
            if let Some(parent) = child.parent_id.as_ref().and_then(|p| members.get_mut(p)) {
                parent.push(child.id);
            }
        }
        let all: Vec<String> = members.values().flatten().cloned().collect();
        let tenants = tenant::Entity::find()
            .filter(tenant::Column::ContractId.is_in(all))
            .all(&self.db)
            .await?;
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
            kind: format!("{:?}", view.kind).to_uppercase(),
            parent_id: view.parent_id.clone(),
            external_id: view.external_id.clone(),
        }
    }
}
