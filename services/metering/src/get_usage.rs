//! Usage intervals of a month for billing (`GetUsage`): read from the month's own events and what
//! each resource carried into the month, so a bill costs what its month holds, not its tenants'
//! history (`ecl_metering_usage_rows_read_total` counts the rows).

use crate::{Metering, entity::usage_event, intervals, month_starts};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::metering::{GetUsage, ResourceUsage};
use futures::TryStreamExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

impl Metering {
    /// The intervals of the tenants' resources touching the month (platform components only).
    pub(crate) async fn usage(
        &self,
        ctx: &CallCtx,
        req: GetUsage,
    ) -> AppResult<Vec<(String, Vec<ResourceUsage>)>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden("usage intervals are for billing"));
        }
        let (from, to) = req.month.range();
        let (mut carried, mut read) =
            month_starts::carried_into(&self.db, &req.tenant_ids, req.month).await?;
        // Streamed tenant by tenant (the `(tenant_id, at)` index hands them over in that
        // order, no sort) and derived as each tenant's rows end: what is held at once is one
        // tenant's events of the month, not the batch's (a month close asks for hundreds of
        // thousands of rows at a time).
        let mut rows = usage_event::Entity::find()
            .filter(usage_event::Column::TenantId.is_in(req.tenant_ids.clone()))
            .filter(usage_event::Column::At.gte(from.timestamp_micros()))
            .filter(usage_event::Column::At.lt(to.timestamp_micros()))
            .order_by_asc(usage_event::Column::TenantId)
            .into_partial_model::<usage_event::Derived>()
            .stream(&self.db)
            .await?;
        let mut derived: HashMap<String, Vec<ResourceUsage>> = HashMap::new();
        let mut derive = |tenant: String, evs: Vec<intervals::Ev>| {
            let into = carried.remove(&tenant).unwrap_or_default();
            derived.insert(tenant, intervals::derive_from(into, evs, from, to));
        };
        let mut current: Option<(String, Vec<intervals::Ev>)> = None;
        while let Some(r) = rows.try_next().await? {
            read += 1;
            match &mut current {
                Some((t, evs)) if *t == r.tenant_id => evs.push(r.into()),
                _ => {
                    let tenant = r.tenant_id.clone();
                    if let Some((t, evs)) = current.replace((tenant, vec![r.into()])) {
                        derive(t, evs);
                    }
                }
            }
        }
        drop(rows);
        if let Some((t, evs)) = current {
            derive(t, evs);
        }
        metrics::counter!("ecl_metering_usage_rows_read_total").increment(read as u64);
        Ok(req
            .tenant_ids
            .into_iter()
            .map(|t| {
                // A tenant without events this month: what its resources carried into it.
                let usage = match derived.remove(&t) {
                    Some(u) => u,
                    None => {
                        let into = carried.remove(&t).unwrap_or_default();
                        intervals::derive_from(into, Vec::new(), from, to)
                    }
                };
                (t, usage)
            })
            .collect())
    }

    /// How many events are stored (benchmarks: events sent = events counted).
    pub(crate) async fn count(&self, ctx: &CallCtx) -> AppResult<u64> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden("operators only"));
        }
        Ok(usage_event::Entity::find().count(&self.db).await?)
    }
}
