//! Users of a contract.

use super::{
    common::RequestState,
    identity::{Role, User},
};
use async_graphql::{Context, ID, InputObject, Object};
use ecl_proto::{
    PageArgs,
    identity::{ChangePassword, CreateUser, DeleteUser, ListUsers, UpdateUser},
};

crate::connection!(UserConnection, UserEdge, User);

#[derive(InputObject)]
pub struct UserInput {
    pub login_id: String,
    pub email: String,
    pub password: String,
    /// `ADMIN` or `USER` (the owner is created with the contract).
    pub role: Role,
}

#[derive(InputObject, Default)]
pub struct UpdateUserInput {
    pub email: Option<String>,
    pub role: Option<Role>,
    /// Hide bills and usage from this admin.
    pub can_view_usage: Option<bool>,
}

/// `Contract.users`, resolved through the request's batching loader.
pub async fn users_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
    filter: Option<super::identity::UserFilter>,
) -> async_graphql::Result<UserConnection> {
    let filter = filter.unwrap_or_default().into();
    let page =
        super::common::load_filtered_page::<ListUsers>(ctx, contract_id, page, filter).await?;
    Ok(UserConnection::from_page(page, User))
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// A user in a contract: its owner/admins, or the partner's owner/admins for a child.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        input: UserInput,
    ) -> async_graphql::Result<User> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = CreateUser {
            contract_id: contract_id.to_string(),
            login_id: input.login_id,
            email: input.email,
            password: input.password,
            role: input.role.into(),
        };
        Ok(User(s.call(&req).await?))
    }

    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = UpdateUser {
            id: id.to_string(),
            email: input.email,
            role: input.role.map(Into::into),
            can_view_usage: input.can_view_usage,
        };
        Ok(User(s.call(&req).await?))
    }

    /// Deletes a user (not the owner); their sessions end.
    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<super::common::DeletePayload> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        s.call(&DeleteUser {
            user_id: id.to_string(),
        })
        .await?;
        Ok(super::common::DeletePayload::of(id.0))
    }

    /// The caller's own password (the current one is required); ends every session of the user.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        old_password: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        s.call(&ChangePassword {
            old_password,
            new_password,
        })
        .await?;
        if let Some(t) = &s.bearer {
            let _ = s.cache.del(&crate::auth::cache_key(t)).await;
        }
        Ok(true)
    }
}
