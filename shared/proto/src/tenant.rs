//! Tenant-access service: tenants of a contract.

use crate::{Page, PageArgs, call, event, identity::UserView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "tenant";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantView {
    pub id: String,
    pub contract_id: String,
    pub name: String,
    pub region: String,
    pub workspace_id: String,
    pub created_at: DateTime<Utc>,
}

/// Creates a tenant in a contract (its owner/admins, or the parent's for a child).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateTenant {
    pub contract_id: String,
    pub name: String,
    pub region: String,
    /// `None` = the contract's default workspace.
    pub workspace_id: Option<String>,
}
call!(CreateTenant => TenantView, "tenant", "tenant.create.v1", key: Scope(Tenants, Write));

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteTenant {
    pub id: String,
}
call!(DeleteTenant => TenantView, "tenant", "tenant.delete.v1", key: Scope(Tenants, Write));

/// Changes a tenant's name or workspace (the managers who may create it); `None` keeps a field.
/// Every bad field is reported at once and nothing changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateTenant {
    pub id: String,
    pub name: Option<String>,
    pub workspace_id: Option<String>,
}
call!(UpdateTenant => TenantView, "tenant", "tenant.update.v1", key: Scope(Tenants, Write));

/// Tenants by id as far as the caller may see them — as when walking to them: every tenant of a
/// contract the caller manages, and the tenants the caller is granted. Others are absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetTenants {
    pub ids: Vec<String>,
}
call!(GetTenants => Vec<TenantView>, "tenant", "tenant.get.v1", key: Scope(Tenants, Read));

/// Which tenants a list shows: each given field narrows it (all must match).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TenantFilter {
    /// A case-insensitive part of the name.
    pub name: Option<String>,
    /// Exactly this region (`jp1`).
    pub region: Option<String>,
    pub workspace_id: Option<String>,
}

/// Tenants of several contracts at once, one page each (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTenants {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
    #[serde(default)]
    pub filter: TenantFilter,
}
call!(ListTenants => Vec<(String, Page<TenantView>)>, "tenant", "tenant.list.v1", key: Scope(Tenants, Read));

/// How many tenants each contract still has (used before abolishing a contract).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CountTenants {
    pub contract_ids: Vec<String>,
}
call!(CountTenants => Vec<(String, u64)>, "tenant", "tenant.count.v1", key: Tree);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantChanged {
    pub tenant: TenantView,
    pub change: TenantChange,
}

closed_set! {
    /// What happened to the tenant of a [`TenantChanged`] (lower case on the wire).
    pub enum TenantChange {
        Created = "created",
        /// Its name or workspace changed.
        Updated = "updated",
        Deleted = "deleted",
    }
}
event!(TenantChanged, "tenant.changed");

/// A workspace groups a contract's tenants for the summary bill. Every contract has a default one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceView {
    pub id: String,
    pub contract_id: String,
    pub name: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateWorkspace {
    pub contract_id: String,
    pub name: String,
}
call!(CreateWorkspace => WorkspaceView, "tenant", "tenant.workspace_create.v1", key: Scope(Tenants, Write));

/// Renames a workspace (the contract's managers); names stay unique within the contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateWorkspace {
    pub id: String,
    pub name: Option<String>,
}
call!(UpdateWorkspace => WorkspaceView, "tenant", "tenant.workspace_update.v1", key: Scope(Tenants, Write));

/// Workspaces by id, for those who manage their contract (others are absent).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetWorkspaces {
    pub ids: Vec<String>,
}
call!(GetWorkspaces => Vec<WorkspaceView>, "tenant", "tenant.workspaces_get.v1", key: Scope(Tenants, Read));

/// Workspaces of several contracts, one page each (DataLoader batch); the default one first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListWorkspaces {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListWorkspaces => Vec<(String, Page<WorkspaceView>)>, "tenant", "tenant.workspaces.v1", key: Scope(Tenants, Read));

/// A user's right to work in a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantView {
    pub tenant_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
}

/// Grants (`granted: true`, idempotent) or revokes a user's access to a tenant. The user belongs
/// to the tenant's contract or to its partner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetTenantAccess {
    pub tenant_id: String,
    pub user_id: String,
    pub granted: bool,
}
call!(SetTenantAccess => Option<GrantView>, "tenant", "tenant.access.v1", key: Scope(Tenants, Write));

/// Users with access to each of several tenants, one page each (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTenantUsers {
    pub tenant_ids: Vec<String>,
    pub page: PageArgs,
    /// Only the granted users it names, applied before pagination.
    #[serde(default)]
    pub filter: crate::identity::UserFilter,
}
call!(ListTenantUsers => Vec<(String, Page<UserView>)>, "tenant", "tenant.users.v1", key: Scope(Tenants, Read));

/// Tenants each of several users may work in, one page each (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListUserTenants {
    pub user_ids: Vec<String>,
    pub page: PageArgs,
    #[serde(default)]
    pub filter: TenantFilter,
}
call!(ListUserTenants => Vec<(String, Page<TenantView>)>, "tenant", "tenant.user_tenants.v1", key: Scope(Tenants, Read));

/// A tenant and the users granted access to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantAudience {
    pub tenant_id: String,
    pub contract_id: String,
    pub user_ids: Vec<String>,
}

/// The tenants of `tenant_ids`, every tenant of `contract_ids` (every tenant with `all`), each
/// with its grants, in one request however many (a failure or maintenance notice's audience).
/// Unknown tenant ids are absent. System and operator callers only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticeTenants {
    pub tenant_ids: Vec<String>,
    pub contract_ids: Vec<String>,
    pub all: bool,
}
call!(NoticeTenants => Vec<TenantAudience>, "tenant", "tenant.notice_tenants.v1");
