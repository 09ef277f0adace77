//! What partners earn and charge: price rules, end-user bills and margins, what a child's users
//! see, coupons, agencies and their commission statements, tax settings. Resolvers are thin: each
//! calls one billing operation, which decides who may do what.

use super::common::RequestState;
use super::contract::{Contract, ContractInput};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use ecl_proto::{
    PageArgs,
    commercial::{
        self as proto, CouponRegistrationView, CouponView, CreateCoupon, EndPriceRule,
        EndUserBillView, GetEndUserBills, GetMargins, ListCommissions, ListCoupons, ListPriceRules,
        PriceRuleView, RegisterCoupon, SetAgreement, SetChildBillVisibility, SetPriceRule,
        SetReferral, SetTaxSetting,
    },
    contract::ContractKind,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::PriceRuleKind")]
pub enum PriceRuleKind {
    Markup,
    Discount,
    Fixed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::PriceRuleScope")]
pub enum PriceRuleScope {
    All,
    Category,
    Menu,
}

/// What a child contract's own users see of its bills.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::ChildBillView")]
pub enum ChildBillView {
    EndUser,
    None,
    Wholesale,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::CouponKind")]
pub enum CouponKind {
    Amount,
    Percent,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::TaxKind")]
pub enum TaxKind {
    Rate,
    Exempt,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::CommissionKind")]
pub enum CommissionKind {
    Commission,
    Clawback,
}

// ---- price rules --------------------------------------------------------------------------------

/// A price rule: MARKUP / DISCOUNT by `percent`, or FIXED `unitPrice` (and `cap`) for `plan` of
/// the menu `scopeValue`. In force from `effectiveFrom` (`YYYY-MM`, this month or later).
#[derive(InputObject)]
pub struct PriceRuleInput {
    /// Null: every child of the partner.
    pub child_id: Option<ID>,
    pub scope: PriceRuleScope,
    /// The category (CATEGORY) or menu code (MENU).
    pub scope_value: Option<String>,
    pub kind: PriceRuleKind,
    pub percent: Option<String>,
    pub plan: Option<String>,
    pub unit_price: Option<String>,
    pub cap: Option<String>,
    pub effective_from: String,
}

#[derive(SimpleObject)]
pub struct PriceRule {
    pub id: ID,
    pub partner_id: ID,
    pub child_id: Option<ID>,
    pub scope: PriceRuleScope,
    pub scope_value: Option<String>,
    pub kind: PriceRuleKind,
    pub percent: Option<String>,
    pub plan: Option<String>,
    pub unit_price: Option<String>,
    pub cap: Option<String>,
    pub effective_from: String,
    /// Null while in force with no end.
    pub last_month: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
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
            percent: r.percent,
            plan: r.plan,
            unit_price: r.unit_price,
            cap: r.cap,
            effective_from: r.effective_from,
            last_month: r.last_month,
            created_at: r.created_at,
        }
    }
}

crate::connection!(PriceRuleConnection, PriceRuleEdge, PriceRule);

// ---- end-user bills -----------------------------------------------------------------------------

/// A node of the end-user bill (the tiers of `BillLine`), and for a charge line its provenance.
#[derive(SimpleObject)]
pub struct EndUserBillLine {
    pub tier: u32,
    pub kind: String,
    pub label: String,
    pub detail: String,
    pub usage: String,
    pub amount: String,
    pub tenant_id: Option<String>,
    pub resource_id: Option<String>,
    /// The rule that priced the line (null: the wholesale price).
    pub rule_id: Option<ID>,
    pub rule_kind: Option<PriceRuleKind>,
    /// The same line at wholesale prices (charge lines only).
    pub wholesale_amount: Option<String>,
}

/// A child's bill at the prices its partner set.
#[derive(SimpleObject)]
pub struct EndUserBill {
    pub contract_id: ID,
    pub partner_id: ID,
    pub month: String,
    pub status: super::billing::BillStatus,
    pub currency: String,
    /// The child's part of the partner's bill, before tax.
    pub wholesale_subtotal: String,
    pub subtotal: String,
    pub tax_percent: String,
    pub tax: String,
    pub total: String,
    pub lines: Vec<EndUserBillLine>,
}

impl From<EndUserBillView> for EndUserBill {
    fn from(b: EndUserBillView) -> Self {
        EndUserBill {
            contract_id: b.contract_id.into(),
            partner_id: b.partner_id.into(),
            month: b.month,
            status: b.status.into(),
            currency: b.currency,
            wholesale_subtotal: b.wholesale_subtotal,
            subtotal: b.subtotal,
            tax_percent: b.tax_percent,
            tax: b.tax,
            total: b.total,
            lines: b
                .lines
                .into_iter()
                .map(|l| EndUserBillLine {
                    tier: l.tier,
                    kind: l.kind,
                    label: l.label,
                    detail: l.detail,
                    usage: l.usage,
                    amount: l.amount,
                    tenant_id: l.tenant_id,
                    resource_id: l.resource_id,
                    rule_id: l.rule_id.map(Into::into),
                    rule_kind: l.rule_kind.map(Into::into),
                    wholesale_amount: l.wholesale_amount,
                })
                .collect(),
        }
    }
}

/// What a partner earns on one child in a month, before tax.
#[derive(SimpleObject)]
pub struct Margin {
    pub child_id: ID,
    pub month: String,
    pub currency: String,
    pub wholesale: String,
    pub end_user: String,
    pub margin: String,
}

#[derive(SimpleObject)]
pub struct ChildBillVisibility {
    pub child_id: ID,
    pub view: ChildBillView,
}

// ---- coupons ------------------------------------------------------------------------------------

/// A coupon: AMOUNT (`amount` in `currency`) or PERCENT (`percent`) off, for `months` months from
/// the month after registration, optionally limited to menus or categories.
#[derive(InputObject)]
pub struct CouponInput {
    /// Exactly 12 characters of A–Z and 0–9.
    pub code: String,
    pub kind: CouponKind,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub percent: Option<String>,
    pub months: u32,
    #[graphql(default)]
    pub menus: Vec<String>,
    #[graphql(default)]
    pub categories: Vec<String>,
    /// Registrations from this instant on are refused.
    pub register_until: Option<chrono::DateTime<chrono::Utc>>,
    #[graphql(default)]
    pub reusable: bool,
}

#[derive(SimpleObject)]
pub struct Coupon {
    pub code: String,
    pub kind: CouponKind,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub percent: Option<String>,
    pub months: u32,
    pub menus: Vec<String>,
    pub categories: Vec<String>,
    pub register_until: Option<chrono::DateTime<chrono::Utc>>,
    pub reusable: bool,
}

impl From<CouponView> for Coupon {
    fn from(c: CouponView) -> Self {
        Coupon {
            code: c.code,
            kind: c.kind.into(),
            amount: c.amount,
            currency: c.currency,
            percent: c.percent,
            months: c.months,
            menus: c.menus,
            categories: c.categories,
            register_until: c.register_until,
            reusable: c.reusable,
        }
    }
}

/// A contract's registered coupon and the months it applies to.
#[derive(SimpleObject)]
pub struct CouponRegistration {
    pub contract_id: ID,
    pub coupon: Coupon,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    pub first_month: String,
    pub last_month: String,
}

impl From<CouponRegistrationView> for CouponRegistration {
    fn from(r: CouponRegistrationView) -> Self {
        CouponRegistration {
            contract_id: r.contract_id.into(),
            coupon: r.coupon.into(),
            registered_at: r.registered_at,
            first_month: r.first_month,
            last_month: r.last_month,
        }
    }
}

// ---- tax ----------------------------------------------------------------------------------------

/// A non-JPY contract's tax: a RATE (`percent`) or EXEMPT. `currency` is the contract's billing
/// currency (JPY contracts follow the consumption-tax table and are refused).
#[derive(InputObject)]
pub struct TaxSettingInput {
    pub currency: String,
    pub kind: TaxKind,
    pub percent: Option<String>,
}

#[derive(SimpleObject)]
pub struct TaxSetting {
    pub contract_id: ID,
    pub kind: TaxKind,
    pub percent: Option<String>,
}

// ---- agencies -----------------------------------------------------------------------------------

/// An agency contract and its agreement.
#[derive(InputObject)]
pub struct AgencyInput {
    pub contract: ContractInput,
    /// Commission, percent of each referred FIXED bill's total before tax.
    pub rate_percent: String,
    /// Months of each referral that earn a commission; null = all.
    pub months_per_referral: Option<u32>,
}

#[derive(SimpleObject)]
pub struct Agreement {
    pub agency_id: ID,
    pub rate_percent: String,
    pub months_per_referral: Option<u32>,
}

#[derive(SimpleObject)]
pub struct Agency {
    pub contract: Contract,
    pub agreement: Agreement,
}

/// A referred contract's line: its name and amounts only.
#[derive(SimpleObject)]
pub struct CommissionLine {
    pub kind: CommissionKind,
    pub contract_id: ID,
    pub contract_name: String,
    pub bill_month: String,
    pub currency: String,
    /// The pre-tax total commissioned (for a clawback: its change).
    pub base: String,
    pub commission: String,
}

#[derive(SimpleObject)]
pub struct CommissionTotal {
    pub currency: String,
    pub amount: String,
}

#[derive(SimpleObject)]
pub struct CommissionStatement {
    pub agency_id: ID,
    pub month: String,
    pub rate_percent: String,
    pub lines: Vec<CommissionLine>,
    pub totals: Vec<CommissionTotal>,
}

impl From<proto::CommissionStatementView> for CommissionStatement {
    fn from(s: proto::CommissionStatementView) -> Self {
        CommissionStatement {
            agency_id: s.agency_id.into(),
            month: s.month,
            rate_percent: s.rate_percent,
            lines: s
                .lines
                .into_iter()
                .map(|l| CommissionLine {
                    kind: l.kind.into(),
                    contract_id: l.contract_id.into(),
                    contract_name: l.contract_name,
                    bill_month: l.bill_month,
                    currency: l.currency,
                    base: l.base,
                    commission: l.commission,
                })
                .collect(),
            totals: s
                .totals
                .into_iter()
                .map(|(currency, amount)| CommissionTotal { currency, amount })
                .collect(),
        }
    }
}

crate::connection!(
    CommissionStatementConnection,
    CommissionStatementEdge,
    CommissionStatement
);

// ---- Contract fields (called from `Contract`) ---------------------------------------------------

/// `Contract.priceRules(first, after)`: a partner's rules, history included.
pub async fn price_rules_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<PriceRuleConnection> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
    let mut pages = s
        .call(&ListPriceRules {
            contract_ids: vec![contract_id.to_string()],
            page,
        })
        .await?;
    let page = pages
        .pop()
        .map(|(_, p)| p)
        .unwrap_or_else(ecl_proto::Page::empty);
    Ok(PriceRuleConnection::from_page(page, PriceRule::from))
}

/// `Contract.endUserBill(month)`: null when the caller may not see it.
pub async fn end_user_bill_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: String,
) -> async_graphql::Result<Option<EndUserBill>> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
    let bills = s
        .call(&GetEndUserBills {
            contract_ids: vec![contract_id.to_string()],
            month,
        })
        .await?;
    Ok(bills.into_iter().next().map(Into::into))
}

/// `Contract.margins(month)`: per child of a partner.
pub async fn margins_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: String,
) -> async_graphql::Result<Vec<Margin>> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
    let margins = s
        .call(&GetMargins {
            partner_id: contract_id.to_string(),
            month,
        })
        .await?;
    Ok(margins
        .into_iter()
        .map(|m| Margin {
            child_id: m.child_id.into(),
            month: m.month,
            currency: m.currency,
            wholesale: m.wholesale,
            end_user: m.end_user,
            margin: m.margin,
        })
        .collect())
}

/// `Contract.coupons`: the coupons the contract registered.
pub async fn coupons_of(
    ctx: &Context<'_>,
    contract_id: &str,
) -> async_graphql::Result<Vec<CouponRegistration>> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
    let lists = s
        .call(&ListCoupons {
            contract_ids: vec![contract_id.to_string()],
        })
        .await?;
    Ok(lists
        .into_iter()
        .flat_map(|(_, l)| l)
        .map(Into::into)
        .collect())
}

/// `Contract.commissions(first, after)`: an agency's statements, newest first.
pub async fn commissions_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<CommissionStatementConnection> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
    let mut pages = s
        .call(&ListCommissions {
            contract_ids: vec![contract_id.to_string()],
            page,
        })
        .await?;
    let page = pages
        .pop()
        .map(|(_, p)| p)
        .unwrap_or_else(ecl_proto::Page::empty);
    Ok(CommissionStatementConnection::from_page(
        page,
        CommissionStatement::from,
    ))
}

/// Checks, before a direct contract is created, that the agency it is referred by exists (so a
/// bad `referredBy` creates nothing); [`record_referral`] records it after.
pub async fn check_referral(
    ctx: &Context<'_>,
    referred_by: Option<&ID>,
) -> async_graphql::Result<()> {
    if let Some(agency) = referred_by {
        RequestState::of(ctx)
            .call(&SetReferral {
                contract_id: None,
                contract_name: String::new(),
                agency_id: agency.to_string(),
            })
            .await?;
    }
    Ok(())
}

pub async fn record_referral(
    ctx: &Context<'_>,
    referred_by: Option<&ID>,
    contract: &ecl_proto::contract::ContractView,
) -> async_graphql::Result<()> {
    if let Some(agency) = referred_by {
        RequestState::of(ctx)
            .call(&SetReferral {
                contract_id: Some(contract.id.clone()),
                contract_name: contract.name.clone(),
                agency_id: agency.to_string(),
            })
            .await?;
    }
    Ok(())
}

// ---- mutations ----------------------------------------------------------------------------------

#[derive(Default)]
pub struct CommercialMutation;

#[Object]
impl CommercialMutation {
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
            partner_id: partner_id.to_string(),
            input: proto::PriceRuleInput {
                child_id: input.child_id.map(|c| c.to_string()),
                scope: input.scope.into(),
                scope_value: input.scope_value,
                kind: input.kind.into(),
                percent: input.percent,
                plan: input.plan,
                unit_price: input.unit_price,
                cap: input.cap,
                effective_from: input.effective_from,
            },
        };
        Ok(s.call(&req).await?.into())
    }

    /// Ends a price rule after `lastMonth` (this month or later).
    async fn end_price_rule(
        &self,
        ctx: &Context<'_>,
        id: ID,
        last_month: String,
    ) -> async_graphql::Result<PriceRule> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(s.call(&EndPriceRule {
            id: id.to_string(),
            last_month,
        })
        .await?
        .into())
    }

    /// What a child's own users see of its bills (the partner's owner and admins).
    async fn set_child_bill_visibility(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        view: ChildBillView,
    ) -> async_graphql::Result<ChildBillVisibility> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let v = s
            .call(&SetChildBillVisibility {
                child_id: child_id.to_string(),
                view: view.into(),
            })
            .await?;
        Ok(ChildBillVisibility {
            child_id: v.child_id.into(),
            view: v.view.into(),
        })
    }

    /// Defines a coupon (operators).
    async fn create_coupon(
        &self,
        ctx: &Context<'_>,
        input: CouponInput,
    ) -> async_graphql::Result<Coupon> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = CreateCoupon {
            input: proto::CouponInput {
                code: input.code,
                kind: input.kind.into(),
                amount: input.amount,
                currency: input.currency,
                percent: input.percent,
                months: input.months,
                menus: input.menus,
                categories: input.categories,
                register_until: input.register_until,
                reusable: input.reusable,
            },
        };
        Ok(s.call(&req).await?.into())
    }

    /// Registers a coupon code for a contract (its owner): it applies from next month.
    async fn register_coupon(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        code: String,
    ) -> async_graphql::Result<CouponRegistration> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(s.call(&RegisterCoupon {
            contract_id: contract_id.to_string(),
            code,
        })
        .await?
        .into())
    }

    /// An agency contract and its agreement (operators).
    async fn create_agency(
        &self,
        ctx: &Context<'_>,
        input: AgencyInput,
    ) -> async_graphql::Result<Agency> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        if !s.call.principal.is_operator() {
            return Err(crate::errors::gql(ecl_kernel::AppError::forbidden(
                "only operators create agencies",
            )));
        }
        let terms = SetAgreement {
            agency_id: None,
            rate_percent: input.rate_percent,
            months_per_referral: input.months_per_referral,
        };
        // the terms first: bad terms create no contract
        s.call(&terms).await?;
        let contract = s
            .call(&super::contract::create(
                ContractKind::Direct,
                None,
                input.contract,
            ))
            .await?;
        let a = s
            .call(&SetAgreement {
                agency_id: Some(contract.id.clone()),
                ..terms
            })
            .await?;
        Ok(Agency {
            contract: Contract(contract),
            agreement: Agreement {
                agency_id: a.agency_id.into(),
                rate_percent: a.rate_percent,
                months_per_referral: a.months_per_referral,
            },
        })
    }

    /// A non-JPY contract's tax setting (operators).
    async fn set_tax_setting(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        input: TaxSettingInput,
    ) -> async_graphql::Result<TaxSetting> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let t = s
            .call(&SetTaxSetting {
                contract_id: contract_id.to_string(),
                currency: input.currency,
                kind: input.kind.into(),
                percent: input.percent,
            })
            .await?;
        Ok(TaxSetting {
            contract_id: t.contract_id.into(),
            kind: t.kind.into(),
            percent: t.percent,
        })
    }
}
