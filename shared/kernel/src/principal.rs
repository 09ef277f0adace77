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
            _ => None,
        }
    }
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User { role, .. } => Some(*role),
            _ => None,
        }
    }
    /// Owner or admin of some contract.
    pub fn is_manager(&self) -> bool {
        matches!(self.role(), Some(Role::Owner | Role::Admin))
    }
    /// May this caller see usage and bills? Operators, and a contract's owner and admins
    /// (SPEC §1). Provisional rule of the billing branch: the identity work replaces the body with
    /// the user's canViewUsage setting and API-key scopes.
    pub fn may_see_usage(&self) -> bool {
        self.is_operator() || matches!(self.role(), Some(Role::Owner | Role::Admin))
    }
    /// Short label for logs and metrics (never a secret).
    pub fn label(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::User { user_id, .. } => user_id.clone(),
            Principal::System { component } => format!("system:{component}"),
        }
    }
}
