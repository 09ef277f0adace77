//! What rating produces: charge lines per resource, and tenant-wide lines.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::menu::{MenuInfo, Unit};

/// Why a free-usage (negative) line was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeReason {
    /// Up to five logical networks' worth of charge per tenant (seed 003 2.5.1).
    LogicalNetworkAllowance,
    /// One 1 Gbps colocation interconnect link per tenant (2.5.2).
    CicOneGbpsLink,
    /// A tenant's second Virtual Private CF environment, for its first 30 days (2.5.7).
    VirtualPrivateCfSecondEnvironment,
}

/// The kind of a charge line. Caps and free usage are separate negative lines rather than
/// silently reduced usage lines, so that every line is "usage × price" or an explained
/// adjustment and the lines of a resource always add up to its monthly charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "reason")]
pub enum LineKind {
    /// Usage × unit price, or a monthly fixed / daily charge.
    Usage,
    /// Negative: what a cap took off (phase I per plan, phase II per resource, CF per tenant).
    Cap,
    /// Negative: free usage.
    Free(FreeReason),
    /// Negative: an approved SLA credit (SPEC §8), after the prices, before the tenant's rounding.
    SlaCredit,
}

/// One line of a resource's (or a tenant's) monthly charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeLine {
    pub kind: LineKind,
    /// Plan key, when the line belongs to one plan.
    pub plan: Option<String>,
    /// Plan tier label of the bill tree; `None` puts the line directly under the resource.
    pub tier_label: Option<String>,
    /// Status ("Running"), the usage line's label in the bill.
    pub status: Option<String>,
    /// Exact usage in `unit` (minutes may be fractional: the charge uses the exact value, the
    /// display rounds up — seed 003 2.1). Number of monthly charges for monthly fixed, days for
    /// prorated daily; zero for adjustments.
    pub quantity: Decimal,
    pub unit: Unit,
    /// Amount with exactly 6 decimal places, rounded down.
    pub amount: Decimal,
    /// Explanation of the line (special adjustments say what and why); empty for plain usage.
    pub description: String,
}

impl ChargeLine {
    pub(crate) fn usage(plan: Option<(&str, Option<&str>)>, unit: Unit) -> Self {
        Self {
            kind: LineKind::Usage,
            plan: plan.map(|(p, _)| p.to_owned()),
            tier_label: plan.and_then(|(_, l)| l.map(str::to_owned)),
            status: None,
            quantity: Decimal::ZERO,
            unit,
            amount: amount6(Decimal::ZERO),
            description: String::new(),
        }
    }
}

/// The month's charge of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCharge {
    pub menu: MenuInfo,
    pub resource_id: String,
    pub resource_name: Option<String>,
    /// Largest interval quantity of the month (VMs, vCPUs, instances; 1 for most resources),
    /// shown on the resource tier of the legacy CSV.
    pub quantity: Decimal,
    pub lines: Vec<ChargeLine>,
}

impl ResourceCharge {
    /// The resource's monthly charge: the sum of its lines (6 decimal places).
    pub fn total(&self) -> Decimal {
        amount6(self.lines.iter().map(|l| l.amount).sum())
    }
}

/// A line that belongs to a tenant's menu rather than to one resource (free logical networks,
/// the free CIC link, the Cloud Foundry shared cap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantLine {
    pub menu: MenuInfo,
    pub line: ChargeLine,
}

/// Everything a tenant is charged for a month.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TenantCharges {
    pub resources: Vec<ResourceCharge>,
    pub tenant_lines: Vec<TenantLine>,
}

impl TenantCharges {
    /// Sum of all lines, 6 decimal places, before any rounding to the currency.
    pub fn total(&self) -> Decimal {
        let r: Decimal = self.resources.iter().map(ResourceCharge::total).sum();
        let t: Decimal = self.tenant_lines.iter().map(|t| t.line.amount).sum();
        amount6(r + t)
    }

    /// The charge of a resource by id.
    pub fn resource(&self, id: &str) -> Option<&ResourceCharge> {
        self.resources.iter().find(|r| r.resource_id == id)
    }
}

/// Rounds down to 6 decimal places and keeps the scale at 6, so amounts print as "0.000000".
/// Seed 003: "If there is rounding error during calculation, it will be rounded down."
pub fn amount6(d: Decimal) -> Decimal {
    let mut x = d.round_dp_with_strategy(6, RoundingStrategy::ToZero);
    x.rescale(6);
    if x.is_zero() {
        x.set_sign_positive(true);
    }
    x
}
