//! A contract as the schema shows it (SPEC §1–§3): its own fields and the links a single query
//! walks — parent, children, users, tenants, workspaces, groups, keys, bills, credits and the
//! partner's commercial views. Every link delegates to its domain's batched loader.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use ecl_proto::contract::{self as proto, ContractView};

use super::{ContractFilter, contract_link};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::contract::ContractKind")]
pub enum ContractKind {
    Direct,
    Partner,
    Child,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::contract::ContractStatus")]
pub enum ContractStatus {
    Active,
    Abolished,
}

/// Customer information; visible to the contract's owner (and the parent's owner, and the operator).
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "CustomerInput")]
pub struct Customer {
    pub company: String,
    #[graphql(default)]
    pub address: String,
    #[graphql(default)]
    pub contact_name: String,
    pub contact_email: String,
}

impl From<Customer> for proto::Customer {
    fn from(c: Customer) -> Self {
        proto::Customer {
            company: c.company,
            address: c.address,
            contact_name: c.contact_name,
            contact_email: c.contact_email,
        }
    }
}

pub struct Contract(pub ContractView);

crate::connection!(ContractConnection, ContractEdge, Contract);

#[Object]
impl Contract {
    pub async fn id(&self) -> async_graphql::ID {
        self.0.id.clone().into()
    }
    async fn kind(&self) -> ContractKind {
        self.0.kind.into()
    }
    async fn parent_id(&self) -> Option<async_graphql::ID> {
        self.0.parent_id.clone().map(Into::into)
    }
    /// A child's partner contract (null for others, and for a child's own users, who never see
    /// their parent). Loaded for every contract on the page in one bus request.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contract>> {
        contract_link(ctx, self.0.parent_id.as_deref()).await
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn status(&self) -> ContractStatus {
        self.0.status.into()
    }
    /// Null unless the caller may see customer information.
    async fn customer(&self) -> Option<Customer> {
        self.0.customer.clone().map(|c| Customer {
            company: c.company,
            address: c.address,
            contact_name: c.contact_name,
            contact_email: c.contact_email,
        })
    }
    async fn owner_user_id(&self) -> Option<async_graphql::ID> {
        self.0.owner_user_id.clone().map(Into::into)
    }
    async fn created_at(&self) -> crate::schema::scalars::DateTime {
        self.0.created_at.into()
    }
    async fn abolished_at(&self) -> Option<crate::schema::scalars::DateTime> {
        self.0.abolished_at.map(Into::into)
    }
    /// Users of this contract (all for its owner/admins and the partner's; general users see
    /// themselves), loaded for every contract on the page in one bus request.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::schema::identity::UserFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::users::UserConnection> {
        crate::schema::users::users_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
            filter,
        )
        .await
    }
    /// Tenants of this contract (all for its owner/admins and the partner's), loaded for every
    /// contract on the page in one bus request.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::schema::tenant::TenantFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::tenant::TenantConnection> {
        crate::schema::tenant::tenants_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
            filter,
        )
        .await
    }
    /// Workspaces of this contract (the default one first), for its managers.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn workspaces(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::tenant::WorkspaceConnection> {
        crate::schema::tenant::workspaces_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
        )
        .await
    }
    /// Contract groups of a partner, for its owner and admins not restricted to groups.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::groups::ContractGroupConnection> {
        crate::schema::groups::groups_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
        )
        .await
    }
    /// API keys of this contract (its owner and admins, and the operator; empty for others).
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::api_keys::ApiKeyConnection> {
        crate::schema::api_keys::api_keys_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
        )
        .await
    }
    /// The bill of a month; a partner's includes its children's tenants. With `day`, the daily
    /// estimate: the month's charges up to the end of that day.
    async fn bill(
        &self,
        ctx: &Context<'_>,
        month: crate::schema::scalars::Month,
        day: Option<u32>,
    ) -> async_graphql::Result<Option<crate::schema::billing::Bill>> {
        crate::schema::billing::bill_of(ctx, &self.0.id, month, day).await
    }
    /// Bills, newest month first (24 months of history), loaded in one bus request per level.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn bills(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::billing::BillConnection> {
        let page = crate::schema::common::page_args(ctx, first, after, last, before);
        crate::schema::billing::bills_of(ctx, &self.0.id, page).await
    }
    /// Each tenant × menu with an incident in `month`: downtime, uptime, the credit
    /// it earns and the claim deadline (for those who see the contract's bills).
    async fn availability(
        &self,
        ctx: &Context<'_>,
        month: crate::schema::scalars::Month,
    ) -> async_graphql::Result<Vec<crate::schema::sla::Availability>> {
        crate::schema::sla::availability_of(ctx, &self.0.id, month).await
    }
    /// SLA claims filed for this contract.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn claims(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::sla::ClaimConnection> {
        crate::schema::sla::claims_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
        )
        .await
    }
    /// Service credits approved for this contract (each lands on a bill two months later).
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn credits(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::sla::CreditConnection> {
        crate::schema::sla::credits_of(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
        )
        .await
    }
    /// A partner's price rules, history included, newest first.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn price_rules(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::commercial::PriceRuleConnection> {
        let page = crate::schema::common::page_args(ctx, first, after, last, before);
        crate::schema::commercial::price_rules_of(ctx, &self.0.id, page).await
    }
    /// A child's bill of a month at its partner's prices, every line with its provenance.
    async fn end_user_bill(
        &self,
        ctx: &Context<'_>,
        month: crate::schema::scalars::Month,
    ) -> async_graphql::Result<Option<crate::schema::commercial::EndUserBill>> {
        crate::schema::commercial::end_user_bill_of(ctx, &self.0.id, month).await
    }
    /// A partner's wholesale cost, end-user price and margin per child for a month.
    async fn margins(
        &self,
        ctx: &Context<'_>,
        month: crate::schema::scalars::Month,
    ) -> async_graphql::Result<Vec<crate::schema::commercial::Margin>> {
        crate::schema::commercial::margins_of(ctx, &self.0.id, month).await
    }
    /// Coupons registered by this contract.
    async fn coupons(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::schema::commercial::CouponRegistration>> {
        crate::schema::commercial::coupons_of(ctx, &self.0.id).await
    }
    /// An agency's commission statements, newest month first.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn commissions(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::schema::commercial::CommissionStatementConnection> {
        let page = crate::schema::common::page_args(ctx, first, after, last, before);
        crate::schema::commercial::commissions_of(ctx, &self.0.id, page).await
    }
    /// Notice categories the partner suppressed for this child contract: its users neither
    /// receive them nor see the choice. Loaded for every contract on the page in one bus request.
    async fn suppressed_categories(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::schema::notification::NoticeCategory>> {
        crate::schema::notification::suppressed_of(ctx, &self.0.id).await
    }
    /// Child contracts of a partner (empty for others), loaded for every contract on the page in
    /// one bus request.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContractFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<ContractConnection> {
        let page = crate::schema::common::load_filtered_page::<proto::ListChildren>(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
            filter.unwrap_or_default().into(),
        )
        .await?;
        Ok(ContractConnection::from_page(page, Contract))
    }
}
