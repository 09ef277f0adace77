//! What the SLA service's messages look like in the schema: its closed sets as enums, and the
//! objects a portal shows (incidents, maintenance, part replacements, availability, claims,
//! credits, payments). Amounts are `Decimal`, currencies the schema's `Currency`.

use crate::schema::{
    billing::Currency,
    scalars::{Decimal, Month},
};
use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use ecl_proto::sla::{
    AvailabilityView, ClaimView, CreditView, IncidentView, MaintenanceView, PartReplacementView,
    PaymentView,
};

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
    pub resource_id: ID,
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
            resource_id: v.resource_id.into(),
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
#[graphql(complex)]
pub struct Availability {
    /// `avl_<tenant>@<menu>@<month>`: one row per tenant, menu and month.
    pub id: ID,
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
    pub currency: Currency,
    /// The last day (UTC) to claim it.
    pub claim_deadline: Option<NaiveDate>,
    pub incident_ids: Vec<ID>,
}

impl TryFrom<AvailabilityView> for Availability {
    type Error = async_graphql::Error;
    fn try_from(v: AvailabilityView) -> async_graphql::Result<Self> {
        // Charges come from a menu of the month's price list, which has a currency.
        let currency = v.currency.map(Into::into).ok_or_else(|| {
            crate::errors::gql(ecl_kernel::AppError::internal(format!(
                "availability of {} without a currency",
                v.menu_code
            )))
        })?;
        Ok(Availability {
            id: format!("avl_{}@{}@{}", v.tenant_id, v.menu_code, v.month).into(),
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
            currency,
            claim_deadline: v.claim_deadline,
            incident_ids: v.incident_ids.into_iter().map(Into::into).collect(),
        })
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
    pub currency: Option<Currency>,
    pub reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The bill the credit lands on.
    pub bill_month: Option<Month>,
}

impl TryFrom<ClaimView> for Claim {
    type Error = async_graphql::Error;
    fn try_from(v: ClaimView) -> async_graphql::Result<Self> {
        Ok(Claim {
            id: v.id.into(),
            contract_id: v.contract_id.into(),
            breach_kind: v.breach_kind.into(),
            breach_id: v.breach_id.into(),
            month: v.month.into(),
            menu_code: v.menu_code,
            note: v.note,
            status: v.status.into(),
            amount: v.amount.map(Decimal::from),
            currency: v.currency.map(Into::into),
            reason: v.reason,
            filed_at: v.filed_at,
            decided_at: v.decided_at,
            bill_month: v.bill_month.map(Month::from),
        })
    }
}

/// An approved claim's credit: a negative adjustment on the bill of `billMonth`.
#[derive(SimpleObject)]
pub struct Credit {
    pub id: ID,
    pub claim_id: ID,
    pub contract_id: ID,
    pub amount: Decimal,
    pub currency: Currency,
    pub failure_month: Month,
    pub bill_month: Month,
    pub label: String,
    pub approved_at: DateTime<Utc>,
}

impl TryFrom<CreditView> for Credit {
    type Error = async_graphql::Error;
    fn try_from(v: CreditView) -> async_graphql::Result<Self> {
        Ok(Credit {
            id: v.id.into(),
            claim_id: v.claim_id.into(),
            contract_id: v.contract_id.into(),
            amount: v.amount.into(),
            currency: v.currency.into(),
            failure_month: v.failure_month.into(),
            bill_month: v.bill_month.into(),
            label: v.label,
            approved_at: v.approved_at,
        })
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

#[async_graphql::ComplexObject]
impl Availability {
    /// The tenant (null when the caller may not see it), loaded for the whole list at once.
    async fn tenant(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Option<crate::schema::tenant::Tenant>> {
        crate::schema::tenant::tenant_link(ctx, &self.tenant_id).await
    }
}
