//! The batched reads behind the gateway's DataLoaders: each answers a whole query level in one
//! request — a few statements here and one `GetContracts` for the caller's view, however many
//! contracts or tenants are on screen.

use crate::{
    Sla,
    entity::{affected, claim, credit, incident},
    views,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppResult, Month};
use ecl_proto::{
    Page, PageArgs,
    sla::{AvailabilityView, ClaimView, CreditView, IncidentView},
};
use ecl_store::paging::page_each;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// Keeps the pages of the owners whose contract is in `seen`, in the order asked; others empty.
fn in_order<V>(
    ids: &[String],
    mut pages: HashMap<String, Page<V>>,
    allowed: impl Fn(&str) -> bool,
) -> Vec<(String, Page<V>)> {
    ids.iter()
        .map(|id| {
            let page = match pages.remove(id) {
                Some(p) if allowed(id) => p,
                _ => Page::empty(),
            };
            (id.clone(), page)
        })
        .collect()
}

impl Sla {
    pub(crate) async fn availability_of(
        &self,
        ctx: &CallCtx,
        contract_ids: Vec<String>,
        month: Month,
    ) -> AppResult<Vec<(String, Vec<AvailabilityView>)>> {
        let seen = self.visible_money(ctx, contract_ids.clone()).await?;
        let ids: Vec<String> = contract_ids
            .iter()
            .filter(|c| seen.contains_key(*c))
            .cloned()
            .collect();
        let mut rows = self.availability(ctx, &ids, month).await?;
        Ok(ids
            .into_iter()
            .map(|id| {
                let r = rows.remove(&id).unwrap_or_default();
                (id, r)
            })
            .collect())
    }

    pub(crate) async fn claims_of(
        &self,
        ctx: &CallCtx,
        contract_ids: Vec<String>,
        page: PageArgs,
    ) -> AppResult<Vec<(String, Page<ClaimView>)>> {
        let seen = self.visible_money(ctx, contract_ids.clone()).await?;
        let pages = page_each::<claim::Entity, _, _>(
            &self.db,
            (claim::Column::ContractId, &contract_ids),
            Condition::all(),
            &page,
            (claim::Column::FiledAt, claim::Column::Id),
            |m| m.contract_id.clone(),
            |m| (m.filed_at, m.id.clone()),
            |m| m.clone(),
        )
        .await?;
        let mut out = Vec::new();
        for (id, p) in in_order(&contract_ids, pages, |c| seen.contains_key(c)) {
            let mut edges = Vec::with_capacity(p.edges.len());
            for (cursor, m) in p.edges {
                edges.push((cursor, views::claim(&m)?));
            }
            out.push((
                id,
                Page {
                    edges,
                    has_next_page: p.has_next_page,
                    has_previous_page: p.has_previous_page,
                    total_count: p.total_count,
                },
            ));
        }
        Ok(out)
    }

    pub(crate) async fn credits_of(
        &self,
        ctx: &CallCtx,
        contract_ids: Vec<String>,
        page: PageArgs,
    ) -> AppResult<Vec<(String, Page<CreditView>)>> {
        let seen = self.visible_money(ctx, contract_ids.clone()).await?;
        let pages = page_each::<credit::Entity, _, _>(
            &self.db,
            (credit::Column::ContractId, &contract_ids),
            Condition::all(),
            &page,
            (credit::Column::ApprovedAt, credit::Column::Id),
            |m| m.contract_id.clone(),
            |m| (m.approved_at, m.id.clone()),
            views::credit,
        )
        .await?;
        Ok(in_order(&contract_ids, pages, |c| seen.contains_key(c)))
    }

    /// Incidents of tenants: for those who may see the tenant's contract.
    pub(crate) async fn incidents_of(
        &self,
        ctx: &CallCtx,
        tenant_ids: Vec<String>,
        page: PageArgs,
    ) -> AppResult<Vec<(String, Page<IncidentView>)>> {
        let pages = page_each::<affected::Entity, _, _>(
            &self.db,
            (affected::Column::TenantId, &tenant_ids),
            Condition::all().add(affected::Column::Kind.eq("INCIDENT")),
            &page,
            (affected::Column::CreatedAt, affected::Column::EventId),
            |m| m.tenant_id.clone(),
            |m| (m.created_at, m.event_id.clone()),
            |m| m.clone(),
        )
        .await?;
        let mut contracts: Vec<String> = pages
            .values()
            .flat_map(|p| p.edges.iter().map(|(_, a)| a.contract_id.clone()))
            .collect();
        contracts.sort();
        contracts.dedup();
        let seen = self.visible(ctx, contracts).await?;
        let owner: HashMap<String, String> = pages
            .values()
            .flat_map(|p| p.edges.iter())
            .map(|(_, a)| (a.tenant_id.clone(), a.contract_id.clone()))
            .collect();
        let pages = in_order(&tenant_ids, pages, |t| {
            owner.get(t).is_some_and(|c| seen.contains_key(c))
        });
        let incident_ids: Vec<String> = pages
            .iter()
            .flat_map(|(_, p)| p.edges.iter().map(|(_, a)| a.event_id.clone()))
            .collect();
        let mut incidents: HashMap<String, incident::Model> = HashMap::new();
        let mut tenants: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in incident_ids.chunks(1_000) {
            for m in incident::Entity::find()
                .filter(incident::Column::Id.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                incidents.insert(m.id.clone(), m);
            }
            for a in affected::Entity::find()
                .filter(affected::Column::EventId.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                tenants.entry(a.event_id).or_default().push(a.tenant_id);
            }
        }
        let mut out = Vec::with_capacity(pages.len());
        for (tenant, p) in pages {
            let mut edges = Vec::with_capacity(p.edges.len());
            for (cursor, a) in p.edges {
                if let Some(m) = incidents.get(&a.event_id) {
                    let ts = tenants.get(&a.event_id).cloned().unwrap_or_default();
                    edges.push((cursor, views::incident(m, ts)?));
                }
            }
            out.push((
                tenant,
                Page {
                    edges,
                    has_next_page: p.has_next_page,
                    has_previous_page: p.has_previous_page,
                    total_count: p.total_count,
                },
            ));
        }
        Ok(out)
    }
}
