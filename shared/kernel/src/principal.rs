//! Who is calling. Resolved once by the gateway, forwarded with every bus request, and checked again
//! by each service (the gateway is not the only gate).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Operator,
    Owner,
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "OPERATOR",
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::User => "USER",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "OPERATOR" => Some(Role::Operator),
            "OWNER" => Some(Role::Owner),
            "ADMIN" => Some(Role::Admin),
            "USER" => Some(Role::User),
            _ => None,
        }
    }
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// Nobody signed in (only sign-in style operations accept this).
    Anonymous,
    /// A signed-in user. Operators have no contract.
    User {
        user_id: String,
        contract_id: Option<String>,
        role: Role,
        /// False when the contract's owner hid bills and usage from this admin (SPEC §1).
        #[serde(default = "yes")]
        can_view_usage: bool,
    },
    /// A partner integration's API key: acts for its contract only, like one of its admins, but
    /// only within its scopes (checked by every service's router, see [`KeyUse`]).
    ApiKey {
        key_id: String,
        contract_id: String,
        scopes: Vec<Scope>,
        /// The user who created the key, as they stand now (resolved at every authentication):
        /// a key never does more than its creator could (issue 9).
        creator: KeyCreator,
    },
    /// A platform component acting on its own behalf (bootstrap, event reactions).
    System { component: String },
}

impl Principal {
    pub fn system(component: &str) -> Self {
        Principal::System {
            component: component.to_string(),
        }
    }
    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Principal::User {
                role: Role::Operator,
                ..
            } | Principal::System { .. }
        )
    }
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::User { user_id, .. } => Some(user_id),
            _ => None,
        }
    }
    pub fn contract_id(&self) -> Option<&str> {
        match self {
            Principal::User { contract_id, .. } => contract_id.as_deref(),
            Principal::ApiKey { contract_id, .. } => Some(contract_id),
            _ => None,
        }
    }
    /// An API key counts as an admin of its contract; its scopes narrow that further.
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User { role, .. } => Some(*role),
            Principal::ApiKey { .. } => Some(Role::Admin),
            _ => None,
        }
    }
    /// Whether an API key holds `area` at `level` or above (false for every other principal).
    pub fn key_has(&self, area: Area, level: Level) -> bool {
        match self {
            Principal::ApiKey { scopes, .. } => scopes.iter().any(|s| s.grants(area, level)),
            _ => false,
        }
    }
    /// Bills and usage (SPEC §1): the operator, owners, admins unless hidden by `canViewUsage`,
    /// and API keys with the billing scope.
    pub fn may_see_usage(&self) -> bool {
        match self {
            Principal::User {
                role: Role::Operator | Role::Owner,
                ..
            }
            | Principal::System { .. } => true,
            Principal::User {
                role: Role::Admin,
                can_view_usage,
                ..
            } => *can_view_usage,
            Principal::ApiKey { creator, .. } => {
                self.key_has(Area::Billing, Level::Read)
                    && (creator.is_owner_like() || creator.can_view_usage)
            }
            _ => false,
        }
    }
    /// The edge check of every bus operation (see [`KeyUse`]): only API keys are narrowed here;
    /// users and the system are judged by each service's own rules.
    pub fn check_key_use(&self, op: &str, needs: KeyUse) -> Result<(), crate::AppError> {
        let Principal::ApiKey { .. } = self else {
            return Ok(());
        };
        match needs {
            KeyUse::Tree => Ok(()),
            KeyUse::Scope(area, level) if self.key_has(area, level) => Ok(()),
            KeyUse::Scope(area, level) => Err(crate::AppError::forbidden(format!(
                "this API key lacks the {} scope",
                Scope { area, level }
            ))),
            KeyUse::Denied => Err(crate::AppError::forbidden(format!(
                "{op} is not available to API keys"
            ))),
        }
    }
    /// Customer information as an owner sees it: owners, and API keys with the contracts scope
    /// created by an owner (or the operator). The contract service still decides *which*
    /// contracts (own and children).
    pub fn is_owner_like(&self) -> bool {
        match self {
            Principal::User { role, .. } => *role == Role::Owner,
            Principal::ApiKey { creator, .. } => {
                creator.is_owner_like() && self.key_has(Area::Contracts, Level::Read)
            }
            _ => false,
        }
    }
    /// The user whose contract-group assignments narrow this principal: a user, or an API key's
    /// creator.
    pub fn acting_user_id(&self) -> Option<&str> {
        match self {
            Principal::User { user_id, .. } => Some(user_id),
            Principal::ApiKey { creator, .. } => Some(&creator.user_id),
            _ => None,
        }
    }
    /// Owner or admin of some contract.
    pub fn is_manager(&self) -> bool {
        matches!(self.role(), Some(Role::Owner | Role::Admin))
    }
    /// Short label for logs and metrics (never a secret).
    pub fn label(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::User { user_id, .. } => user_id.clone(),
            Principal::System { component } => format!("system:{component}"),
            Principal::ApiKey { key_id, .. } => key_id.clone(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The rights of an API key's creator that narrow the key: its scopes are intersected with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCreator {
    pub user_id: String,
    /// `OPERATOR`, `OWNER` or `ADMIN` (a creator who is no longer a manager disables the key).
    pub role: Role,
    /// Whether the creator may see bills and usage.
    pub can_view_usage: bool,
}

impl KeyCreator {
    /// Owner-like rights (customer information): the contract's owner or the operator.
    pub fn is_owner_like(&self) -> bool {
        matches!(self.role, Role::Owner | Role::Operator)
    }
}

/// The areas an API key's scopes are given for (issue 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    Contracts,
    Tenants,
    Users,
    Billing,
    Notifications,
    Sla,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Contracts,
        Area::Tenants,
        Area::Users,
        Area::Billing,
        Area::Notifications,
        Area::Sla,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Contracts => "contracts",
            Area::Tenants => "tenants",
            Area::Users => "users",
            Area::Billing => "billing",
            Area::Notifications => "notifications",
            Area::Sla => "sla",
        }
    }
}

/// Read-only or read-write; write includes read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Read,
    Write,
}

/// One scope of an API key, written `area:level` (`tenants:write`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope {
    pub area: Area,
    pub level: Level,
}

impl Scope {
    pub fn grants(self, area: Area, level: Level) -> bool {
        self.area == area && self.level >= level
    }
    /// Every scope there is (the GraphQL enum lists them).
    pub fn all() -> impl Iterator<Item = Scope> {
        Area::ALL.into_iter().flat_map(|area| {
            [Level::Read, Level::Write]
                .into_iter()
                .map(move |level| Scope { area, level })
        })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Read => "read",
            Level::Write => "write",
        };
        write!(f, "{}:{level}", self.area.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::all()
            .find(|x| x.to_string() == s)
            .ok_or_else(|| format!("unknown scope {s:?}"))
    }
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.to_string()
    }
}

/// What an API key needs to use one bus operation; declared with the operation (`call!`) and
/// checked by the receiving service's router before its handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Not for keys (sign-in flows, key management, the operator's tools): the default.
    Denied,
    /// The contract tree a key acts in (its contract and children, without customer data):
    /// every key may read it, since every other scope is used within it.
    Tree,
    Scope(Area, Level),
}
