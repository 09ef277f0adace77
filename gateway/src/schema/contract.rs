//! Contracts: the partner tree's root objects.

use super::common::RequestState;
use crate::errors::gql;
use async_graphql::{
    Context, Enum, InputObject, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    contract::{
        self as proto, AbolishContract, ContractFilter as ProtoFilter, ContractView,
        CreateContract, GetContract, ListChildren, SearchContracts, UpdateContract,
    },
};
use std::collections::HashMap;

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

#[derive(InputObject)]
pub struct OwnerInput {
    pub login_id: String,
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct ContractInput {
    pub name: String,
    /// The partner's own management number (for a child) or the provider's (15 digits).
    pub external_id: Option<String>,
    pub customer: Customer,
    /// The contract's owner (representative) account, created with the contract.
    pub owner: OwnerInput,
    /// `createDirectContract` only: the agency contract that referred this customer.
    pub referred_by: Option<async_graphql::ID>,
}

#[derive(InputObject, Default)]
pub struct UpdateContractInput {
    pub name: Option<String>,
    /// An empty string clears it.
    pub external_id: Option<String>,
    pub customer: Option<Customer>,
}

#[derive(InputObject, Default, Clone)]
pub struct ContractFilter {
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub status: Option<ContractStatus>,
    pub kind: Option<ContractKind>,
    pub created_from: Option<super::scalars::DateTime>,
    pub created_to: Option<super::scalars::DateTime>,
}

impl From<ContractFilter> for ProtoFilter {
    fn from(f: ContractFilter) -> Self {
        ProtoFilter {
            name: f.name,
            external_id: f.external_id,
            status: f.status.map(Into::into),
            kind: f.kind.map(Into::into),
            created_from: f.created_from.map(Into::into),
            created_to: f.created_to.map(Into::into),
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
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
    async fn abolished_at(&self) -> Option<super::scalars::DateTime> {
        self.0.abolished_at.map(Into::into)
    }
    /// Users of this contract (all for its owner/admins and the partner's; general users see
    /// themselves), loaded for every contract on the page in one bus request.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<super::identity::UserFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<super::users::UserConnection> {
        super::users::users_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
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
        filter: Option<super::tenant::TenantFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<super::tenant::TenantConnection> {
        super::tenant::tenants_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
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
    ) -> async_graphql::Result<super::tenant::WorkspaceConnection> {
        super::tenant::workspaces_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
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
    ) -> async_graphql::Result<super::groups::ContractGroupConnection> {
        super::groups::groups_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
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
    ) -> async_graphql::Result<super::api_keys::ApiKeyConnection> {
        super::api_keys::api_keys_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }
    /// The bill of a month; a partner's includes its children's tenants. With `day`, the daily
    /// estimate: the month's charges up to the end of that day.
    async fn bill(
        &self,
        ctx: &Context<'_>,
        month: super::scalars::Month,
        day: Option<u32>,
    ) -> async_graphql::Result<Option<super::billing::Bill>> {
        super::billing::bill_of(ctx, &self.0.id, month, day).await
    }
    /// Bills, newest month first (24 months of history), loaded in one bus request per level.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity")]
    async fn bills(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
    ) -> async_graphql::Result<super::billing::BillConnection> {
        super::billing::bills_of(ctx, &self.0.id, PageArgs::forward(first, after)).await
    }
    /// Each tenant × menu with an incident in `month`: downtime, uptime, the credit
    /// it earns and the claim deadline (for those who see the contract's bills).
    async fn availability(
        &self,
        ctx: &Context<'_>,
        month: super::scalars::Month,
    ) -> async_graphql::Result<Vec<super::sla::Availability>> {
        super::sla::availability_of(ctx, &self.0.id, month).await
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
    ) -> async_graphql::Result<super::sla::ClaimConnection> {
        super::sla::claims_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
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
    ) -> async_graphql::Result<super::sla::CreditConnection> {
        super::sla::credits_of(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }
    /// A partner's price rules, history included, newest first.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity")]
    async fn price_rules(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
    ) -> async_graphql::Result<super::commercial::PriceRuleConnection> {
        super::commercial::price_rules_of(ctx, &self.0.id, PageArgs::forward(first, after)).await
    }
    /// A child's bill of a month at its partner's prices, every line with its provenance.
    async fn end_user_bill(
        &self,
        ctx: &Context<'_>,
        month: super::scalars::Month,
    ) -> async_graphql::Result<Option<super::commercial::EndUserBill>> {
        super::commercial::end_user_bill_of(ctx, &self.0.id, month).await
    }
    /// A partner's wholesale cost, end-user price and margin per child for a month.
    async fn margins(
        &self,
        ctx: &Context<'_>,
        month: super::scalars::Month,
    ) -> async_graphql::Result<Vec<super::commercial::Margin>> {
        super::commercial::margins_of(ctx, &self.0.id, month).await
    }
    /// Coupons registered by this contract.
    async fn coupons(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::commercial::CouponRegistration>> {
        super::commercial::coupons_of(ctx, &self.0.id).await
    }
    /// An agency's commission statements, newest month first.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity")]
    async fn commissions(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
    ) -> async_graphql::Result<super::commercial::CommissionStatementConnection> {
        super::commercial::commissions_of(ctx, &self.0.id, PageArgs::forward(first, after)).await
    }
    /// Notice categories the partner suppressed for this child contract: its users neither
    /// receive them nor see the choice. Loaded for every contract on the page in one bus request.
    async fn suppressed_categories(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::notification::NoticeCategory>> {
        super::notification::suppressed_of(ctx, &self.0.id).await
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
        let key = ChildrenKey {
            parent_id: self.0.id.clone(),
            filter: filter.unwrap_or_default().into(),
            page: PageArgs {
                first,
                after,
                last,
                before,
            },
        };
        let page = ctx
            .data_unchecked::<DataLoader<ChildrenLoader>>()
            .load_one(key)
            .await
            .map_err(gql)?;
        Ok(ContractConnection::from_page(
            page.unwrap_or_else(ecl_proto::Page::empty),
            Contract,
        ))
    }
}

/// Contracts by id — `Contract.parent`, `Tenant.contract`, `User.contract` — one `GetContracts`
/// per query level. Ids the caller may not see are absent (the link is null).
pub struct ContractLoader(pub RequestState);

impl Loader<String> for ContractLoader {
    type Value = ContractView;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, ContractView>, AppError> {
        let req = ecl_proto::contract::GetContracts { ids: ids.to_vec() };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect())
    }
}

/// The contract `id` through the request's loader: null when absent or not visible.
pub async fn contract_link(
    ctx: &Context<'_>,
    id: Option<&str>,
) -> async_graphql::Result<Option<Contract>> {
    let Some(id) = id else { return Ok(None) };
    RequestState::of(ctx).require_auth()?;
    Ok(ctx
        .data_unchecked::<DataLoader<ContractLoader>>()
        .load_one(id.to_string())
        .await
        .map_err(gql)?
        .map(Contract))
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChildrenKey {
    parent_id: String,
    filter: ProtoFilter,
    page: PageArgs,
}

/// Batches `children` of many contracts into one `ListChildren` request per distinct
/// (filter, page) — in practice one per level of the query.
pub struct ChildrenLoader(pub RequestState);

impl Loader<ChildrenKey> for ChildrenLoader {
    type Value = ecl_proto::Page<ContractView>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ChildrenKey],
    ) -> Result<HashMap<ChildrenKey, Self::Value>, AppError> {
        let mut groups: HashMap<(ProtoFilter, PageArgs), Vec<String>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.filter.clone(), k.page.clone()))
                .or_default()
                .push(k.parent_id.clone());
        }
        let mut out = HashMap::new();
        for ((filter, page), parent_ids) in groups {
            let req = ListChildren {
                parent_ids,
                filter: filter.clone(),
                page: page.clone(),
            };
            for (parent_id, p) in self.0.bus.call(&self.0.call, &req).await? {
                out.insert(
                    ChildrenKey {
                        parent_id,
                        filter: filter.clone(),
                        page: page.clone(),
                    },
                    p,
                );
            }
        }
        Ok(out)
    }
}

#[derive(Default)]
pub struct ContractQuery;

#[Object]
impl ContractQuery {
    /// One contract. `NOT_FOUND` also for contracts outside the caller's tree.
    async fn contract(
        &self,
        ctx: &Context<'_>,
        id: async_graphql::ID,
    ) -> async_graphql::Result<Contract> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(Contract(s.call(&GetContract { id: id.to_string() }).await?))
    }

    /// Contracts the caller may see: all for the operator; one's own and, for partner owners and
    /// admins, its children.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContractFilter>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<ContractConnection> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let page = s
            .call(&SearchContracts {
                filter: filter.unwrap_or_default().into(),
                page: PageArgs {
                    first,
                    after,
                    last,
                    before,
                },
            })
            .await?;
        Ok(ContractConnection::from_page(page, Contract))
    }
}

#[derive(Default)]
pub struct ContractMutation;

pub(crate) fn create(
    kind: proto::ContractKind,
    parent_id: Option<String>,
    input: ContractInput,
) -> CreateContract {
    CreateContract {
        kind,
        parent_id,
        name: input.name,
        external_id: input.external_id,
        customer: input.customer.into(),
        owner: proto::OwnerInput {
            login_id: input.owner.login_id,
            email: input.owner.email,
            password: input.owner.password,
        },
    }
}

#[Object]
impl ContractMutation {
    /// Operator only: a partner (reseller) parent contract and its owner account.
    async fn create_partner_contract(
        &self,
        ctx: &Context<'_>,
        input: ContractInput,
    ) -> async_graphql::Result<Contract> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(Contract(
            s.call(&create(proto::ContractKind::Partner, None, input))
                .await?,
        ))
    }

    /// Operator only: a direct contract and its owner account.
    async fn create_direct_contract(
        &self,
        ctx: &Context<'_>,
        input: ContractInput,
    ) -> async_graphql::Result<Contract> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let referred_by = input.referred_by.clone();
        super::commercial::check_referral(ctx, referred_by.as_ref()).await?;
        let c = s
            .call(&create(proto::ContractKind::Direct, None, input))
            .await?;
        super::commercial::record_referral(ctx, referred_by.as_ref(), &c).await?;
        Ok(Contract(c))
    }

    /// The partner's owner and admins: a child contract under `parentId` and its owner account.
    async fn create_child_contract(
        &self,
        ctx: &Context<'_>,
        parent_id: async_graphql::ID,
        input: ContractInput,
    ) -> async_graphql::Result<Contract> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(Contract(
            s.call(&create(
                proto::ContractKind::Child,
                Some(parent_id.to_string()),
                input,
            ))
            .await?,
        ))
    }

    async fn update_contract(
        &self,
        ctx: &Context<'_>,
        id: async_graphql::ID,
        input: UpdateContractInput,
    ) -> async_graphql::Result<Contract> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = UpdateContract {
            id: id.to_string(),
            name: input.name,
            external_id: input.external_id,
            customer: input.customer.map(Into::into),
        };
        Ok(Contract(s.call(&req).await?))
    }

    /// Abolishes a contract. Refused (`CONFLICT`) while it still has tenants, unless `force`, which
    /// deletes them and revokes the contract's users. Bills and history are kept.
    async fn abolish_contract(
        &self,
        ctx: &Context<'_>,
        id: async_graphql::ID,
        force: Option<bool>,
    ) -> async_graphql::Result<Contract> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(Contract(
            s.call(&AbolishContract {
                id: id.to_string(),
                force: force.unwrap_or(false),
            })
            .await?,
        ))
    }
}
