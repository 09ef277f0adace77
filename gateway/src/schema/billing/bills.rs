//! Bills (SPEC §6, seed 002): `Contract.bill(month, day)` and `Contract.bills`, the bill tree
//! in pre-order. Both batch a query level through DataLoaders: one `GetBills` per (month, day),
//! one `ListBills` per page shape, however many contracts the level holds.

use super::Currency;
use crate::errors::gql;
use crate::schema::{
    common::{PagedBatch, RequestState},
    scalars::{Decimal, Month},
};
use async_graphql::{
    Context, Enum, ID, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    billing::{self as proto, BillView, GetBills, ListBills},
};
use std::collections::HashMap;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::billing::BillStatus")]
pub enum BillStatus {
    Estimated,
    Fixed,
}

/// What a line of the bill tree is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::billing::BillLineKind")]
pub enum BillLineKind {
    /// Tier 1: the contract's total.
    Contract,
    /// Tier 2: a tenant's total.
    Tenant,
    Service,
    Category,
    Resource,
    Plan,
    /// Tier 7: one usage line (an interval of use at one plan).
    Usage,
    /// The part above a capped pattern's monthly cap, taken off.
    Cap,
    /// A free allowance taken off (`無料利用分`).
    Free,
    /// An SLA service credit taken off a tenant's amount (after coupons, before tax).
    SlaCredit,
    /// A bill-level adjustment: a coupon (after the prices, before SLA credits and tax) or an
    /// operator's correction of a fixed bill (`請求訂正`: after the credits, before tax).
    Adjustment,
    /// Tier 2: the consumption tax.
    Tax,
}

/// A node of the bill tree, in pre-order. Tier 1 contract total, 2 tenant (or tax), 3 service,
/// 4 category, 5 resource, 6 plan, 7 usage line — seed 002's tiers. Lines are values of their
/// bill (no `id` of their own): a client caches them with the bill.
#[derive(SimpleObject, Clone)]
pub struct BillLine {
    pub tier: u32,
    pub kind: BillLineKind,
    /// The legacy CSV's label (Japanese where it has one: `合計`, `テナント`, `無料利用分`…).
    pub label: String,
    /// The same label in English.
    pub label_en: String,
    pub detail: String,
    /// Displayed usage ("3739 Min").
    pub usage: String,
    /// 6 decimal places below the service tier, the currency's unit above.
    pub amount: Decimal,
    pub tenant_id: Option<ID>,
    pub resource_id: Option<ID>,
}

impl From<proto::BillLine> for BillLine {
    fn from(l: proto::BillLine) -> Self {
        BillLine {
            tier: l.tier,
            kind: l.kind.into(),
            label: l.label,
            label_en: l.label_en,
            detail: l.detail,
            usage: l.usage,
            amount: l.amount.into(),
            tenant_id: l.tenant_id.map(Into::into),
            resource_id: l.resource_id.map(Into::into),
        }
    }
}

pub(super) fn lines(ls: Vec<proto::BillLine>) -> async_graphql::Result<Vec<BillLine>> {
    Ok(ls.into_iter().map(Into::into).collect())
}

/// A contract's bill of a month (a partner's includes its children's tenants).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Bill {
    #[graphql(skip)]
    pub id: ID,
    pub contract_id: ID,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    /// Σ tenant totals, each rounded down to the currency's unit.
    pub subtotal: Decimal,
    /// The tax rate in percent (`"10"`).
    pub tax_percent: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    pub lines: Vec<BillLine>,
}

#[async_graphql::ComplexObject]
impl Bill {
    /// `bil_` + the contract id + `@` + the month: one bill per contract and month.
    pub async fn id(&self) -> ID {
        self.id.clone()
    }
}

/// The global id of a contract's bill of a month.
pub fn bill_id(contract_id: &str, month: ecl_kernel::Month) -> ID {
    ID(format!("bil_{contract_id}@{month}"))
}

impl Bill {
    pub fn try_from(b: BillView) -> async_graphql::Result<Bill> {
        Ok(Bill {
            id: bill_id(&b.contract_id, b.month),
            contract_id: b.contract_id.into(),
            month: b.month.into(),
            status: b.status.into(),
            currency: b.currency.into(),
            subtotal: b.subtotal.into(),
            tax_percent: b.tax_percent.into(),
            tax: b.tax.into(),
            total: b.total.into(),
            lines: lines(b.lines)?,
        })
    }
}

crate::connection!(BillConnection, BillEdge, Bill);

impl PagedBatch for ListBills {
    type Item = BillView;
    fn new(contract_ids: Vec<String>, page: PageArgs) -> Self {
        Self { contract_ids, page }
    }
}

/// `(contract id, month, day of a daily estimate)`.
type BillKey = (String, ecl_kernel::Month, Option<u32>);

/// Batches `Contract.bill(month, day)` of a query level into one `GetBills` per (month, day).
pub struct BillLoader(pub(super) RequestState);

impl Loader<BillKey> for BillLoader {
    type Value = BillView;
    type Error = AppError;

    async fn load(&self, keys: &[BillKey]) -> Result<HashMap<BillKey, BillView>, AppError> {
        let mut by_month: HashMap<(ecl_kernel::Month, Option<u32>), Vec<String>> = HashMap::new();
        for (id, m, day) in keys {
            by_month.entry((*m, *day)).or_default().push(id.clone());
        }
        let mut out = HashMap::new();
        for ((month, day), contract_ids) in by_month {
            let req = GetBills {
                contract_ids,
                month,
                day,
            };
            for b in self.0.bus.call(&self.0.call, &req).await? {
                out.insert((b.contract_id.clone(), b.month, day), b);
            }
        }
        Ok(out)
    }
}

/// `Contract.bill(month, day)`: null when the caller may not see it.
pub async fn bill_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: Month,
    day: Option<u32>,
) -> async_graphql::Result<Option<Bill>> {
    RequestState::of(ctx).require_auth()?;
    let month = ecl_kernel::Month::try_from(month).map_err(gql)?;
    let b = ctx
        .data_unchecked::<DataLoader<BillLoader>>()
        .load_one((contract_id.to_string(), month, day))
        .await
        .map_err(gql)?;
    b.map(Bill::try_from).transpose()
}

/// `Contract.bills(first, after)`: newest month first, 24 months back at most.
pub async fn bills_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<BillConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = crate::schema::common::load_page::<ListBills>(ctx, contract_id, page).await?;
    BillConnection::try_from_page(page, Bill::try_from)
}
