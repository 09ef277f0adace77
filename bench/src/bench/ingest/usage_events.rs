//! The usage the benchmark ingests (SPEC §5: a resource starts, changes status, stops; every event
//! has an id): ten events per resource, spread over the month.

use chrono::Duration as CDuration;
use ecl_billing::rating::Month;
use ecl_proto::metering::{UsageEvent, UsageKind};

/// Events per resource: start, status changes, stop — spread over `month`.
pub const PER_RESOURCE: usize = 10;

/// The events of resources `from..to`.
pub fn events(
    tenants: &[String],
    (from, to): (usize, usize),
    month: Month,
    run: &str,
) -> Vec<UsageEvent> {
    let mut out = Vec::with_capacity((to - from) * PER_RESOURCE);
    let start = month.start();
    for r in from..to {
        let tenant = &tenants[r % tenants.len()];
        let (menu, plan) = if r % 2 == 0 {
            ("compute", "1CPU-4GB")
        } else {
            ("volume", "15GB")
        };
        for k in 0..PER_RESOURCE {
            let at = start
                + CDuration::hours((r % 48) as i64 + k as i64 * 60)
                + CDuration::seconds((r % 3600) as i64);
            let kind = match k {
                0 => UsageKind::Start,
                k if k == PER_RESOURCE - 1 => UsageKind::Stop,
                _ => UsageKind::Change,
            };
            out.push(UsageEvent {
                id: format!("{run}-{r}-{k}"),
                tenant_id: tenant.clone(),
                resource_id: format!("res-{r}"),
                menu_code: menu.into(),
                kind,
                at,
                plan: (kind == UsageKind::Start).then(|| plan.into()),
                status: (kind == UsageKind::Change)
                    .then(|| if k % 2 == 0 { "Running" } else { "Stopped" }.into()),
                quantity: None,
                resource_name: None,
            });
        }
    }
    out
}
