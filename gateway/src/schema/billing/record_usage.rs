//! Usage recording (SPEC §5): a batch of start/stop/change events from resource controllers,
//! one result per event; the same event id twice counts once, a rejected event stores nothing.

use crate::schema::{
    common::RequestState,
    scalars::{DateTime, Decimal},
};
use async_graphql::{Context, Enum, ID, InputObject, SimpleObject};
use ecl_proto::metering::{self as mproto, RecordUsage, UsageEvent};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::metering::UsageKind")]
pub enum UsageKind {
    Start,
    Stop,
    Change,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::metering::UsageOutcome")]
pub enum UsageOutcome {
    Accepted,
    Duplicate,
    Rejected,
}

/// Why an event was rejected.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::metering::UsageRejection")]
pub enum UsageRejection {
    /// No such tenant (or not yet known to metering: it learns of tenants from their events).
    UnknownTenant,
    /// No menu with that code in force at the event's time.
    UnknownMenu,
    /// The menu has no such plan.
    UnknownPlan,
    /// A child contract's tenant used a menu that is not resellable.
    NotResellable,
    /// The event itself is malformed (a start without a plan, a bad quantity…).
    InvalidEvent,
}

#[derive(InputObject)]
pub struct UsageEventInput {
    /// The producer's id: the same id twice counts once.
    pub id: ID,
    pub tenant_id: ID,
    /// The producer's id of the resource (a VM, a volume…).
    pub resource_id: ID,
    pub menu_code: String,
    pub kind: UsageKind,
    pub at: DateTime,
    pub plan: Option<String>,
    /// The resource's own status as its controller reports it (free text).
    pub status: Option<String>,
    /// VMs, vCPUs, instances…; 1 when absent.
    pub quantity: Option<Decimal>,
    pub resource_name: Option<String>,
}

/// What became of one event: accepted, duplicate (counted once), or rejected with a `code`.
#[derive(SimpleObject)]
pub struct UsageResult {
    /// The event's id, as sent (a result is not stored: clients key it by the event).
    pub id: ID,
    pub outcome: UsageOutcome,
    /// Set when `REJECTED`.
    pub code: Option<UsageRejection>,
    pub message: Option<String>,
}

/// `recordUsage(events)`.
pub(super) async fn record_usage(
    ctx: &Context<'_>,
    events: Vec<UsageEventInput>,
) -> async_graphql::Result<Vec<UsageResult>> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
    let events = events
        .into_iter()
        .map(|e| UsageEvent {
            id: e.id.0,
            tenant_id: e.tenant_id.0,
            resource_id: e.resource_id.0,
            menu_code: e.menu_code,
            kind: e.kind.into(),
            at: e.at.into(),
            plan: e.plan,
            status: e.status,
            quantity: e.quantity.map(Into::into),
            resource_name: e.resource_name,
        })
        .collect();
    let results = s.call(&RecordUsage { events }).await?;
    results
        .into_iter()
        .map(|r: mproto::UsageResult| {
            Ok(UsageResult {
                id: r.id.into(),
                outcome: r.outcome.into(),
                code: r.code.map(Into::into),
                message: r.message,
            })
        })
        .collect()
}
