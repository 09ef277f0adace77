//! Service levels: incidents, maintenance windows and part replacements (operator), claims and
//! their decision, payments (billing's, recorded by the operator), and the fields a portal shows
//! a customer — `Contract.availability(month)`, `Contract.claims`, `Contract.credits`,
//! `Tenant.incidents` — each through a DataLoader, so a walk over many children costs one bus
//! request per level. Thin: every rule is the SLA service's (and billing's).
//!
//! `views.rs` holds the objects and enums, `mutations.rs` the operations and their inputs; this
//! file the loaders behind the portal's fields.

mod mutations;
mod views;

pub use mutations::SlaMutation;
pub use views::*;

use super::common::{PagedBatch, PagedLoader, RequestState, load_page};
use super::scalars::Month;
use crate::errors::gql;
use async_graphql::{
    Context,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    sla::{
        AvailabilityView, ClaimView, CreditView, GetAvailability, IncidentView, ListClaims,
        ListCredits, ListTenantIncidents,
    },
};
use std::collections::HashMap;

crate::connection!(IncidentConnection, IncidentEdge, Incident);
crate::connection!(ClaimConnection, ClaimEdge, Claim);
crate::connection!(CreditConnection, CreditEdge, Credit);

impl PagedBatch for ListTenantIncidents {
    type Item = IncidentView;
    fn new(tenant_ids: Vec<String>, page: PageArgs) -> Self {
        Self { tenant_ids, page }
    }
}
impl PagedBatch for ListClaims {
    type Item = ClaimView;
    fn new(contract_ids: Vec<String>, page: PageArgs) -> Self {
        Self { contract_ids, page }
    }
}
impl PagedBatch for ListCredits {
    type Item = CreditView;
    fn new(contract_ids: Vec<String>, page: PageArgs) -> Self {
        Self { contract_ids, page }
    }
}

/// `Contract.availability(month)` of a whole level in one `GetAvailability` per month.
pub struct AvailabilityLoader(RequestState);

impl Loader<(String, String)> for AvailabilityLoader {
    type Value = Vec<AvailabilityView>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Self::Value>, AppError> {
        let mut months: HashMap<&str, Vec<String>> = HashMap::new();
        for (c, m) in keys {
            months.entry(m).or_default().push(c.clone());
        }
        let mut out = HashMap::new();
        for (month, contract_ids) in months {
            let req = GetAvailability {
                contract_ids,
                month: ecl_kernel::Month::parse(month)?,
            };
            for (c, rows) in self.0.bus.call(&self.0.call, &req).await? {
                out.insert((c, month.to_string()), rows);
            }
        }
        Ok(out)
    }
}

/// Adds this domain's loaders to a request (called by the HTTP handler).
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    fn paged<C: PagedBatch>(state: &RequestState) -> DataLoader<PagedLoader<C>> {
        DataLoader::new(PagedLoader::<C>::new(state.clone()), state.gate.spawner())
            .delay(state.gate.delay())
    }
    req.data(paged::<ListTenantIncidents>(state))
        .data(paged::<ListClaims>(state))
        .data(paged::<ListCredits>(state))
        .data(
            DataLoader::new(AvailabilityLoader(state.clone()), state.gate.spawner())
                .delay(state.gate.delay()),
        )
}

/// `Contract.availability(month)`: empty unless the caller may see the contract's bills.
pub async fn availability_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: Month,
) -> async_graphql::Result<Vec<Availability>> {
    RequestState::of(ctx).require_auth()?;
    let rows = ctx
        .data_unchecked::<DataLoader<AvailabilityLoader>>()
        .load_one((contract_id.to_string(), month.into()))
        .await
        .map_err(gql)?;
    rows.unwrap_or_default()
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// `Contract.claims`.
pub async fn claims_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<ClaimConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = load_page::<ListClaims>(ctx, contract_id, page).await?;
    ClaimConnection::try_from_page(page, TryInto::try_into)
}

/// `Contract.credits`.
pub async fn credits_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<CreditConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = load_page::<ListCredits>(ctx, contract_id, page).await?;
    CreditConnection::try_from_page(page, TryInto::try_into)
}

/// `Tenant.incidents`.
pub async fn incidents_of(
    ctx: &Context<'_>,
    tenant_id: &str,
    page: PageArgs,
) -> async_graphql::Result<IncidentConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = load_page::<ListTenantIncidents>(ctx, tenant_id, page).await?;
    Ok(IncidentConnection::from_page(page, Into::into))
}
