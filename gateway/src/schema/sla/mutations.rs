//! The SLA operations: the operator records incidents, maintenance windows, part replacements
//! and payments and decides claims; a contract's managers file claims. Each turns its input into
//! the service's message and the reply into the schema's object — nothing more.

use super::views::{
    BreachKind, Claim, Incident, IncidentCause, Maintenance, MaintenanceKind, PartReplacement,
    Payment, ServerPart,
};
use crate::schema::{
    common::RequestState,
    scalars::{Decimal, Month},
};
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use ecl_proto::{
    Call,
    sla::{
        Affected, ClaimInput, DecideClaim, FileClaim, IncidentInput, MaintenanceInput,
        PartReplacementInput, PaymentInput, RecordIncident, RecordPartReplacement, RecordPayment,
        RestoreIncident, ScheduleMaintenance,
    },
};

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
    /// The server (the resource id of its usage events).
    pub resource_id: ID,
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

/// The tenants (or the region) an incident or a maintenance window names.
fn affected(tenant_ids: Vec<ID>, region: Option<String>) -> Affected {
    Affected {
        tenant_ids: tenant_ids.into_iter().map(|i| i.0).collect(),
        region,
    }
}

impl From<RecordIncidentInput> for RecordIncident {
    fn from(i: RecordIncidentInput) -> Self {
        RecordIncident {
            input: IncidentInput {
                menu_code: i.menu_code,
                cause: i.cause.into(),
                title: i.title,
                description: i.description,
                affected: affected(i.tenant_ids, i.region),
                started_at: i.started_at,
                restored_at: i.restored_at,
            },
        }
    }
}

impl From<ScheduleMaintenanceInput> for ScheduleMaintenance {
    fn from(i: ScheduleMaintenanceInput) -> Self {
        ScheduleMaintenance {
            input: MaintenanceInput {
                kind: i.kind.into(),
                menu_code: i.menu_code,
                title: i.title,
                description: i.description,
                affected: affected(i.tenant_ids, i.region),
                starts_at: i.starts_at,
                ends_at: i.ends_at,
            },
        }
    }
}

impl From<RecordPartReplacementInput> for RecordPartReplacement {
    fn from(i: RecordPartReplacementInput) -> Self {
        RecordPartReplacement {
            input: PartReplacementInput {
                tenant_id: i.tenant_id.0,
                menu_code: i.menu_code,
                resource_id: i.resource_id.0,
                part: i.part.into(),
                detected_at: i.detected_at,
                proposed_at: i.proposed_at,
                agreed_start_at: i.agreed_start_at,
                started_at: i.started_at,
            },
        }
    }
}

impl From<FileClaimInput> for FileClaim {
    fn from(i: FileClaimInput) -> Self {
        FileClaim {
            input: ClaimInput {
                contract_id: i.contract_id.0,
                breach_kind: i.breach_kind.into(),
                breach_id: i.breach_id.0,
                note: i.note,
            },
        }
    }
}

impl TryFrom<RecordPaymentInput> for RecordPayment {
    type Error = async_graphql::Error;
    /// Fails only for a month the scalar admits but no bill can have (before 1970), with the
    /// same `INVALID_INPUT` field the billing service gave.
    fn try_from(i: RecordPaymentInput) -> async_graphql::Result<Self> {
        Ok(RecordPayment {
            input: PaymentInput {
                contract_id: i.contract_id.0,
                month: ecl_kernel::Month::try_from(i.month).map_err(crate::errors::gql)?,
                amount: i.amount.into(),
                paid_at: i.paid_at,
            },
        })
    }
}

/// Every operation's one step: the signed-in caller's request to the SLA service (or billing),
/// its reply as the schema's object.
async fn call<C, T>(ctx: &Context<'_>, req: impl Into<C>) -> async_graphql::Result<T>
where
    C: Call,
    T: TryFrom<C::Reply>,
    async_graphql::Error: From<T::Error>,
{
    let s = RequestState::of(ctx);
    s.require_auth()?;
    Ok(T::try_from(s.call(&req.into()).await?)?)
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
        call::<RecordIncident, _>(ctx, input).await
    }

    /// The service is back (operator): the follow-up notice goes out. Twice: `CONFLICT`.
    async fn restore_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        restored_at: DateTime<Utc>,
    ) -> async_graphql::Result<Incident> {
        let req = RestoreIncident {
            id: id.0,
            restored_at,
        };
        call::<RestoreIncident, _>(ctx, req).await
    }

    /// Schedules maintenance (operator), announced or urgent — never downtime; the
    /// `MAINTENANCE` notice goes out.
    async fn schedule_maintenance(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMaintenanceInput,
    ) -> async_graphql::Result<Maintenance> {
        call::<ScheduleMaintenance, _>(ctx, input).await
    }

    /// Records a bare-metal part replacement (operator).
    async fn record_part_replacement(
        &self,
        ctx: &Context<'_>,
        input: RecordPartReplacementInput,
    ) -> async_graphql::Result<PartReplacement> {
        call::<RecordPartReplacement, _>(ctx, input).await
    }

    /// Files a claim (the contract's owner and admins, or its partner's) within 30 days of the
    /// failure. Late: `INVALID_INPUT`; overdue payment or claimed already: `CONFLICT`.
    async fn file_claim(
        &self,
        ctx: &Context<'_>,
        input: FileClaimInput,
    ) -> async_graphql::Result<Claim> {
        call::<FileClaim, _>(ctx, input).await
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
        let req = DecideClaim {
            id: id.0,
            approve,
            reason,
        };
        call::<DecideClaim, _>(ctx, req).await
    }

    /// Records a payment against a FIXED bill (operator).
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordPaymentInput,
    ) -> async_graphql::Result<Payment> {
        call::<RecordPayment, _>(ctx, RecordPayment::try_from(input)?).await
    }
}
