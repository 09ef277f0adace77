//! A tenant's charges of a month (`Tenant.usage`), batched per month through a DataLoader; what
//! the caller sees follows the child's bill visibility (the billing service decides).

use super::Currency;
use super::bills::{BillLine, BillStatus, lines};
use crate::errors::gql;
use crate::schema::{
    common::RequestState,
    scalars::{Decimal, Month},
};
use async_graphql::{
    Context, ID, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::billing::{GetTenantUsage, TenantUsageView};
use std::collections::HashMap;

#[async_graphql::ComplexObject]
impl TenantUsage {
    /// `usg_` + the tenant id + `@` + the month.
    pub async fn id(&self) -> ID {
        self.id.clone()
    }
}

/// A tenant's charges of a month.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TenantUsage {
    #[graphql(skip)]
    pub id: ID,
    pub tenant_id: ID,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    /// Sum of its lines, 6 decimal places.
    pub exact_amount: Decimal,
    /// Rounded down to the currency's unit.
    pub total: Decimal,
    pub lines: Vec<BillLine>,
}

/// The global id of a tenant's usage of a month.
pub fn usage_id(tenant_id: &str, month: ecl_kernel::Month) -> ID {
    ID(format!("usg_{tenant_id}@{month}"))
}

impl TenantUsage {
    pub fn try_from(u: TenantUsageView) -> async_graphql::Result<TenantUsage> {
        Ok(TenantUsage {
            id: usage_id(&u.tenant_id, u.month),
            tenant_id: u.tenant_id.into(),
            month: u.month.into(),
            status: u.status.into(),
            currency: u.currency.into(),
            exact_amount: u.exact_amount.into(),
            total: u.total.into(),
            lines: lines(u.lines)?,
        })
    }
}

/// `(tenant id, month)`.
type MonthKey = (String, ecl_kernel::Month);

/// Batches `Tenant.usage(month)` of a query level into one `GetTenantUsage` per month.
pub struct UsageLoader(pub(super) RequestState);

impl Loader<MonthKey> for UsageLoader {
    type Value = TenantUsageView;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MonthKey],
    ) -> Result<HashMap<MonthKey, TenantUsageView>, AppError> {
        let mut by_month: HashMap<ecl_kernel::Month, Vec<String>> = HashMap::new();
        for (id, m) in keys {
            by_month.entry(*m).or_default().push(id.clone());
        }
        let mut out = HashMap::new();
        for (month, tenant_ids) in by_month {
            let req = GetTenantUsage { tenant_ids, month };
            for u in self.0.bus.call(&self.0.call, &req).await? {
                out.insert((u.tenant_id.clone(), u.month), u);
            }
        }
        Ok(out)
    }
}

/// `Tenant.usage(month)`: null when the caller may not see it.
pub async fn usage_of(
    ctx: &Context<'_>,
    tenant_id: &str,
    month: Month,
) -> async_graphql::Result<Option<TenantUsage>> {
    RequestState::of(ctx).require_auth()?;
    let month = ecl_kernel::Month::try_from(month).map_err(gql)?;
    let u = ctx
        .data_unchecked::<DataLoader<UsageLoader>>()
        .load_one((tenant_id.to_string(), month))
        .await
        .map_err(gql)?;
    u.map(TenantUsage::try_from).transpose()
}
