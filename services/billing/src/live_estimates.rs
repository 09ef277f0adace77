//! Live estimates: after usage changed, tell `billEstimate` subscribers whose current-month
//! estimate moved.

use std::collections::BTreeSet;

use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::{billing as proto, metering::UsageChanged};
use ecl_store::read_models;

use crate::{
    Billing,
    entity::{contract, tenant},
};

impl Billing {
    /// Tells live `billEstimate` subscribers whose current-month estimate moved: the tenants'
    /// contracts and, a partner's bill including its children's, their partners. Past months are
    /// not announced (only the current month is estimated live).
    pub(crate) async fn announce_estimates(
        &self,
        ctx: &CallCtx,
        ev: &UsageChanged,
    ) -> AppResult<()> {
        let current = self.current_month();
        let tenant_ids: Vec<String> = ev
            .tenant_months
            .iter()
            .filter(|(_, m)| *m == current)
            .map(|(t, _)| t.clone())
            .collect();
        if tenant_ids.is_empty() {
            return Ok(());
        }
        let owners: BTreeSet<String> =
            read_models::tenants::<tenant::Entity, _>(&self.db, &tenant_ids)
                .await?
                .into_iter()
                .map(|t| t.contract_id)
                .collect();
        let mut ids = owners.clone();
        let owners: Vec<String> = owners.into_iter().collect();
        ids.extend(
            read_models::contracts::<contract::Entity, _>(&self.db, &owners)
                .await?
                .into_iter()
                .filter_map(|c| c.parent_id),
        );
        if ids.is_empty() {
            return Ok(());
        }
        // Straight to the bus, not the outbox: a lost hint only delays a live estimate, which
        // the next usage refreshes, and the rows it could guard are not written here.
        self.bus
            .publish(
                &ctx.trace_id,
                &proto::EstimateChanged {
                    contract_ids: ids.into_iter().collect(),
                    month: current,
                },
            )
            .await
    }
}
