//! Sign-in and the current user.

use super::common::RequestState;
use async_graphql::{
    Context, Enum, InputObject, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::identity::{
    ConfirmTotp, DisableTotp, EnrollTotp, GetMe, GetUsers, RefreshSession, SignIn, SignInReply,
    SignOut, UserFilter as ProtoFilter, UserView, VerifyTfa,
};
use std::collections::HashMap;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_kernel::Role")]
pub enum Role {
    Operator,
    Owner,
    Admin,
    User,
}

/// Whether a user can sign in now.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::identity::UserStatus")]
pub enum UserStatus {
    Active,
    /// Locked for a while after repeated failed sign-ins.
    Locked,
}

/// Which users a list shows; every given field narrows it (all must match). Applied by the
/// identity service before pagination: pages and `totalCount` are those of the filtered list.
#[derive(InputObject, Default, Clone)]
pub struct UserFilter {
    /// `OWNER`, `ADMIN` or `USER` (operators belong to no contract).
    pub role: Option<Role>,
    /// A case-insensitive part of the login id or the e-mail address.
    pub search: Option<String>,
    pub status: Option<UserStatus>,
}

impl From<UserFilter> for ProtoFilter {
    fn from(f: UserFilter) -> Self {
        ProtoFilter {
            role: f.role.map(Into::into),
            search: f.search,
            status: f.status.map(Into::into),
        }
    }
}

pub struct User(pub UserView);

#[Object]
impl User {
    pub async fn id(&self) -> async_graphql::ID {
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
    async fn status(&self) -> UserStatus {
        self.0.status.into()
    }
    /// The contract the user belongs to (none for the provider's operators).
    async fn contract_id(&self) -> Option<async_graphql::ID> {
        self.0.contract_id.clone().map(Into::into)
    }
    /// The user's contract (null for operators, and when the caller may not see it). Loaded for
    /// every user on the page in one bus request.
    async fn contract(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::contract::Contract>> {
        super::contract::contract_link(ctx, self.0.contract_id.as_deref()).await
    }
    /// False when bills and usage are hidden from this admin.
    async fn can_view_usage(&self) -> bool {
        self.0.can_view_usage
    }
    /// Tenants this user may work in (for the user and for those who manage the user's contract),
    /// loaded for every user on the page in one bus request.
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
        super::tenant::tenants_of_user(
            ctx,
            &self.0.id,
            crate::schema::common::page_args(ctx, first, after, last, before),
            filter,
        )
        .await
    }
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
    /// Which notice categories this user receives (for the user, the managers of their contract
    /// and the operator; empty for others). A child's users do not see categories their partner
    /// suppressed. Loaded for every user on the page in one bus request.
    async fn notification_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::notification::NotificationPreference>> {
        super::notification::preferences_of(ctx, &self.0.id).await
    }
}

/// A user the caller may see, by id (`NOT_FOUND` for unknown and hidden ones alike).
pub async fn user_by_id(ctx: &Context<'_>, id: &str) -> async_graphql::Result<User> {
    user_link(ctx, id)
        .await?
        .ok_or_else(|| crate::errors::gql(AppError::not_found(format!("user {id}"))))
}

/// Users by id — `user(id)`, `node(id)`, `TenantGrant.user` — one `GetUsers` per query level.
/// Users the caller may not see are absent.
pub struct UserLoader(pub RequestState);

impl Loader<String> for UserLoader {
    type Value = UserView;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, UserView>, AppError> {
        let req = GetUsers {
            ids: ids.to_vec(),
            filter: Default::default(),
        };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect())
    }
}

/// The loaders of this file, put into every request.
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    req.data(
        DataLoader::new(UserLoader(state.clone()), state.gate.spawner()).delay(state.gate.delay()),
    )
}

/// The user `id` through the request's loader: null when absent or not visible.
pub async fn user_link(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<User>> {
    RequestState::of(ctx).require_auth()?;
    Ok(ctx
        .data_unchecked::<DataLoader<UserLoader>>()
        .load_one(id.to_string())
        .await
        .map_err(crate::errors::gql)?
        .map(User))
}

#[derive(SimpleObject)]
pub struct SignInPayload {
    /// Send as `Authorization: Bearer <accessToken>`. Null while a second factor is required.
    pub access_token: Option<String>,
    /// Single use: `refreshSession` exchanges it for new tokens (and a new refresh token).
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// True when the user has two-factor authentication: answer `challenge` with `verifyTfa`.
    pub tfa_required: bool,
    pub challenge: Option<String>,
}

impl From<SignInReply> for SignInPayload {
    fn from(r: SignInReply) -> Self {
        SignInPayload {
            access_token: r.access_token,
            refresh_token: r.refresh_token,
            expires_in: r.expires_in,
            tfa_required: r.tfa_required,
            challenge: r.challenge,
        }
    }
}

#[derive(SimpleObject)]
pub struct TotpEnrollment {
    /// Base32 secret, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://` URI (issuer and account set, as Google Authenticator shows them).
    pub otpauth_uri: String,
    /// The URI as a QR code (`data:image/png;base64,…`).
    pub qr_code: String,
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

    /// One user: themselves, or a user of a contract the caller manages. `NOT_FOUND` otherwise.
    async fn user(&self, ctx: &Context<'_>, id: async_graphql::ID) -> async_graphql::Result<User> {
        user_by_id(ctx, &id).await
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
        let s = RequestState::of(ctx);
        s.limit_sign_in().await?;
        Ok(s.call(&SignIn { login_id, password }).await?.into())
    }

    /// Second step of a two-factor sign-in: a current TOTP code (each accepted once) or an unused
    /// recovery code.
    async fn verify_tfa(
        &self,
        ctx: &Context<'_>,
        challenge: String,
        code: String,
    ) -> async_graphql::Result<SignInPayload> {
        // Code guessing is sign-in guessing: the same per-client bucket.
        let s = RequestState::of(ctx);
        s.limit_sign_in().await?;
        Ok(s.call(&VerifyTfa { challenge, code }).await?.into())
    }

    /// New tokens for a refresh token (rotated: the old one is spent; presenting a spent one
    /// again revokes the whole session).
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<SignInPayload> {
        Ok(RequestState::of(ctx)
            .call(&RefreshSession { refresh_token })
            .await?
            .into())
    }

    /// Ends this session: its refresh token and access tokens stop working.
    async fn sign_out(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let token = s.bearer.clone().unwrap_or_default();
        s.call(&SignOut {
            access_token: token.clone(),
        })
        .await?;
        let _ = s.cache.del(&crate::auth::cache_key(&token)).await;
        Ok(true)
    }

    /// Starts TOTP enrolment; two-factor sign-in is on once `confirmTotp` accepted a first code.
    async fn enroll_totp(&self, ctx: &Context<'_>) -> async_graphql::Result<TotpEnrollment> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let e = s.call(&EnrollTotp).await?;
        Ok(TotpEnrollment {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_code: e.qr_code,
        })
    }

    /// Confirms enrolment with a first code; returns ten one-time recovery codes, shown only now.
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Vec<String>> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        s.call(&ConfirmTotp { code }).await
    }

    /// Switches two-factor authentication off (needs a current code).
    async fn disable_totp(&self, ctx: &Context<'_>, code: String) -> async_graphql::Result<bool> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        s.call(&DisableTotp { code }).await?;
        Ok(true)
    }
}
