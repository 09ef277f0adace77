//! A tenant's usage of a month: its part of its own contract's bill (not a partner's roll-up),
//! at the prices its caller is shown that bill at (a child's own users: by default their
//! partner's end-user prices, or nothing; [`crate::commercial::serve::Shown`]).

use std::collections::BTreeSet;

use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::billing::{GetTenantUsage, TenantUsageView};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    Billing,
    bill::{Bill, BillStatus},
    bill_view::{lines_of, status_of},
    commercial::serve::Shown,
    entity::tenant,
    estimate::USAGE_BATCH_READ,
    rating::Month,
};
use ecl_proto::contract::ContractView;

impl Billing {
    pub(crate) async fn tenant_usage(
        &self,
        ctx: &CallCtx,
        req: GetTenantUsage,
    ) -> AppResult<Vec<TenantUsageView>> {
        let m = req.month;
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
        // A child's own users see their tenants' usage as they see its bill: at end-user prices
        // by default, not at all when their partner shows them nothing. A month not begun has no
        // usage at any price.
        let shown = self.shown_for(ctx, &visible).await?;
        let begun = m <= self.current_month();
        let shown_as = |c: &ContractView| match shown.get(&c.id).copied() {
            Some(Shown::EndUser) if !begun => Shown::Wholesale,
            s => s.unwrap_or(Shown::Wholesale),
        };
        let wholesale: Vec<&ContractView> = visible
            .iter()
            .filter(|c| shown_as(c) == Shown::Wholesale)
            .collect();
        let end_user: Vec<&ContractView> = visible
            .iter()
            .filter(|c| shown_as(c) == Shown::EndUser)
            .collect();
        let own_of = |c: &ContractView| -> Vec<tenant::Model> {
            tenants
                .iter()
                .filter(|t| t.contract_id == c.id)
                .cloned()
                .collect()
        };
        let mut billed: Vec<(&ContractView, Bill)> = wholesale
            .iter()
            .copied()
            .zip(self.wholesale_parts(ctx, &wholesale, &own_of, m).await?)
            .collect();
        if !end_user.is_empty() {
            let rows = self.end_user_bills_for(ctx, &end_user, m).await?;
            billed.extend(
                end_user
                    .iter()
                    .copied()
                    .zip(rows.into_iter().map(|r| r.end_user)),
            );
        }
        let mut out = Vec::new();
        for (c, bill) in billed {
            let lines = lines_of(&bill);
            for t in &own_of(c) {
                let part = bill.tenants.iter().find(|b| b.tenant.tenant_id == t.id);
                out.push(TenantUsageView {
                    tenant_id: t.id.clone(),
                    month: m,
                    status: status_of(bill.header.status),
                    currency: bill.header.currency.into(),
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

    /// The contracts' own wholesale bills (not a partner's roll-up), the whole batch at once: the
    /// stored bills of a closed month, or every tenant asked for rated in one go (one usage
    /// request, whatever the number of contracts).
    async fn wholesale_parts(
        &self,
        ctx: &CallCtx,
        contracts: &[&ContractView],
        own_of: &impl Fn(&ContractView) -> Vec<tenant::Model>,
        m: Month,
    ) -> AppResult<Vec<Bill>> {
        if contracts.is_empty() {
            return Ok(Vec::new());
        }
        if self.is_closed(m).await? {
            let pairs: Vec<(&ContractView, Month)> = contracts.iter().map(|c| (*c, m)).collect();
            return self.bills_for(ctx, &pairs).await;
        }
        let asked: Vec<tenant::Model> = contracts.iter().flat_map(|c| own_of(c)).collect();
        let charges = self
            .rate_batched(ctx, &asked, m, self.clock.now(), USAGE_BATCH_READ)
            .await?;
        let mut bills = Vec::with_capacity(contracts.len());
        for c in contracts {
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
        Ok(bills)
    }
}
