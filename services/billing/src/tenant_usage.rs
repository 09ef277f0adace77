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
    estimate::USAGE_BATCH_READ,
    month,
    rating::Month,
};
use ecl_proto::contract::ContractView;

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
        let own_of = |c: &ContractView| -> Vec<tenant::Model> {
            tenants
                .iter()
                .filter(|t| t.contract_id == c.id)
                .cloned()
                .collect()
        };
        // The whole batch at once: the stored bills of a closed month, or every tenant asked
        // for rated in one go (one usage request, whatever the number of contracts).
        let bills = if self.is_closed(m).await? {
            let pairs: Vec<(&ContractView, Month)> = visible.iter().map(|c| (c, m)).collect();
            self.bills_for(ctx, &pairs).await?
        } else {
            let asked: Vec<tenant::Model> = visible.iter().flat_map(own_of).collect();
            let charges = self
                .rate_batched(ctx, &asked, m, self.clock.now(), USAGE_BATCH_READ)
                .await?;
            let mut bills = Vec::with_capacity(visible.len());
            for c in &visible {
                // The contract's own bill (not a partner's roll-up): its tenants' parts.
                let tax = self.tax_setting_of(&c.id).await?;
                bills.push(self.build(
                    &Self::contract_row(c),
                    &own_of(c),
                    &charges,
                    m,
                    BillStatus::Estimated,
                    tax,
                )?);
            }
            bills
        };
        let mut out = Vec::new();
        for (c, bill) in visible.iter().zip(bills) {
            let own = own_of(c);
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
