//! A contract's life (SPEC §1): partner, direct and child contracts created with their owner
//! accounts, updated, and abolished (refused while tenants remain unless forced).

use crate::schema::common::RequestState;
use async_graphql::{Context, InputObject, Object};
use ecl_proto::contract::{self as proto, AbolishContract, CreateContract, UpdateContract};

use super::{Contract, Customer};

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
        crate::schema::commercial::check_referral(ctx, referred_by.as_ref()).await?;
        let c = s
            .call(&create(proto::ContractKind::Direct, None, input))
            .await?;
        crate::schema::commercial::record_referral(ctx, referred_by.as_ref(), &c).await?;
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
