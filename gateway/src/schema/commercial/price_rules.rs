//! A partner's price rules: `setPriceRule`, `endPriceRule`, `Contract.priceRules`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use ecl_proto::{
    PageArgs,
    commercial::{self as proto, EndPriceRule, ListPriceRules, PriceRuleView, SetPriceRule},
};

use crate::errors::gql;
use crate::schema::common::{PagedBatch, RequestState, load_page};
use crate::schema::scalars::{DateTime, Decimal, Month};
use ecl_kernel::AppError;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::PriceRuleKind")]
pub enum PriceRuleKind {
    /// The wholesale price raised by `percent`.
    Markup,
    /// The wholesale price lowered by `percent`.
    Discount,
    /// A plan's own unit price (and cap).
    Fixed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::PriceRuleScope")]
pub enum PriceRuleScope {
    /// The whole price list.
    All,
    /// A menu category (`scopeValue`).
    Category,
    /// One menu (`scopeValue` = its code).
    Menu,
}

/// A price rule: MARKUP / DISCOUNT by `percent`, or FIXED `unitPrice` (and `cap`) for `plan` of
/// the menu `scopeValue`. In force from `effectiveFrom` (this month or later).
#[derive(InputObject)]
pub struct PriceRuleInput {
    /// Null: every child of the partner.
    pub child_id: Option<ID>,
    pub scope: PriceRuleScope,
    /// The category (CATEGORY) or menu code (MENU).
    pub scope_value: Option<String>,
    pub kind: PriceRuleKind,
    /// MARKUP / DISCOUNT: 0–100.
    pub percent: Option<Decimal>,
    pub plan: Option<String>,
    pub unit_price: Option<Decimal>,
    pub cap: Option<Decimal>,
    pub effective_from: Month,
}

impl TryFrom<PriceRuleInput> for proto::PriceRuleInput {
    type Error = AppError;
    /// `INVALID_INPUT` on `effectiveFrom` for a month the scalar let through but no service
    /// bills (before 1970), as the billing service said when it parsed the text.
    fn try_from(i: PriceRuleInput) -> Result<Self, AppError> {
        Ok(proto::PriceRuleInput {
            child_id: i.child_id.map(|c| c.0),
            scope: i.scope.into(),
            scope_value: i.scope_value,
            kind: i.kind.into(),
            percent: i.percent.map(Into::into),
            plan: i.plan,
            unit_price: i.unit_price.map(Into::into),
            cap: i.cap.map(Into::into),
            effective_from: ecl_kernel::Month::parse_as("effectiveFrom", &i.effective_from.0)?,
        })
    }
}

#[derive(SimpleObject)]
pub struct PriceRule {
    pub id: ID,
    pub partner_id: ID,
    pub child_id: Option<ID>,
    pub scope: PriceRuleScope,
    pub scope_value: Option<String>,
    pub kind: PriceRuleKind,
    pub percent: Option<Decimal>,
    pub plan: Option<String>,
    pub unit_price: Option<Decimal>,
    pub cap: Option<Decimal>,
    pub effective_from: Month,
    /// Null while in force with no end.
    pub last_month: Option<Month>,
    pub created_at: DateTime,
}

impl From<PriceRuleView> for PriceRule {
    fn from(r: PriceRuleView) -> Self {
        PriceRule {
            id: r.id.into(),
            partner_id: r.partner_id.into(),
            child_id: r.child_id.map(Into::into),
            scope: r.scope.into(),
            scope_value: r.scope_value,
            kind: r.kind.into(),
            percent: r.percent.map(Into::into),
            plan: r.plan,
            unit_price: r.unit_price.map(Into::into),
            cap: r.cap.map(Into::into),
            effective_from: r.effective_from.into(),
            last_month: r.last_month.map(Into::into),
            created_at: r.created_at.into(),
        }
    }
}

crate::connection!(PriceRuleConnection, PriceRuleEdge, PriceRule);

impl PagedBatch for ListPriceRules {
    type Item = PriceRuleView;
    fn new(contract_ids: Vec<String>, page: PageArgs) -> Self {
        Self { contract_ids, page }
    }
}

/// `Contract.priceRules(first, after)`: a partner's rules, history included (one request for
/// every contract of the query level).
pub async fn price_rules_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<PriceRuleConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = load_page::<ListPriceRules>(ctx, contract_id, page).await?;
    Ok(PriceRuleConnection::from_page(page, PriceRule::from))
}

#[derive(Default)]
pub struct PriceRuleMutation;

#[Object]
impl PriceRuleMutation {
    /// Sets a price rule of a partner (its owner and admins; a child rule within their contract
    /// groups). A rule with the same scope ends the month before this one starts.
    async fn set_price_rule(
        &self,
        ctx: &Context<'_>,
        partner_id: ID,
        input: PriceRuleInput,
    ) -> async_graphql::Result<PriceRule> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SetPriceRule {
            partner_id: partner_id.0,
            input: input.try_into().map_err(gql)?,
        };
        Ok(s.call(&req).await?.into())
    }

    /// Ends a price rule after `lastMonth` (this month or later).
    async fn end_price_rule(
        &self,
        ctx: &Context<'_>,
        id: ID,
        last_month: Month,
    ) -> async_graphql::Result<PriceRule> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = EndPriceRule {
            id: id.0,
            last_month: ecl_kernel::Month::parse_as("lastMonth", &last_month.0).map_err(gql)?,
        };
        Ok(s.call(&req).await?.into())
    }
}
