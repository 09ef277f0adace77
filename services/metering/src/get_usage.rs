//! Usage intervals of a month for billing (`GetUsage`): read from the month's own events and what
//! each resource carried into the month, so a bill costs what its month holds, not its tenants'
//! history (`ecl_metering_usage_rows_read_total` counts the rows).

use crate::{Metering, entity::usage_event, intervals, month_starts};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::metering::{GetUsage, ResourceUsage};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
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
        let rows = usage_event::Entity::find()
            .filter(usage_event::Column::TenantId.is_in(req.tenant_ids.clone()))
            .filter(usage_event::Column::At.gte(from.timestamp_micros()))
            .filter(usage_event::Column::At.lt(to.timestamp_micros()))
            .all(&self.db)
            .await?;
        read += rows.len();
        metrics::counter!("ecl_metering_usage_rows_read_total").increment(read as u64);
        let mut by_tenant: HashMap<String, Vec<intervals::Ev>> = HashMap::new();
        for r in rows {
            by_tenant
                .entry(r.tenant_id.clone())
                .or_default()
                .push(r.into());
        }
        Ok(req
            .tenant_ids
            .into_iter()
            .map(|t| {
                let evs = by_tenant.remove(&t).unwrap_or_default();
                let into = carried.remove(&t).unwrap_or_default();
                let usage = intervals::derive_from(into, evs, from, to);
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
