//! What the SLA service asks billing: a month's charges per tenant × menu (the base of a
//! credit, with whether the menu has an SLA at all), rated from metering's usage in one
//! `GetUsage` request however many tenants, so the SLA's bus requests do not grow with them.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::sla::{MenuCharge, MenuCharges};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{Billing, entity::tenant};

impl Billing {
    pub(crate) async fn menu_charges(
        &self,
        ctx: &CallCtx,
        req: MenuCharges,
    ) -> AppResult<Vec<MenuCharge>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden("for the platform's services"));
        }
        let m = req.month;
        let mut ids: Vec<String> = req.pairs.iter().map(|(t, _)| t.clone()).collect();
        ids.sort();
        ids.dedup();
        let mut tenants = Vec::new();
        for chunk in ids.chunks(1_000) {
            tenants.extend(
                tenant::Entity::find()
                    .filter(tenant::Column::Id.is_in(chunk.to_vec()))
                    .all(&self.db)
                    .await?,
            );
        }
        let until = Ord::min(m.end(), self.clock.now());
        let charges = self
            .rate_batched(ctx, &tenants, m, until, tenants.len().max(1))
            .await?;
        let specs: HashMap<String, (bool, Option<ecl_proto::billing::Currency>)> = self
            .menus_in(m)
            .await?
            .into_iter()
            .map(|(_, s)| (s.code, (s.sla_eligible, Some(s.currency))))
            .collect();
        Ok(req
            .pairs
            .into_iter()
            .map(|(tenant_id, menu_code)| {
                let amount: Decimal = charges.get(&tenant_id).map_or(Decimal::ZERO, |c| {
                    c.resources
                        .iter()
                        .filter(|r| r.menu.code == menu_code)
                        .map(|r| r.total())
                        .chain(
                            c.tenant_lines
                                .iter()
                                .filter(|t| t.menu.code == menu_code)
                                .map(|t| t.line.amount),
                        )
                        .sum()
                });
                let (eligible, currency) = specs.get(&menu_code).cloned().unwrap_or_default();
                MenuCharge {
                    tenant_id,
                    menu_code,
                    amount: amount.round_dp(6).to_string(),
                    currency,
                    sla_eligible: eligible,
                }
            })
            .collect())
    }
}
