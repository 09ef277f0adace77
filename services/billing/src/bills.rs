//! Bills over the bus: a month's bill of each visible contract (stored once the month is closed,
//! else estimated), and each contract's bill history, newest first.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    Page,
    billing::{BillView, GetBills, ListBills},
    contract::ContractView,
    page::Cursor,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    Billing,
    bill::{Bill, BillStatus},
    bill_view::bill_view,
    entity::{closed_month, fixed_bill, tenant_month},
    month,
    rating::Month,
};

/// Months of history readable (seed 002: the past 24 months).
pub const HISTORY_MONTHS: usize = 24;

/// A month as a list cursor (the bill list is ordered by month, newest first).
fn month_cursor(m: Month) -> String {
    Cursor {
        created_at_us: 0,
        id: m.to_string(),
    }
    .encode()
}

impl Billing {
    pub(crate) async fn is_closed(&self, m: Month) -> AppResult<bool> {
        Ok(closed_month::Entity::find_by_id(m.to_string())
            .one(&self.db)
            .await?
            .is_some())
    }

    /// The bill of one (visible) contract for a month: the stored one once the month is closed,
    /// otherwise rated now.
    pub(crate) async fn bill(&self, ctx: &CallCtx, c: &ContractView, m: Month) -> AppResult<Bill> {
        if m > self.current_month() {
            return Err(AppError::invalid("month", format!("{m} has not begun")));
        }
        let row = Self::contract_row(c);
        if self.is_closed(m).await? {
            if let Some(f) = fixed_bill::Entity::find_by_id(format!("{}|{m}", c.id))
                .one(&self.db)
                .await?
            {
                return serde_json::from_str(&f.body).map_err(AppError::internal);
            }
            return self.build(&row, &[], &HashMap::new(), m, BillStatus::Fixed);
        }
        let tenants = self.billed_tenants(&c.id).await?;
        let charges = self.rate(ctx, &tenants, m, self.clock.now()).await?;
        self.build(&row, &tenants, &charges, m, BillStatus::Estimated)
    }

    pub(crate) async fn get_bills(&self, ctx: &CallCtx, req: GetBills) -> AppResult<Vec<BillView>> {
        let m = month("month", &req.month)?;
        let mut out = Vec::new();
        for c in self.visible(ctx, req.contract_ids).await? {
            let bill = match req.day {
                None => self.bill(ctx, &c, m).await?,
                Some(day) => self.daily(ctx, &c, m, day).await?,
            };
            out.push(bill_view(&bill));
        }
        Ok(out)
    }

    /// Months listed for a contract, newest first: the current month, then back to the first
    /// month with usage, at most [`HISTORY_MONTHS`] in all.
    pub(crate) async fn months_of(&self, contract_id: &str) -> AppResult<Vec<Month>> {
        let tenant_ids: Vec<String> = self
            .billed_tenants(contract_id)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        let first = tenant_month::Entity::find()
            .filter(tenant_month::Column::TenantId.is_in(tenant_ids))
            .order_by_asc(tenant_month::Column::Month)
            .one(&self.db)
            .await?
            .and_then(|r| Month::parse(&r.month).ok());
        let mut m = self.current_month();
        let mut out = vec![m];
        while out.len() < HISTORY_MONTHS && first.is_some_and(|f| m > f) {
            m = m.prev();
            out.push(m);
        }
        Ok(out)
    }

    pub(crate) async fn list_bills(
        &self,
        ctx: &CallCtx,
        req: ListBills,
    ) -> AppResult<Vec<(String, Page<BillView>)>> {
        let limit = req.page.limit()? as usize;
        let after = req
            .page
            .after_key()?
            .map(|c| month("after", &c.id))
            .transpose()?;
        let visible = self.visible(ctx, req.contract_ids.clone()).await?;
        let mut out = Vec::with_capacity(req.contract_ids.len());
        for id in req.contract_ids {
            let Some(c) = visible.iter().find(|c| c.id == id) else {
                out.push((id, Page::empty()));
                continue;
            };
            let months = self.months_of(&c.id).await?;
            let total = months.len() as u64;
            let rest: Vec<Month> = months
                .into_iter()
                .filter(|m| after.is_none_or(|a| *m < a))
                .collect();
            let mut edges = Vec::new();
            for m in rest.iter().take(limit) {
                edges.push((month_cursor(*m), bill_view(&self.bill(ctx, c, *m).await?)));
            }
            out.push((
                id,
                Page {
                    edges,
                    has_next_page: rest.len() > limit,
                    total_count: total,
                },
            ));
        }
        Ok(out)
    }
}
