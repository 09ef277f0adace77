//! A child's bill at its partner's prices (`Contract.endUserBill`), what the partner earns on it
//! (`Contract.margins`), and what the child's own users see (`setChildBillVisibility`).

use std::collections::HashMap;

use async_graphql::{
    Context, Enum, ID, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::commercial::{
    EndUserBillView, EndUserLine, GetEndUserBills, GetMargins, MarginView, SetChildBillVisibility,
};

use super::price_rules::PriceRuleKind;
use crate::errors::gql;
use crate::schema::billing::{BillLineKind, BillStatus, Currency};
use crate::schema::common::RequestState;
use crate::schema::scalars::{Decimal, Month};

/// What a child contract's own users see of its bills (`Contract.bill`, `Contract.bills`, the
/// CSV exports). The partner and the operator see the wholesale bill as `bill` and the end-user
/// bill as `endUserBill` whatever is chosen.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::ChildBillView")]
pub enum ChildBillView {
    /// The bill at the partner's prices (default).
    EndUser,
    /// No bill: `bill` is null, `bills` empty, an export is refused with `FORBIDDEN`.
    None,
    /// The bill at the provider's prices (rarely: the partner shows its cost).
    Wholesale,
}

/// A node of the end-user bill (the tiers of `BillLine`), and for a charge line its provenance.
#[derive(SimpleObject)]
pub struct EndUserBillLine {
    pub tier: u32,
    pub kind: BillLineKind,
    pub label: String,
    pub detail: String,
    pub usage: String,
    pub amount: Decimal,
    pub tenant_id: Option<ID>,
    pub resource_id: Option<ID>,
    /// The rule that priced the line (null: the wholesale price).
    pub rule_id: Option<ID>,
    pub rule_kind: Option<PriceRuleKind>,
    /// The same line at wholesale prices (charge lines only).
    pub wholesale_amount: Option<Decimal>,
}

impl From<EndUserLine> for EndUserBillLine {
    fn from(l: EndUserLine) -> Self {
        EndUserBillLine {
            tier: l.tier,
            kind: l.kind.into(),
            label: l.label,
            detail: l.detail,
            usage: l.usage,
            amount: l.amount.into(),
            tenant_id: l.tenant_id.map(Into::into),
            resource_id: l.resource_id.map(Into::into),
            rule_id: l.rule_id.map(Into::into),
            rule_kind: l.rule_kind.map(Into::into),
            wholesale_amount: l.wholesale_amount.map(Into::into),
        }
    }
}

/// A child's bill at the prices its partner set, its coupons taken off before tax.
#[derive(SimpleObject)]
pub struct EndUserBill {
    pub contract_id: ID,
    pub partner_id: ID,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    /// The child's part of the partner's bill, before tax; null for the child's own users (they
    /// see no wholesale amount, and no rule or wholesale amount on the lines either).
    pub wholesale_subtotal: Option<Decimal>,
    pub subtotal: Decimal,
    pub tax_percent: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    pub lines: Vec<EndUserBillLine>,
}

impl EndUserBill {
    fn try_from(b: EndUserBillView) -> async_graphql::Result<Self> {
        Ok(EndUserBill {
            contract_id: b.contract_id.into(),
            partner_id: b.partner_id.into(),
            month: b.month.into(),
            status: b.status.into(),
            currency: b.currency.into(),
            wholesale_subtotal: b.wholesale_subtotal.map(Into::into),
            subtotal: b.subtotal.into(),
            tax_percent: b.tax_percent.into(),
            tax: b.tax.into(),
            total: b.total.into(),
            lines: b.lines.into_iter().map(Into::into).collect(),
        })
    }
}

/// What a partner earns on one child in a month, before tax.
#[derive(SimpleObject)]
pub struct Margin {
    pub child_id: ID,
    pub month: Month,
    pub currency: Currency,
    pub wholesale: Decimal,
    pub end_user: Decimal,
    pub margin: Decimal,
}

impl Margin {
    fn try_from(m: MarginView) -> async_graphql::Result<Self> {
        Ok(Margin {
            child_id: m.child_id.into(),
            month: m.month.into(),
            currency: m.currency.into(),
            wholesale: m.wholesale.into(),
            end_user: m.end_user.into(),
            margin: m.margin.into(),
        })
    }
}

#[derive(SimpleObject)]
pub struct ChildBillVisibility {
    pub child_id: ID,
    pub view: ChildBillView,
}

/// `(contract id, month)`.
type MonthKey = (String, ecl_kernel::Month);

/// Groups keys by month: one request per month of the query level.
fn by_month(keys: &[MonthKey]) -> HashMap<ecl_kernel::Month, Vec<String>> {
    let mut out: HashMap<ecl_kernel::Month, Vec<String>> = HashMap::new();
    for (id, m) in keys {
        out.entry(*m).or_default().push(id.clone());
    }
    out
}

/// Batches `Contract.endUserBill(month)` into one `GetEndUserBills` per month.
pub struct EndUserBillLoader(pub RequestState);

impl Loader<MonthKey> for EndUserBillLoader {
    type Value = EndUserBillView;
    type Error = AppError;

    async fn load(&self, keys: &[MonthKey]) -> Result<HashMap<MonthKey, Self::Value>, AppError> {
        let mut out = HashMap::new();
        for (month, contract_ids) in by_month(keys) {
            let req = GetEndUserBills {
                contract_ids,
                month,
            };
            for b in self.0.bus.call(&self.0.call, &req).await? {
                out.insert((b.contract_id.clone(), b.month), b);
            }
        }
        Ok(out)
    }
}

/// Batches `Contract.margins(month)` into one `GetMargins` per month.
pub struct MarginLoader(pub RequestState);

impl Loader<MonthKey> for MarginLoader {
    type Value = Vec<MarginView>;
    type Error = AppError;

    async fn load(&self, keys: &[MonthKey]) -> Result<HashMap<MonthKey, Self::Value>, AppError> {
        let mut out = HashMap::new();
        for (month, partner_ids) in by_month(keys) {
            let req = GetMargins { partner_ids, month };
            for (partner, margins) in self.0.bus.call(&self.0.call, &req).await? {
                out.insert((partner, month), margins);
            }
        }
        Ok(out)
    }
}

/// `Contract.endUserBill(month)`: null when the caller may not see it.
pub async fn end_user_bill_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: Month,
) -> async_graphql::Result<Option<EndUserBill>> {
    RequestState::of(ctx).require_auth()?;
    let month = ecl_kernel::Month::try_from(month).map_err(gql)?;
    let b = ctx
        .data_unchecked::<DataLoader<EndUserBillLoader>>()
        .load_one((contract_id.to_string(), month))
        .await
        .map_err(gql)?;
    b.map(EndUserBill::try_from).transpose()
}

/// `Contract.margins(month)`: per child of a partner the caller manages; empty otherwise.
pub async fn margins_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: Month,
) -> async_graphql::Result<Vec<Margin>> {
    RequestState::of(ctx).require_auth()?;
    let month = ecl_kernel::Month::try_from(month).map_err(gql)?;
    let margins = ctx
        .data_unchecked::<DataLoader<MarginLoader>>()
        .load_one((contract_id.to_string(), month))
        .await
        .map_err(gql)?;
    margins
        .unwrap_or_default()
        .into_iter()
        .map(Margin::try_from)
        .collect()
}

#[derive(Default)]
pub struct VisibilityMutation;

#[Object]
impl VisibilityMutation {
    /// What a child's own users see of its bills (the partner's owner and admins).
    async fn set_child_bill_visibility(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        view: ChildBillView,
    ) -> async_graphql::Result<ChildBillVisibility> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SetChildBillVisibility {
            child_id: child_id.0,
            view: view.into(),
        };
        let v = s.call(&req).await?;
        Ok(ChildBillVisibility {
            child_id: v.child_id.into(),
            view: v.view.into(),
        })
    }
}
