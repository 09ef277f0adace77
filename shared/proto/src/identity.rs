//! Identity service: users, sign-in, token verification.

use crate::{Page, PageArgs, call, event};
use chrono::{DateTime, Utc};
use ecl_kernel::{Principal, Role, Scope};
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "identity";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub contract_id: Option<String>,
    pub login_id: String,
    pub email: String,
    pub role: Role,
    /// When false, this admin does not see bills and usage.
    pub can_view_usage: bool,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub status: UserStatus,
}

/// Whether a listed user can sign in now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    #[default]
    Active,
    /// Locked for a while after repeated failed sign-ins (SPEC §1).
    Locked,
}

/// Which users a list shows: each given field narrows it (all must match).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserFilter {
    pub role: Option<Role>,
    /// A case-insensitive part of the login id or the e-mail address.
    pub search: Option<String>,
    pub status: Option<UserStatus>,
}

impl UserFilter {
    /// Whether it narrows nothing.
    pub fn is_empty(&self) -> bool {
        self == &UserFilter::default()
    }
}

/// Password sign-in. Anonymous callers only need this.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignIn {
    pub login_id: String,
    pub password: String,
}

/// Either tokens, or — for a user with two-factor authentication — a challenge to answer with
/// [`VerifyTfa`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInReply {
    pub access_token: Option<String>,
    /// Exchange for new tokens with [`RefreshSession`]; single use (rotated).
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub tfa_required: bool,
    pub challenge: Option<String>,
}
call!(SignIn => SignInReply, "identity", "identity.sign_in.v1");

/// Turns a bearer token into the principal it stands for (the gateway caches the answer briefly).
/// Fails with `UNAUTHENTICATED` for a bad signature, `alg: none`, an expired token or a user that no
/// longer exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Authenticate {
    pub token: String,
}
call!(Authenticate => Principal, "identity", "identity.authenticate.v1");

/// Creates a user in a contract. Used by the contract service for a new contract's owner (caller is
/// the contract service acting for the original principal).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateUser {
    pub contract_id: String,
    pub login_id: String,
    pub email: String,
    pub password: String,
    pub role: Role,
}
call!(CreateUser => UserView, "identity", "identity.create_user.v1", key: Scope(Users, Write));

/// [`CreateUser`]'s checks of a new user's login id, e-mail and password, storing nothing: contract
/// creation asks it when its own fields are bad, so the form learns the owner's mistakes too.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckNewUser {
    pub login_id: String,
    pub email: String,
    pub password: String,
}
call!(CheckNewUser => (), "identity", "identity.check_new_user.v1", key: Scope(Users, Write));

/// Removes a user outright; the compensation step when contract creation fails after its owner was
/// made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteUser {
    pub user_id: String,
}
call!(DeleteUser => (), "identity", "identity.delete_user.v1", key: Scope(Users, Write));

/// The caller's own user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetMe;
call!(GetMe => UserView, "identity", "identity.me.v1");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserCreated {
    pub user: UserView,
}
event!(UserCreated, "identity.user_created");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserDeleted {
    pub user_id: String,
    pub contract_id: Option<String>,
}
event!(UserDeleted, "identity.user_deleted");

/// Second step of a two-factor sign-in: the challenge from [`SignIn`] and a TOTP code or an unused
/// recovery code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyTfa {
    pub challenge: String,
    pub code: String,
}
call!(VerifyTfa => SignInReply, "identity", "identity.verify_tfa.v1");

/// Starts TOTP enrolment for the caller (TFA stays off until confirmed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollTotp;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TotpEnrollment {
    /// Base32 secret, for typing into an authenticator.
    pub secret: String,
    /// `otpauth://totp/ECL:<login>?secret=…&issuer=ECL…` for authenticator apps.
    pub otpauth_uri: String,
    /// The same URI as a QR code, `data:image/png;base64,…`.
    pub qr_code: String,
}
call!(EnrollTotp => TotpEnrollment, "identity", "identity.enroll_totp.v1");

/// Confirms enrolment with a first code; switches TFA on and returns ten one-time recovery codes
/// (shown this once, stored hashed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfirmTotp {
    pub code: String,
}
call!(ConfirmTotp => Vec<String>, "identity", "identity.confirm_totp.v1");

/// Switches TFA off (needs a current code).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisableTotp {
    pub code: String,
}
call!(DisableTotp => (), "identity", "identity.disable_totp.v1");

/// New tokens for a refresh token. Each refresh token works once; presenting a used one again
/// revokes its whole family (someone copied it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshSession {
    pub refresh_token: String,
}
call!(RefreshSession => SignInReply, "identity", "identity.refresh.v1");

/// Ends the session of `access_token` (the caller's own): its refresh-token family and every
/// access token issued with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignOut {
    pub access_token: String,
}
call!(SignOut => (), "identity", "identity.sign_out.v1");

/// Changes a user's e-mail, role (not to or from `OWNER`) or usage visibility. Fields left `None`
/// are unchanged. Changing the role revokes the user's sessions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateUser {
    pub id: String,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub can_view_usage: Option<bool>,
}
call!(UpdateUser => UserView, "identity", "identity.update_user.v1", key: Scope(Users, Write));

/// Users of several contracts at once, one page each (DataLoader batch). Owners and admins of a
/// contract (and of its partner) see all its users; general users see themselves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListUsers {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
    #[serde(default)]
    pub filter: UserFilter,
}
call!(ListUsers => Vec<(String, Page<UserView>)>, "identity", "identity.list_users.v1", key: Scope(Users, Read));

/// The caller's own password; revokes every session of the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePassword {
    pub old_password: String,
    pub new_password: String,
}
call!(ChangePassword => (), "identity", "identity.change_password.v1");

/// A partner integration's API key, as listed (the secret is shown only once, on creation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub contract_id: String,
    pub name: String,
    /// The first characters of the secret (`ecl_` + 8), to recognise a key without revealing it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates an API key for a contract (its owner and admins, or the operator). The reply holds the
/// secret — the only time it is ever shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateApiKey {
    /// `None`: the caller's own contract.
    pub contract_id: Option<String>,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyCreated {
    pub secret: String,
    pub api_key: ApiKeyView,
}
call!(CreateApiKey => ApiKeyCreated, "identity", "identity.create_api_key.v1");

/// Revokes a key at once (its cached principal is dropped too).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevokeApiKey {
    pub id: String,
}
call!(RevokeApiKey => ApiKeyView, "identity", "identity.revoke_api_key.v1");

/// Keys of several contracts, one page each (DataLoader batch); owners, admins and the operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListApiKeys {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListApiKeys => Vec<(String, Page<ApiKeyView>)>, "identity", "identity.list_api_keys.v1");

/// Resolves an `X-Api-Key` secret to its principal (the gateway asks, anonymously).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthenticateKey {
    pub secret: String,
}
call!(AuthenticateKey => Principal, "identity", "identity.authenticate_key.v1");

/// Users by id, as far as the caller may see them (managers of their contract, or themselves);
/// unknown and hidden ids are left out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetUsers {
    pub ids: Vec<String>,
    /// Only the users it names (`Tenant.users(filter:)` narrows a tenant's grants with it).
    #[serde(default, skip_serializing_if = "UserFilter::is_empty")]
    pub filter: UserFilter,
}
call!(GetUsers => Vec<UserView>, "identity", "identity.get_users.v1", key: Scope(Users, Read));

/// Every active user of `contract_ids` (of every contract with `all`), unpaged, in one request
/// however many (a notice's recipients). System and operator callers only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractMembers {
    pub contract_ids: Vec<String>,
    pub all: bool,
}
call!(ContractMembers => Vec<UserView>, "identity", "identity.contract_members.v1");
