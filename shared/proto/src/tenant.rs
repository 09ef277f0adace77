//! Tenant-access service: tenants of a contract.

use crate::call;
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "tenant";

/// How many tenants each contract still has (used before abolishing a contract).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CountTenants {
    pub contract_ids: Vec<String>,
}
call!(CountTenants => Vec<(String, u64)>, "tenant", "tenant.count.v1");
