//! Contract service: partner (parent), child and direct contracts.

use crate::{Page, PageArgs, call, event};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "contract";

closed_set! {
    /// Stored as this text by the services' read models (`contracts.kind`, `known_contracts.kind`).
    pub enum ContractKind {
        Direct = "DIRECT",
        Partner = "PARTNER",
        Child = "CHILD",
    }
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
    /// Whether the caller manages this contract's users and tenants — decided by the contract
    /// service (the operator; the contract's owner and admins; for a child, its partner's owner and
    /// admins, within their contract groups), so other services apply the one rule it holds.
    #[serde(default)]
    pub managed: bool,
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

/// Which of these contracts the caller sees, and whether they manage each one's users and
/// tenants: what a list of another service asks of a DataLoader batch before it reads, answered
/// from two columns of each contract instead of a whole [`ContractView`]. Ids the caller may not
/// see are absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetManaged {
    pub ids: Vec<String>,
}
call!(GetManaged => Vec<ManagedContract>, "contract", "contract.get_managed.v1", key: Tree);

/// A contract the caller sees (see [`GetManaged`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedContract {
    pub id: String,
    /// As [`ContractView::managed`].
    pub managed: bool,
}

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
    pub change: ContractChange,
}

closed_set! {
    /// What happened to the contract of a [`ContractChanged`] (lower case on the wire).
    pub enum ContractChange {
        Created = "created",
        Updated = "updated",
        Abolished = "abolished",
    }
}
event!(ContractChanged, "contract.changed");

/// A partner's contract group: children put together, and parent users assigned to it. A parent
/// admin or user assigned to groups manages only the children of those groups (SPEC §1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractGroupView {
    pub id: String,
    pub partner_id: String,
    pub name: String,
    pub child_ids: Vec<String>,
    pub user_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateContractGroup {
    pub partner_id: String,
    pub name: String,
}
call!(CreateContractGroup => ContractGroupView, "contract", "contract.group_create.v1", key: Scope(Contracts, Write));

/// Adds (`member: true`) or removes a child contract of the group's partner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetGroupChild {
    pub group_id: String,
    pub contract_id: String,
    pub member: bool,
}
call!(SetGroupChild => ContractGroupView, "contract", "contract.group_child.v1", key: Scope(Contracts, Write));

/// Assigns (`member: true`) or unassigns a user of the group's partner contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetGroupUser {
    pub group_id: String,
    pub user_id: String,
    pub member: bool,
}
call!(SetGroupUser => ContractGroupView, "contract", "contract.group_user.v1", key: Scope(Contracts, Write));

/// Groups of several partners, one page each (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListContractGroups {
    pub partner_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListContractGroups => Vec<(String, Page<ContractGroupView>)>, "contract", "contract.groups.v1", key: Scope(Contracts, Read));

/// One contract of a notice's audience, with what recipients are computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudienceContract {
    pub id: String,
    pub kind: ContractKind,
    pub parent_id: Option<String>,
    pub status: ContractStatus,
    pub name: String,
    pub owner_user_id: Option<String>,
    /// The customer's contact person (contract and fee mails go there).
    pub contact_email: String,
    /// For a partner: its users assigned to contract groups, each with the children of those
    /// groups — the only children such a user manages (and is copied on).
    pub group_children: Vec<(String, Vec<String>)>,
}

/// The contracts of `ids` (every active one with `all`) and the parents of those that are
/// children, in one request however many (the notification service resolves a notice's
/// recipients with it). System and operator callers only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticeAudience {
    pub ids: Vec<String>,
    pub all: bool,
}
call!(NoticeAudience => Vec<AudienceContract>, "contract", "contract.notice_audience.v1");
