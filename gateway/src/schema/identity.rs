//! Sign-in and the current user.

use super::common::RequestState;
use async_graphql::{Context, Enum, Object, SimpleObject};
use ecl_proto::identity::{GetMe, SignIn, UserView};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_kernel::Role")]
pub enum Role {
    Operator,
    Owner,
    Admin,
    User,
}

pub struct User(pub UserView);

#[Object]
impl User {
    async fn id(&self) -> async_graphql::ID {
        self.0.id.clone().into()
    }
    async fn login_id(&self) -> &str {
        &self.0.login_id
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The contract the user belongs to (none for the provider's operators).
    async fn contract_id(&self) -> Option<async_graphql::ID> {
        self.0.contract_id.clone().map(Into::into)
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
}

#[derive(SimpleObject)]
pub struct SignInPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        Ok(User(s.call(&GetMe).await?))
    }
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Password sign-in. Failures never say whether the login id exists.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        login_id: String,
        password: String,
    ) -> async_graphql::Result<SignInPayload> {
        let r = RequestState::of(ctx)
            .call(&SignIn { login_id, password })
            .await?;
        Ok(SignInPayload {
            access_token: r.access_token,
            expires_in: r.expires_in,
        })
    }
}
