//! Usage of a resource within a billing month, as the metering service hands it over.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One stretch of a resource's life with one plan, status and quantity.
///
/// A plan change, a status change (running/stopped) or a quantity change (VM count, vCPUs,
/// CF instances, routers and cells) ends one interval and starts the next *at the same instant*;
/// a gap between two intervals is a termination followed by a new start, which matters for the
/// monthly fixed pattern (n starts-and-terminations cost n × amount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageInterval {
    /// Start, UTC, inclusive. May lie before the month: it is clipped.
    pub start: DateTime<Utc>,
    /// Stop, UTC, exclusive; `None` while the resource still runs (cut at the rated period's end).
    pub end: Option<DateTime<Utc>>,
    /// Plan key of the menu's price list.
    pub plan: String,
    /// Status shown as the usage line of the bill ("Running"); `None` for menus without one.
    pub status: Option<String>,
    /// Multiplier of time-metered usage (VMs, vCPUs, instances, routers/cells); for volume units
    /// (GB, count) the reported volume itself. 1 for an ordinary resource.
    pub quantity: Decimal,
}

impl UsageInterval {
    /// Quantity 1, no status.
    pub fn new(plan: impl Into<String>, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Self {
        Self {
            start,
            end,
            plan: plan.into(),
            status: None,
            quantity: Decimal::ONE,
        }
    }

    pub fn with_status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    pub fn with_quantity(mut self, quantity: impl Into<Decimal>) -> Self {
        self.quantity = quantity.into();
        self
    }
}

/// A resource of a tenant and its usage intervals for the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    /// Display name, shown beside the id on the bill when present.
    pub name: Option<String>,
    /// Code of its [`Menu`](super::Menu).
    pub menu_code: String,
    /// When the resource was created. Ranks Virtual Private CF environments (second one free for
    /// its first 30 days) and starts that 30-day window; defaults to the earliest interval start.
    pub created_at: Option<DateTime<Utc>>,
    /// 1-based rank of a Virtual Private CF environment among the tenant's environments. Set it
    /// when earlier environments are gone from this month's data; otherwise it is derived from
    /// `created_at` order among the resources rated together.
    pub environment_ordinal: Option<u32>,
    pub intervals: Vec<UsageInterval>,
}

impl Resource {
    pub fn new(id: impl Into<String>, menu_code: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
            menu_code: menu_code.into(),
            created_at: None,
            environment_ordinal: None,
            intervals: Vec::new(),
        }
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn created(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = Some(at);
        self
    }

    pub fn with_ordinal(mut self, ordinal: u32) -> Self {
        self.environment_ordinal = Some(ordinal);
        self
    }

    pub fn with_interval(mut self, interval: UsageInterval) -> Self {
        self.intervals.push(interval);
        self
    }

    /// Creation time, or the earliest interval start when unknown.
    pub fn effective_created_at(&self) -> Option<DateTime<Utc>> {
        self.created_at
            .or_else(|| self.intervals.iter().map(|i| i.start).min())
    }
}
