//! Stored rows as the messages show them.

use crate::entity::{claim, credit, incident, maintenance, part_replacement};
use crate::part_replacement::{rate_percent, started_late, t4_days};
use chrono::{DateTime, Utc};
use ecl_kernel::AppResult;
use ecl_proto::sla::{ClaimView, CreditView, IncidentView, MaintenanceView, PartReplacementView};

pub(crate) fn ts(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

pub(crate) fn incident(m: &incident::Model, tenant_ids: Vec<String>) -> AppResult<IncidentView> {
    Ok(IncidentView {
        id: m.id.clone(),
        menu_code: m.menu_code.clone(),
        cause: m.cause,
        title: m.title.clone(),
        description: m.description.clone(),
        region: m.region.clone(),
        tenant_ids,
        started_at: ts(m.started_at),
        restored_at: m.restored_at.map(ts),
        created_at: ts(m.created_at),
    })
}

pub(crate) fn maintenance(
    m: &maintenance::Model,
    tenant_ids: Vec<String>,
) -> AppResult<MaintenanceView> {
    Ok(MaintenanceView {
        id: m.id.clone(),
        kind: m.kind,
        menu_code: m.menu_code.clone(),
        title: m.title.clone(),
        description: m.description.clone(),
        region: m.region.clone(),
        tenant_ids,
        starts_at: ts(m.starts_at),
        ends_at: ts(m.ends_at),
        created_at: ts(m.created_at),
    })
}

/// `now` decides whether a replacement that has not started yet already missed its appointment.
pub(crate) fn part(
    m: &part_replacement::Model,
    now: DateTime<Utc>,
) -> AppResult<PartReplacementView> {
    let (t1, t2, t3) = (ts(m.detected_at), ts(m.proposed_at), ts(m.agreed_start_at));
    let started = m.started_at.map(ts);
    Ok(PartReplacementView {
        id: m.id.clone(),
        contract_id: m.contract_id.clone(),
        tenant_id: m.tenant_id.clone(),
        menu_code: m.menu_code.clone(),
        resource_id: m.resource_id.clone(),
        part: m.part,
        detected_at: t1,
        proposed_at: t2,
        agreed_start_at: t3,
        started_at: started,
        t4_days: t4_days(t1, t2),
        rate_percent: rate_percent(t1, t2, started_late(t3, started, now)),
        created_at: ts(m.created_at),
    })
}

pub(crate) fn claim(m: &claim::Model) -> AppResult<ClaimView> {
    Ok(ClaimView {
        id: m.id.clone(),
        contract_id: m.contract_id.clone(),
        breach_kind: m.breach_kind,
        breach_id: m.breach_id.clone(),
        month: m.month,
        menu_code: m.menu_code.clone(),
        note: m.note.clone(),
        status: m.status,
        amount: m.amount.clone(),
        currency: m.currency,
        reason: m.reason.clone(),
        filed_by: m.filed_by.clone(),
        filed_at: ts(m.filed_at),
        decided_at: m.decided_at.map(ts),
        bill_month: m.bill_month,
    })
}

pub(crate) fn credit(m: &credit::Model) -> CreditView {
    CreditView {
        id: m.id.clone(),
        claim_id: m.claim_id.clone(),
        contract_id: m.contract_id.clone(),
        parent_id: m.parent_id.clone(),
        amount: m.amount.clone(),
        tenant_amounts: serde_json::from_str(&m.tenant_amounts).unwrap_or_default(),
        currency: m.currency,
        failure_month: m.failure_month,
        bill_month: m.bill_month,
        label: m.label.clone(),
        approved_at: ts(m.approved_at),
    }
}
