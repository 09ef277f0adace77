//! Metering service: usage events about resources, and the usage intervals derived from them.
//!
//! Decimals travel as strings (`"1"`, `"0.5"`), never as floats.

use crate::{call, event};
use chrono::{DateTime, Utc};
use ecl_kernel::Month;
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "metering";

closed_set! {
    /// What happened to a resource at an instant (SPEC §5). Stored as this text
    /// (`usage_events.kind`).
    pub enum UsageKind {
        /// The resource starts (or starts again after a stop) with a plan.
        Start = "START",
        /// The resource stops (terminates); a later `Start` is a new start-and-termination.
        Stop = "STOP",
        /// Plan, status or quantity changes at this instant; fields left empty keep their value.
        Change = "CHANGE",
    }
}

/// One usage event. `id` is the producer's own id: the same id twice counts once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub id: String,
    pub tenant_id: String,
    pub resource_id: String,
    /// Price-list code of the resource's menu.
    pub menu_code: String,
    pub kind: UsageKind,
    pub at: DateTime<Utc>,
    /// Plan (flavor, size) key of the menu; required by `Start`.
    pub plan: Option<String>,
    /// Status shown on the bill's usage line ("Running").
    pub status: Option<String>,
    /// VMs, vCPUs, instances, links… (decimal string; 1 when absent on `Start`).
    pub quantity: Option<String>,
    /// Display name of the resource.
    pub resource_name: Option<String>,
}

closed_set! {
    pub enum UsageOutcome {
        /// Stored now.
        Accepted = "ACCEPTED",
        /// Already stored earlier (same id): counted once.
        Duplicate = "DUPLICATE",
        /// Refused; nothing stored. `code` and `message` say why.
        Rejected = "REJECTED",
    }
}

closed_set! {
    /// Why an event was rejected.
    pub enum UsageRejection {
        /// No such tenant (or not yet known to metering), or a deleted one.
        UnknownTenant = "UNKNOWN_TENANT",
        /// No menu with that code in the price list.
        UnknownMenu = "UNKNOWN_MENU",
        /// The menu has no such plan.
        UnknownPlan = "UNKNOWN_PLAN",
        /// A child contract's tenant used a menu that is not resellable.
        NotResellable = "NOT_RESELLABLE",
        /// The event itself is malformed.
        InvalidEvent = "INVALID_EVENT",
    }
}

/// The answer for one event of a batch, in the batch's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageResult {
    pub id: String,
    pub outcome: UsageOutcome,
    /// Why, when `Rejected`.
    pub code: Option<UsageRejection>,
    pub message: Option<String>,
}

/// Records a batch of usage events (operator and platform components only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordUsage {
    pub events: Vec<UsageEvent>,
}
call!(RecordUsage => Vec<UsageResult>, "metering", "metering.record.v1");

/// The AMQP stream of internal producers (resource controllers): a batch of events per message,
/// consumed by metering in batches. Rejected events are logged and counted, never stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsageReported {
    pub events: Vec<UsageEvent>,
}
event!(UsageReported, "metering.usage_reported");

/// Stored usage changed for these tenants in these months (billing refreshes its estimates).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsageChanged {
    /// `(tenant id, month)` pairs (`["ten_…", "YYYY-MM"]` on the wire).
    pub tenant_months: Vec<(String, Month)>,
}
event!(UsageChanged, "metering.usage_changed");

/// One stretch of a resource's life with one plan, status and quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalView {
    pub start: DateTime<Utc>,
    /// `None` while still running.
    pub end: Option<DateTime<Utc>>,
    pub plan: String,
    pub status: Option<String>,
    pub quantity: String,
}

/// A resource and its usage intervals touching a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceUsage {
    pub resource_id: String,
    pub name: Option<String>,
    pub menu_code: String,
    pub created_at: Option<DateTime<Utc>>,
    pub intervals: Vec<IntervalView>,
}

/// The usage intervals of several tenants for one month (system callers: billing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetUsage {
    pub tenant_ids: Vec<String>,
    pub month: Month,
}
call!(GetUsage => Vec<(String, Vec<ResourceUsage>)>, "metering", "metering.usage.v1");

/// How many events are stored (benchmarks: events sent = events counted).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CountEvents {}
call!(CountEvents => u64, "metering", "metering.count.v1");
