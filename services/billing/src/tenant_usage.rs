//! A tenant's usage of a month: its part of its own contract's bill (not a partner's roll-up).

use std::collections::BTreeSet;

use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::billing::{GetTenantUsage, TenantUsageView};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    Billing,
    bill::BillStatus,
    bill_view::{lines_of, status_of},
    entity::tenant,
    month,
};

impl Billing {
    pub(crate) async fn tenant_usage(
        &self,
        ctx: &CallCtx,
        req: GetTenantUsage,
    ) -> AppResult<Vec<TenantUsageView>> {
        let m = month("month", &req.month)?;
        let tenants = tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(req.tenant_ids.clone()))
            .all(&self.db)
            .await?;
        let contract_ids: Vec<String> = tenants
            .iter()
            .map(|t| t.contract_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let visible = self.visible(ctx, contract_ids).await?;
        let mut out = Vec::new();
        for c in &visible {
            let own: Vec<tenant::Model> = tenants
                .iter()
                .filter(|t| t.contract_id == c.id)
                .cloned()
                .collect();
            // The contract's own bill (not a partner's roll-up): its tenants' parts.
            let bill = if self.is_closed(m).await? {
                self.bill(ctx, c, m).await?
            } else {
                let charges = self.rate(ctx, &own, m, self.clock.now()).await?;
                self.build(
                    &Self::contract_row(c),
                    &own,
                    &charges,
                    m,
                    BillStatus::Estimated,
                )?
            };
            let lines = lines_of(&bill);
            for t in &own {
                let part = bill.tenants.iter().find(|b| b.tenant.tenant_id == t.id);
                out.push(TenantUsageView {
                    tenant_id: t.id.clone(),
                    month: m.to_string(),
                    status: status_of(bill.header.status),
                    currency: bill.header.currency.code().to_string(),
                    exact_amount: part.map_or(Decimal::ZERO, |p| p.exact_amount).to_string(),
                    total: part
                        .map_or(bill.header.currency.round_down(Decimal::ZERO), |p| p.total)
                        .to_string(),
                    lines: lines
                        .iter()
                        .filter(|l| l.tenant_id.as_deref() == Some(t.id.as_str()))
                        .cloned()
                        .collect(),
                });
            }
        }
        Ok(out)
    }
}
