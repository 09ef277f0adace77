//! A month's availability of contracts, computed for the customer (seed 004's table applied to
//! what the provider recorded itself): per tenant × menu with an incident, the downtime (union of
//! `FAILURE` intervals, maintenance excluded, clipped to the month), uptime %, the credit rate,
//! billing's charges of the menu for the tenant and the credit they earn, and the last day to
//! claim it. One read of this service's store and one request to billing, however many contracts.

use crate::{
    Sla,
    claims::deadline,
    credit_rate::{credit_amount, credit_percent},
    entity::affected,
    uptime::{Span, downtime_micros, uptime_percent},
    views::ts,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppResult, Month, Principal};
use ecl_proto::sla::{AvailabilityView, IncidentCause, MenuCharges};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
struct Cell {
    contract_id: String,
    failures: Vec<Span>,
    maintenance: Vec<Span>,
    incidents: Vec<String>,
    last_failure: Option<i64>,
}

impl Sla {
    /// The availability of `contract_ids` (already authorized) in `month`, by contract.
    pub(crate) async fn availability(
        &self,
        ctx: &CallCtx,
        contract_ids: &[String],
        month: Month,
    ) -> AppResult<HashMap<String, Vec<AvailabilityView>>> {
        let range = month.range();
        let (lo, hi) = (range.0.timestamp_micros(), range.1.timestamp_micros());
        let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
        for chunk in contract_ids.chunks(1_000) {
            let rows = affected::Entity::find()
                .filter(affected::Column::ContractId.is_in(chunk.to_vec()))
                .filter(affected::Column::StartsAt.lt(hi))
                .filter(
                    Condition::any()
                        .add(affected::Column::EndsAt.is_null())
                        .add(affected::Column::EndsAt.gt(lo)),
                )
                .all(&self.db)
                .await?;
            for r in rows {
                let cell = cells
                    .entry((r.tenant_id.clone(), r.menu_code.clone()))
                    .or_default();
                cell.contract_id = r.contract_id;
                let span = Span {
                    from: r.starts_at,
                    to: r.ends_at,
                };
                if r.kind == "MAINTENANCE" {
                    cell.maintenance.push(span);
                    continue;
                }
                cell.incidents.push(r.event_id);
                if r.cause == IncidentCause::Failure.as_str() {
                    cell.failures.push(span);
                    cell.last_failure = cell.last_failure.max(Some(r.starts_at));
                }
            }
        }
        cells.retain(|_, c| !c.incidents.is_empty());
        let mut out: HashMap<String, Vec<AvailabilityView>> = HashMap::new();
        if cells.is_empty() {
            return Ok(out);
        }
        let system = ctx.as_principal(Principal::system(crate::NAME));
        let charges: HashMap<(String, String), _> = self
            .bus
            .call(
                &system,
                &MenuCharges {
                    month,
                    pairs: cells.keys().cloned().collect(),
                },
            )
            .await?
            .into_iter()
            .map(|c| ((c.tenant_id.clone(), c.menu_code.clone()), c))
            .collect();
        for ((tenant_id, menu_code), cell) in cells {
            let down = downtime_micros(&cell.failures, &cell.maintenance, range);
            let charge = charges.get(&(tenant_id.clone(), menu_code.clone()));
            let eligible = charge.is_some_and(|c| c.sla_eligible);
            let amount: Decimal = charge
                .and_then(|c| c.amount.parse().ok())
                .unwrap_or(Decimal::ZERO);
            let percent = if eligible { credit_percent(down) } else { 0 };
            out.entry(cell.contract_id.clone())
                .or_default()
                .push(AvailabilityView {
                    contract_id: cell.contract_id,
                    tenant_id,
                    menu_code,
                    month,
                    sla_eligible: eligible,
                    downtime_seconds: (down + 999_999) / 1_000_000,
                    uptime_percent: uptime_percent(down).to_string(),
                    credit_percent: percent,
                    charges: amount.round_dp(6).to_string(),
                    credit: credit_amount(amount, percent).to_string(),
                    currency: charge.and_then(|c| c.currency),
                    claim_deadline: cell.last_failure.map(|t| deadline(ts(t))),
                    incident_ids: cell.incidents,
                });
        }
        Ok(out)
    }
}
