//! Service levels: incidents, maintenance windows and part replacements (operator), claims and
//! their decision, payments (billing's, recorded by the operator), and the fields a portal shows
//! a customer — `Contract.availability(month)`, `Contract.claims`, `Contract.credits`,
//! `Tenant.incidents` — each through a DataLoader, so a walk over many children costs one bus
//! request per level. Thin: every rule is the SLA service's (and billing's).

use super::common::{PagedBatch, PagedLoader, RequestState, load_page};
use super::scalars::{Decimal, Month};
use crate::errors::gql;
use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, NaiveDate, Utc};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    sla::{
        Affected, AvailabilityView, ClaimInput, ClaimView, CreditView, DecideClaim, FileClaim,
        GetAvailability, IncidentInput, IncidentView, ListClaims, ListCredits, ListTenantIncidents,
        MaintenanceInput, MaintenanceView, PartReplacementInput, PartReplacementView, PaymentInput,
        PaymentView, RecordIncident, RecordPartReplacement, RecordPayment, RestoreIncident,
        ScheduleMaintenance,
    },
};
use std::{collections::HashMap, time::Duration};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::sla::IncidentCause")]
pub enum IncidentCause {
    /// The provider's failure: the only cause that is downtime.
    Failure,
    ForceMajeure,
    CustomerCaused,
    /// The HA switch-over worked: the customer could use the service.
    HaSwitchoverOk,
    /// A third party's failure, e.g. the internet outside the provider.
    ThirdParty,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::sla::MaintenanceKind")]
pub enum MaintenanceKind {
    Announced,
    Urgent,
}

/// The bare-metal parts the SLA covers (RAID controller / NIC / disk failures are not).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::sla::ServerPart")]
pub enum ServerPart {
    ChassisPowerSupply,
    Cpu,
    Memory,
    PowerSupply,
    Fan,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::sla::BreachKind")]
pub enum BreachKind {
    Incident,
    PartReplacement,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::sla::ClaimStatus")]
pub enum ClaimStatus {
    Pending,
    Approved,
    Rejected,
}

#[derive(SimpleObject)]
pub struct Incident {
    pub id: ID,
    pub menu_code: String,
    pub cause: IncidentCause,
    pub title: String,
    pub description: Option<String>,
    /// Set when recorded for every tenant of a region.
    pub region: Option<String>,
    pub tenant_ids: Vec<ID>,
    pub started_at: DateTime<Utc>,
    pub restored_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<IncidentView> for Incident {
    fn from(v: IncidentView) -> Self {
        Incident {
            id: v.id.into(),
            menu_code: v.menu_code,
            cause: v.cause.into(),
            title: v.title,
            description: v.description,
            region: v.region,
            tenant_ids: v.tenant_ids.into_iter().map(Into::into).collect(),
            started_at: v.started_at,
            restored_at: v.restored_at,
            created_at: v.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct Maintenance {
    pub id: ID,
    pub kind: MaintenanceKind,
    pub menu_code: String,
    pub title: String,
    pub description: Option<String>,
    pub region: Option<String>,
    pub tenant_ids: Vec<ID>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<MaintenanceView> for Maintenance {
    fn from(v: MaintenanceView) -> Self {
        Maintenance {
            id: v.id.into(),
            kind: v.kind.into(),
            menu_code: v.menu_code,
            title: v.title,
            description: v.description,
            region: v.region,
            tenant_ids: v.tenant_ids.into_iter().map(Into::into).collect(),
            starts_at: v.starts_at,
            ends_at: v.ends_at,
            created_at: v.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct PartReplacement {
    pub id: ID,
    pub contract_id: ID,
    pub tenant_id: ID,
    pub menu_code: String,
    pub resource_id: String,
    pub part: ServerPart,
    /// T1.
    pub detected_at: DateTime<Utc>,
    /// T2.
    pub proposed_at: DateTime<Utc>,
    /// T3.
    pub agreed_start_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    /// T4 = T2 − T1 in UTC days.
    pub t4_days: i64,
    pub rate_percent: u32,
    pub created_at: DateTime<Utc>,
}

impl From<PartReplacementView> for PartReplacement {
    fn from(v: PartReplacementView) -> Self {
        PartReplacement {
            id: v.id.into(),
            contract_id: v.contract_id.into(),
            tenant_id: v.tenant_id.into(),
            menu_code: v.menu_code,
            resource_id: v.resource_id,
            part: v.part.into(),
            detected_at: v.detected_at,
            proposed_at: v.proposed_at,
            agreed_start_at: v.agreed_start_at,
            started_at: v.started_at,
            t4_days: v.t4_days,
            rate_percent: v.rate_percent,
            created_at: v.created_at,
        }
    }
}

/// One tenant × menu of a month as the platform measured it, with the credit it earns.
#[derive(SimpleObject)]
pub struct Availability {
    pub contract_id: ID,
    pub tenant_id: ID,
    pub menu_code: String,
    pub month: Month,
    /// False for menus without an SLA (they earn nothing).
    pub sla_eligible: bool,
    /// `FAILURE` time of the month, overlaps once, maintenance excluded.
    pub downtime_seconds: i64,
    /// Of 43,200 minutes, 4 decimal places rounded down.
    pub uptime_percent: Decimal,
    pub credit_percent: u32,
    /// The month's charges of the menu for the tenant.
    pub charges: Decimal,
    /// What a claim would earn: charges × rate.
    pub credit: Decimal,
    pub currency: String,
    /// The last day (UTC) to claim it.
    pub claim_deadline: Option<NaiveDate>,
    pub incident_ids: Vec<ID>,
}

impl From<AvailabilityView> for Availability {
    fn from(v: AvailabilityView) -> Self {
        Availability {
            contract_id: v.contract_id.into(),
            tenant_id: v.tenant_id.into(),
            menu_code: v.menu_code,
            month: v.month.into(),
            sla_eligible: v.sla_eligible,
            downtime_seconds: v.downtime_seconds,
            uptime_percent: v.uptime_percent.into(),
            credit_percent: v.credit_percent,
            charges: v.charges.into(),
            credit: v.credit.into(),
            currency: v.currency,
            claim_deadline: v.claim_deadline,
            incident_ids: v.incident_ids.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct Claim {
    pub id: ID,
    pub contract_id: ID,
    pub breach_kind: BreachKind,
    pub breach_id: ID,
    /// The failure's month.
    pub month: Month,
    pub menu_code: String,
    pub note: Option<String>,
    pub status: ClaimStatus,
    /// Computed by the platform on approval.
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The bill the credit lands on.
    pub bill_month: Option<Month>,
}

impl From<ClaimView> for Claim {
    fn from(v: ClaimView) -> Self {
        Claim {
            id: v.id.into(),
            contract_id: v.contract_id.into(),
            breach_kind: v.breach_kind.into(),
            breach_id: v.breach_id.into(),
            month: v.month.into(),
            menu_code: v.menu_code,
            note: v.note,
            status: v.status.into(),
            amount: v.amount.map(Decimal::from),
            currency: v.currency,
            reason: v.reason,
            filed_at: v.filed_at,
            decided_at: v.decided_at,
            bill_month: v.bill_month.map(Month::from),
        }
    }
}

/// An approved claim's credit: a negative adjustment on the bill of `billMonth`.
#[derive(SimpleObject)]
pub struct Credit {
    pub id: ID,
    pub claim_id: ID,
    pub contract_id: ID,
    pub amount: Decimal,
    pub currency: String,
    pub failure_month: Month,
    pub bill_month: Month,
    pub label: String,
    pub approved_at: DateTime<Utc>,
}

impl From<CreditView> for Credit {
    fn from(v: CreditView) -> Self {
        Credit {
            id: v.id.into(),
            claim_id: v.claim_id.into(),
            contract_id: v.contract_id.into(),
            amount: v.amount.into(),
            currency: v.currency,
            failure_month: v.failure_month.into(),
            bill_month: v.bill_month.into(),
            label: v.label,
            approved_at: v.approved_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct Payment {
    pub id: ID,
    pub contract_id: ID,
    pub month: Month,
    pub amount: Decimal,
    pub paid_at: DateTime<Utc>,
    /// What the bill still waits for.
    pub outstanding: Decimal,
    pub due_date: NaiveDate,
}

impl From<PaymentView> for Payment {
    fn from(v: PaymentView) -> Self {
        Payment {
            id: v.id.into(),
            contract_id: v.contract_id.into(),
            month: v.month.into(),
            amount: v.amount.into(),
            paid_at: v.paid_at,
            outstanding: v.outstanding.into(),
            due_date: v.due_date,
        }
    }
}

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
            .delay(Duration::from_millis(1))
    }
    req.data(paged::<ListTenantIncidents>(state))
        .data(paged::<ListClaims>(state))
        .data(paged::<ListCredits>(state))
        .data(
            DataLoader::new(AvailabilityLoader(state.clone()), state.gate.spawner())
                .delay(Duration::from_millis(1)),
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
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect())
}

/// `Contract.claims`.
pub async fn claims_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<ClaimConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = load_page::<ListClaims>(ctx, contract_id, page).await?;
    Ok(ClaimConnection::from_page(page, Into::into))
}

/// `Contract.credits`.
pub async fn credits_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<CreditConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = load_page::<ListCredits>(ctx, contract_id, page).await?;
    Ok(CreditConnection::from_page(page, Into::into))
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

/// Who an incident or a maintenance window affects: the tenants, or every tenant of a region.
#[derive(InputObject)]
pub struct RecordIncidentInput {
    pub menu_code: String,
    pub cause: IncidentCause,
    pub title: String,
    pub description: Option<String>,
    /// The affected tenants (or give `region`).
    #[graphql(default)]
    pub tenant_ids: Vec<ID>,
    /// Every tenant of this region (`jp1`, …) instead of `tenantIds`.
    pub region: Option<String>,
    pub started_at: DateTime<Utc>,
    pub restored_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct ScheduleMaintenanceInput {
    pub kind: MaintenanceKind,
    pub menu_code: String,
    pub title: String,
    pub description: Option<String>,
    #[graphql(default)]
    pub tenant_ids: Vec<ID>,
    pub region: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct RecordPartReplacementInput {
    pub tenant_id: ID,
    pub menu_code: String,
    /// The server.
    pub resource_id: String,
    pub part: ServerPart,
    /// T1: the failure was detected.
    pub detected_at: DateTime<Utc>,
    /// T2: the earliest replacement proposed.
    pub proposed_at: DateTime<Utc>,
    /// T3: the start agreed with the customer.
    pub agreed_start_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct FileClaimInput {
    pub contract_id: ID,
    pub breach_kind: BreachKind,
    /// The incident or the part replacement.
    pub breach_id: ID,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RecordPaymentInput {
    pub contract_id: ID,
    /// The bill's month (`YYYY-MM`).
    pub month: Month,
    /// Decimal string.
    pub amount: Decimal,
    pub paid_at: DateTime<Utc>,
}

fn ids(v: Vec<ID>) -> Vec<String> {
    v.into_iter().map(|i| i.0).collect()
}

#[derive(Default)]
pub struct SlaMutation;

#[Object]
impl SlaMutation {
    /// Records an incident (operator) on a menu for tenants or a region; the `FAILURE` notice
    /// goes to the seeds' recipients. Unknown menu or tenant: `NOT_FOUND`; a restoration before
    /// the start: `INVALID_INPUT`; nothing stored.
    async fn record_incident(
        &self,
        ctx: &Context<'_>,
        input: RecordIncidentInput,
    ) -> async_graphql::Result<Incident> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = RecordIncident {
            input: IncidentInput {
                menu_code: input.menu_code,
                cause: input.cause.into(),
                title: input.title,
                description: input.description,
                affected: Affected {
                    tenant_ids: ids(input.tenant_ids),
                    region: input.region,
                },
                started_at: input.started_at,
                restored_at: input.restored_at,
            },
        };
        Ok(s.call(&req).await?.into())
    }

    /// The service is back (operator): the follow-up notice goes out. Twice: `CONFLICT`.
    async fn restore_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        restored_at: DateTime<Utc>,
    ) -> async_graphql::Result<Incident> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(s.call(&RestoreIncident {
            id: id.0,
            restored_at,
        })
        .await?
        .into())
    }

    /// Schedules maintenance (operator), announced or urgent — never downtime; the
    /// `MAINTENANCE` notice goes out.
    async fn schedule_maintenance(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMaintenanceInput,
    ) -> async_graphql::Result<Maintenance> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = ScheduleMaintenance {
            input: MaintenanceInput {
                kind: input.kind.into(),
                menu_code: input.menu_code,
                title: input.title,
                description: input.description,
                affected: Affected {
                    tenant_ids: ids(input.tenant_ids),
                    region: input.region,
                },
                starts_at: input.starts_at,
                ends_at: input.ends_at,
            },
        };
        Ok(s.call(&req).await?.into())
    }

    /// Records a bare-metal part replacement (operator).
    async fn record_part_replacement(
        &self,
        ctx: &Context<'_>,
        input: RecordPartReplacementInput,
    ) -> async_graphql::Result<PartReplacement> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = RecordPartReplacement {
            input: PartReplacementInput {
                tenant_id: input.tenant_id.0,
                menu_code: input.menu_code,
                resource_id: input.resource_id,
                part: input.part.into(),
                detected_at: input.detected_at,
                proposed_at: input.proposed_at,
                agreed_start_at: input.agreed_start_at,
                started_at: input.started_at,
            },
        };
        Ok(s.call(&req).await?.into())
    }

    /// Files a claim (the contract's owner and admins, or its partner's) within 30 days of the
    /// failure. Late: `INVALID_INPUT`; overdue payment or claimed already: `CONFLICT`.
    async fn file_claim(
        &self,
        ctx: &Context<'_>,
        input: FileClaimInput,
    ) -> async_graphql::Result<Claim> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = FileClaim {
            input: ClaimInput {
                contract_id: input.contract_id.0,
                breach_kind: input.breach_kind.into(),
                breach_id: input.breach_id.0,
                note: input.note,
            },
        };
        Ok(s.call(&req).await?.into())
    }

    /// Approves (the platform computes the amount) or rejects (with a reason) a claim
    /// (operator). Decided already: `CONFLICT`.
    async fn decide_claim(
        &self,
        ctx: &Context<'_>,
        id: ID,
        approve: bool,
        reason: Option<String>,
    ) -> async_graphql::Result<Claim> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(s.call(&DecideClaim {
            id: id.0,
            approve,
            reason,
        })
        .await?
        .into())
    }

    /// Records a payment against a FIXED bill (operator).
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordPaymentInput,
    ) -> async_graphql::Result<Payment> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = RecordPayment {
            input: PaymentInput {
                contract_id: input.contract_id.0,
                month: input.month.into(),
                amount: input.amount.into(),
                paid_at: input.paid_at,
            },
        };
        Ok(s.call(&req).await?.into())
    }
}
