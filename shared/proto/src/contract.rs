//! Contract service: partner (parent), child and direct contracts.

use crate::{Page, PageArgs, call, event};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "contract";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractKind {
    Direct,
    Partner,
    Child,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractStatus {
    Active,
    Abolished,
}

/// Customer information: shown to the contract's owner, the owner of its parent and the operator only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub company: String,
    pub address: String,
    pub contact_name: String,
    pub contact_email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractView {
    pub id: String,
    pub kind: ContractKind,
    pub parent_id: Option<String>,
    pub name: String,
    pub external_id: Option<String>,
    pub status: ContractStatus,
    /// `None` when the caller may not see it.
    pub customer: Option<Customer>,
    pub owner_user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub abolished_at: Option<DateTime<Utc>>,
}

impl ContractView {
    /// May `who` manage this contract's tenants and users? The operator; the contract's own
    /// owner and admins; and, for a child, its partner's owner and admins (SPEC §1). Services that
    /// hold a view the contract service showed the caller decide with this one rule.
    pub fn managed_by(&self, who: &ecl_kernel::Principal) -> bool {
        who.is_operator()
            || (who.is_manager()
                && (who.contract_id() == Some(self.id.as_str())
                    || who.contract_id() == self.parent_id.as_deref()))
    }
}

/// The owner account created with a contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerInput {
    pub login_id: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateContract {
    pub kind: ContractKind,
    /// Required for `CHILD`, forbidden otherwise.
    pub parent_id: Option<String>,
    pub name: String,
    pub external_id: Option<String>,
    pub customer: Customer,
    pub owner: OwnerInput,
}
call!(CreateContract => ContractView, "contract", "contract.create.v1", key: Scope(Contracts, Write));

/// Fields left `None` are unchanged; `external_id: Some("")` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateContract {
    pub id: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub customer: Option<Customer>,
}
call!(UpdateContract => ContractView, "contract", "contract.update.v1", key: Scope(Contracts, Write));

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbolishContract {
    pub id: String,
    pub force: bool,
}
call!(AbolishContract => ContractView, "contract", "contract.abolish.v1", key: Scope(Contracts, Write));

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetContract {
    pub id: String,
}
call!(GetContract => ContractView, "contract", "contract.get.v1", key: Tree);

/// Several contracts by id (DataLoader batch). Ids the caller may not see are simply absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetContracts {
    pub ids: Vec<String>,
}
call!(GetContracts => Vec<ContractView>, "contract", "contract.get_many.v1", key: Tree);

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContractFilter {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    /// Exact external id.
    pub external_id: Option<String>,
    pub status: Option<ContractStatus>,
    pub kind: Option<ContractKind>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// Searches the contracts the caller may see (operator: all; others: their own and, for partner
/// managers, their children).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchContracts {
    pub filter: ContractFilter,
    pub page: PageArgs,
}
call!(SearchContracts => Page<ContractView>, "contract", "contract.search.v1", key: Tree);

/// Children of several parents at once, one page each (DataLoader batch: one bus request however
/// many parents are on screen).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListChildren {
    pub parent_ids: Vec<String>,
    pub filter: ContractFilter,
    pub page: PageArgs,
}
call!(ListChildren => Vec<(String, Page<ContractView>)>, "contract", "contract.children.v1", key: Tree);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractChanged {
    pub contract: ContractView,
    /// `created`, `updated` or `abolished`.
    pub change: String,
}
event!(ContractChanged, "contract.changed");
