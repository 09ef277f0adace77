//! Tenant-access service: tenants of a contract.

use crate::{Page, PageArgs, call, event};
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

/// Tenants of several contracts at once, one page each (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTenants {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
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
    /// `created` or `deleted`.
    pub change: String,
}
event!(TenantChanged, "tenant.changed");
