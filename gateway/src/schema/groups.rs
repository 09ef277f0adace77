//! Contract groups: a partner's children put together, and parent users assigned to them.

use super::common::RequestState;
use async_graphql::{Context, ID, Object};
use ecl_proto::{
    PageArgs,
    contract::{
        ContractGroupView, CreateContractGroup, ListContractGroups, SetGroupChild, SetGroupUser,
    },
};

pub struct ContractGroup(pub ContractGroupView);

crate::connection!(ContractGroupConnection, ContractGroupEdge, ContractGroup);

#[Object]
impl ContractGroup {
    async fn id(&self) -> ID {
        self.0.id.clone().into()
    }
    async fn partner_id(&self) -> ID {
        self.0.partner_id.clone().into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The child contracts in the group.
    async fn child_ids(&self) -> Vec<ID> {
        self.0.child_ids.iter().cloned().map(ID::from).collect()
    }
    /// The parent users assigned to it: each manages only the children of their groups.
    async fn user_ids(&self) -> Vec<ID> {
        self.0.user_ids.iter().cloned().map(ID::from).collect()
    }
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
}

/// `Contract.groups`, through the batching loader.
pub async fn groups_of(
    ctx: &Context<'_>,
    partner_id: &str,
    page: PageArgs,
) -> async_graphql::Result<ContractGroupConnection> {
    let page = super::common::load_page::<ListContractGroups>(ctx, partner_id, page).await?;
    Ok(ContractGroupConnection::from_page(page, ContractGroup))
}

#[derive(Default)]
pub struct GroupMutation;

/// Group management: the partner's owner and its admins not restricted to groups (and the
/// operator). Every change is idempotent.
#[Object]
impl GroupMutation {
    async fn create_contract_group(
        &self,
        ctx: &Context<'_>,
        partner_id: ID,
        name: String,
    ) -> async_graphql::Result<ContractGroup> {
        let req = CreateContractGroup {
            partner_id: partner_id.to_string(),
            name,
        };
        call(ctx, &req).await
    }

    async fn add_child_to_group(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        contract_id: ID,
    ) -> async_graphql::Result<ContractGroup> {
        child(ctx, group_id, contract_id, true).await
    }

    async fn remove_child_from_group(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        contract_id: ID,
    ) -> async_graphql::Result<ContractGroup> {
        child(ctx, group_id, contract_id, false).await
    }

    /// From now on the user (an admin or general user of the partner) manages only the children
    /// of the groups they are assigned to.
    async fn assign_user_to_group(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<ContractGroup> {
        user(ctx, group_id, user_id, true).await
    }

    async fn unassign_user_from_group(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<ContractGroup> {
        user(ctx, group_id, user_id, false).await
    }
}

async fn call<C>(ctx: &Context<'_>, req: &C) -> async_graphql::Result<ContractGroup>
where
    C: ecl_proto::Call<Reply = ContractGroupView>,
{
    let s = RequestState::of(ctx);
    s.require_auth()?;
    Ok(ContractGroup(s.call(req).await?))
}

async fn child(
    ctx: &Context<'_>,
    group_id: ID,
    contract_id: ID,
    member: bool,
) -> async_graphql::Result<ContractGroup> {
    let req = SetGroupChild {
        group_id: group_id.to_string(),
        contract_id: contract_id.to_string(),
        member,
    };
    call(ctx, &req).await
}

async fn user(
    ctx: &Context<'_>,
    group_id: ID,
    user_id: ID,
    member: bool,
) -> async_graphql::Result<ContractGroup> {
    let req = SetGroupUser {
        group_id: group_id.to_string(),
        user_id: user_id.to_string(),
        member,
    };
    call(ctx, &req).await
}
