//! SLA service (SPEC §8; seed 004): incidents and maintenance windows (operator), uptime and the
//! credit each tenant × menu earns per month, bare-metal part replacements, claims and the
//! credits billing puts on bills.
//!
//! The last section holds what the SLA service asks of billing (a month's charges per tenant ×
//! menu, which contracts are overdue) and the payments that decide "overdue": served by billing,
//! declared here so the two services meet in one place.

use crate::{Page, PageArgs, billing::Currency, call, event};
use chrono::{DateTime, NaiveDate, Utc};
use ecl_kernel::Month;
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "sla";

closed_set! {
    /// Why an incident happened; only `FAILURE` is downtime (seed 004 "Disclaimers"). Stored as
    /// this text (`incidents.cause`, `affected.cause`).
    pub enum IncidentCause {
        Failure = "FAILURE",
        ForceMajeure = "FORCE_MAJEURE",
        CustomerCaused = "CUSTOMER_CAUSED",
        /// The HA switch-over worked: the customer could use the service.
        HaSwitchoverOk = "HA_SWITCHOVER_OK",
        /// A third party's failure, e.g. the internet outside the provider.
        ThirdParty = "THIRD_PARTY",
    }
}

closed_set! {
    /// Maintenance announced in advance or urgent: neither is downtime.
    pub enum MaintenanceKind {
        Announced = "ANNOUNCED",
        Urgent = "URGENT",
    }
}

closed_set! {
    /// The bare-metal parts the SLA covers (seed 004 Table 1; RAID controller / NIC / disk are not).
    pub enum ServerPart {
        /// Both chassis power supplies (cold swap).
        ChassisPowerSupply = "CHASSIS_POWER_SUPPLY",
        Cpu = "CPU",
        Memory = "MEMORY",
        /// Both power supplies by power-supply status (hot swap).
        PowerSupply = "POWER_SUPPLY",
        Fan = "FAN",
    }
}

closed_set! {
    /// Which service level a claim says was breached.
    pub enum BreachKind {
        /// Uptime of a menu: names an incident.
        Incident = "INCIDENT",
        /// Bare-metal part replacement: names a part replacement record.
        PartReplacement = "PART_REPLACEMENT",
    }
}

closed_set! {
    pub enum ClaimStatus {
        Pending = "PENDING",
        Approved = "APPROVED",
        Rejected = "REJECTED",
    }
}

/// Who is affected: the named tenants, or every tenant of `region` (exactly one of the two).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default)]
    pub tenant_ids: Vec<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentInput {
    /// A price-list menu code (`compute`, `volume`, …).
    pub menu_code: String,
    pub cause: IncidentCause,
    pub title: String,
    pub description: Option<String>,
    pub affected: Affected,
    pub started_at: DateTime<Utc>,
    /// Known already (an incident recorded afterwards); else `RestoreIncident` later.
    pub restored_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    pub id: String,
    pub menu_code: String,
    pub cause: IncidentCause,
    pub title: String,
    pub description: Option<String>,
    pub region: Option<String>,
    pub tenant_ids: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub restored_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Records an incident (operator) and asks for its `FAILURE` notice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordIncident {
    pub input: IncidentInput,
}
call!(RecordIncident => IncidentView, "sla", "sla.incident_record.v1");

/// The service is back (operator): the incident ends, and the follow-up notice goes out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoreIncident {
    pub id: String,
    pub restored_at: DateTime<Utc>,
}
call!(RestoreIncident => IncidentView, "sla", "sla.incident_restore.v1");

/// Incidents of several tenants, newest first is not needed: oldest first like every list, one
/// page each (DataLoader batch). Tenants of contracts the caller may not see get nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTenantIncidents {
    pub tenant_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListTenantIncidents => Vec<(String, Page<IncidentView>)>, "sla", "sla.tenant_incidents.v1", key: Scope(Sla, Read));

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceInput {
    pub kind: MaintenanceKind,
    pub menu_code: String,
    pub title: String,
    pub description: Option<String>,
    pub affected: Affected,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceView {
    pub id: String,
    pub kind: MaintenanceKind,
    pub menu_code: String,
    pub title: String,
    pub description: Option<String>,
    pub region: Option<String>,
    pub tenant_ids: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Schedules a maintenance window (operator) and asks for its `MAINTENANCE` notice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduleMaintenance {
    pub input: MaintenanceInput,
}
call!(ScheduleMaintenance => MaintenanceView, "sla", "sla.maintenance_schedule.v1");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartReplacementInput {
    pub tenant_id: String,
    /// The bare-metal server's menu.
    pub menu_code: String,
    /// The server (resource id).
    pub resource_id: String,
    pub part: ServerPart,
    /// T1: the monitoring system detected the failure.
    pub detected_at: DateTime<Utc>,
    /// T2: the earliest replacement time proposed to the customer.
    pub proposed_at: DateTime<Utc>,
    /// T3: the start agreed with the customer.
    pub agreed_start_at: DateTime<Utc>,
    /// When the replacement actually started (unknown yet: `None`).
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartReplacementView {
    pub id: String,
    pub contract_id: String,
    pub tenant_id: String,
    pub menu_code: String,
    pub resource_id: String,
    pub part: ServerPart,
    pub detected_at: DateTime<Utc>,
    pub proposed_at: DateTime<Utc>,
    pub agreed_start_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    /// T4 = T2 − T1 in UTC days.
    pub t4_days: i64,
    /// 0, 20, 40, 60, 80 or 100 (100 also when the agreed start was missed).
    pub rate_percent: u32,
    pub created_at: DateTime<Utc>,
}

/// Records a bare-metal part replacement (operator).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordPartReplacement {
    pub input: PartReplacementInput,
}
call!(RecordPartReplacement => PartReplacementView, "sla", "sla.part_record.v1");

/// One tenant × menu of a month as the platform measured it, with the credit it earns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityView {
    pub contract_id: String,
    pub tenant_id: String,
    pub menu_code: String,
    pub month: Month,
    /// Whether the menu has an SLA at all (Hyper-V, Monitoring, Support, App Service PaaS: no).
    pub sla_eligible: bool,
    /// The union of the month's `FAILURE` intervals, maintenance excluded, in whole seconds
    /// (rounded up: a started second is down).
    pub downtime_seconds: i64,
    /// 4 decimal places, rounded down.
    pub uptime_percent: String,
    /// 0, 1, 3, 10 or 100 (0 without an SLA).
    pub credit_percent: u32,
    /// The month's charges of the menu for the tenant (billing's), 6 decimal places.
    pub charges: String,
    /// charges × rate, never above the charges.
    pub credit: String,
    /// The charges' currency; `None` (`""` on the wire) for a menu the month's price list lacks.
    #[serde(with = "crate::empty_as_none")]
    pub currency: Option<Currency>,
    /// The last day a claim is accepted (30 days after the month's latest failure).
    pub claim_deadline: Option<NaiveDate>,
    /// The month's incidents of the menu for the tenant.
    pub incident_ids: Vec<String>,
}

/// Availability of several contracts in one month (DataLoader batch): for those who may see the
/// contracts' bills; others' contracts are absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetAvailability {
    pub contract_ids: Vec<String>,
    pub month: Month,
}
call!(GetAvailability => Vec<(String, Vec<AvailabilityView>)>, "sla", "sla.availability.v1", key: Scope(Sla, Read));

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimInput {
    pub contract_id: String,
    pub breach_kind: BreachKind,
    /// The incident or part replacement.
    pub breach_id: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimView {
    pub id: String,
    pub contract_id: String,
    pub breach_kind: BreachKind,
    pub breach_id: String,
    /// The month of the failure.
    pub month: Month,
    pub menu_code: String,
    pub note: Option<String>,
    pub status: ClaimStatus,
    /// Computed by the platform on approval; `None` before.
    pub amount: Option<String>,
    pub currency: Option<Currency>,
    pub reason: Option<String>,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The bill the credit lands on (approved claims).
    pub bill_month: Option<Month>,
}

/// Files a claim: the contract's owner and admins (a partner's for its children).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileClaim {
    pub input: ClaimInput,
}
call!(FileClaim => ClaimView, "sla", "sla.claim_file.v1", key: Scope(Sla, Write));

/// Approves (the amount is computed now) or rejects (a reason is required) a pending claim
/// (operator).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecideClaim {
    pub id: String,
    pub approve: bool,
    pub reason: Option<String>,
}
call!(DecideClaim => ClaimView, "sla", "sla.claim_decide.v1");

/// Claims of several contracts, one page each (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListClaims {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListClaims => Vec<(String, Page<ClaimView>)>, "sla", "sla.claims.v1", key: Scope(Sla, Read));

/// An approved claim's credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditView {
    pub id: String,
    pub claim_id: String,
    pub contract_id: String,
    /// The partner of a child contract: its bill is reduced too (it is billed for its children).
    pub parent_id: Option<String>,
    /// Positive; billing shows it as a negative adjustment line.
    pub amount: String,
    /// How `amount` divides among the contract's tenants (tenant id, amount): each tenant's
    /// part is an adjustment of that tenant, before its rounding.
    #[serde(default)]
    pub tenant_amounts: Vec<(String, String)>,
    pub currency: Currency,
    /// The month of the failure.
    pub failure_month: Month,
    /// The bill it lands on: two months after the approval.
    pub bill_month: Month,
    pub label: String,
    pub approved_at: DateTime<Utc>,
}

/// Credits of several contracts, one page each (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListCredits {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListCredits => Vec<(String, Page<CreditView>)>, "sla", "sla.credits.v1", key: Scope(Sla, Read));

/// A claim was approved: billing puts the credit on the contract's bill of `bill_month` (once,
/// through its inbox).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreditApproved {
    pub credit: CreditView,
}
event!(CreditApproved, "sla.credit_approved");

// ---- served by billing, for the SLA service ---------------------------------------------------

/// A month's charges of tenant × menu pairs, in one request however many (system callers).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MenuCharges {
    pub month: Month,
    pub pairs: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuCharge {
    pub tenant_id: String,
    pub menu_code: String,
    /// 6 decimal places; "0" when the tenant had no such charge.
    pub amount: String,
    /// The menu's currency; `None` (`""` on the wire) when the month's price list lacks the menu.
    #[serde(with = "crate::empty_as_none")]
    pub currency: Option<Currency>,
    pub sla_eligible: bool,
}
call!(MenuCharges => Vec<MenuCharge>, "billing", "billing.menu_charges.v1");

/// Which of these contracts have an overdue payment: a FIXED bill past its due date and not
/// fully paid (system and operator callers).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OverdueContracts {
    pub contract_ids: Vec<String>,
}
call!(OverdueContracts => Vec<String>, "billing", "billing.overdue.v1");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInput {
    pub contract_id: String,
    /// The bill's month.
    pub month: Month,
    /// Decimal string, positive.
    pub amount: String,
    pub paid_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    pub id: String,
    pub contract_id: String,
    pub month: Month,
    pub amount: String,
    pub paid_at: DateTime<Utc>,
    /// What the bill still waits for after this payment.
    pub outstanding: String,
    pub due_date: NaiveDate,
}

/// Records a payment against a FIXED bill (operator).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordPayment {
    pub input: PaymentInput,
}
call!(RecordPayment => PaymentView, "billing", "billing.payment_record.v1");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_by_name() {
        for c in IncidentCause::ALL {
            assert_eq!(IncidentCause::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        for p in ServerPart::ALL {
            assert_eq!(ServerPart::parse(p.as_str()), Some(p));
        }
        assert_eq!(IncidentCause::parse("ALIENS"), None);
        assert_eq!(ClaimStatus::parse("APPROVED"), Some(ClaimStatus::Approved));
    }

    #[test]
    fn an_unknown_currency_travels_as_the_empty_string_it_was() {
        let charge = |currency| MenuCharge {
            tenant_id: "ten_1".into(),
            menu_code: "compute".into(),
            amount: "0".into(),
            currency,
            sla_eligible: false,
        };
        let none = serde_json::to_value(charge(None)).unwrap();
        assert_eq!(none["currency"], "");
        let usd = serde_json::to_value(charge(Some(Currency::Usd))).unwrap();
        assert_eq!(usd["currency"], "USD");
        for (v, want) in [(none, None), (usd, Some(Currency::Usd))] {
            assert_eq!(
                serde_json::from_value::<MenuCharge>(v).unwrap().currency,
                want
            );
        }
        let mut bad = serde_json::to_value(charge(None)).unwrap();
        bad["currency"] = "EUR".into();
        assert!(serde_json::from_value::<MenuCharge>(bad).is_err());
    }
}
