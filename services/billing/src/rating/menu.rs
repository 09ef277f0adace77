//! The priced menu: what a resource is, how it is metered and how its month is charged.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Currency of a price list and of a bill.
///
/// Line amounts keep 6 decimal places whatever the currency; only totals are cut to the
/// currency's smallest unit (1 yen, 1 cent), which is why the currency carries that unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Jpy,
    Usd,
}

impl Currency {
    /// ISO 4217 code, as written in the CSV exports.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Jpy => "JPY",
            Currency::Usd => "USD",
        }
    }

    /// Decimal places of the smallest unit: 0 for yen, 2 for cents.
    pub fn decimal_places(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            Currency::Usd => 2,
        }
    }

    /// The smallest unit: 1 (yen) or 0.01 (cent).
    pub fn smallest_unit(self) -> Decimal {
        Decimal::new(1, self.decimal_places())
    }

    /// Rounds down (truncates, 切り捨て) to the smallest unit, as seed 002 does for tenant totals
    /// and tax. Truncation toward zero, so a credit is never rounded into a larger credit.
    pub fn round_down(self, amount: Decimal) -> Decimal {
        let mut d = amount.round_dp_with_strategy(self.decimal_places(), RoundingStrategy::ToZero);
        d.rescale(self.decimal_places());
        if d.is_zero() {
            // never print "-0"
            d.set_sign_positive(true);
        }
        d
    }
}

/// What one unit of measured usage is. Time units say how many seconds make one unit; the
/// others count a reported volume (the interval's quantity) rather than time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Month,
    Gigabyte,
    Count,
}

impl Unit {
    /// Seconds in one unit for time-metered units, `None` for volume units.
    pub fn seconds(self) -> Option<i64> {
        match self {
            Unit::Second => Some(1),
            Unit::Minute => Some(60),
            Unit::Hour => Some(3600),
            Unit::Day | Unit::Month | Unit::Gigabyte | Unit::Count => None,
        }
    }

    /// Label used after a usage figure ("3739 Min").
    pub fn label(self) -> &'static str {
        match self {
            Unit::Second => "Sec",
            Unit::Minute => "Min",
            Unit::Hour => "Hour",
            Unit::Day => "Day",
            Unit::Month => "Month",
            Unit::Gigabyte => "GB",
            Unit::Count => "",
        }
    }
}

/// The five charge patterns of seed 003 chapter 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargePattern {
    /// usage × unit price, no upper limit (2.1).
    Payg,
    /// min(usage × unit price, cap) per plan (2.2); reached after about 28 days.
    CappedPayg,
    /// Two-phase cap (2.3): phase I per plan min(Σ usage × price, cap), phase II
    /// min(Σ phase-I fees, max cap among the month's plans).
    CappedPaygPlanChange,
    /// Fixed amount per month whatever the duration; n starts-and-terminations cost n × amount (2.4).
    MonthlyFixed,
    /// Daily rate × days used (1.2, VPN connectivity).
    ProratedDaily,
}

/// Speed of a colocation interconnect link: only 1 Gbps links take part in the free link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CicSpeed {
    OneGbps,
    TenGbps,
}

/// How SQL Server licences are priced (seed 003 2.5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlServerBasis {
    /// By the flavor with the most vCPUs used in the month ([`PlanPrice::vcpus`] must be set).
    VirtualServer,
    /// Unit price per vCPU × the largest vCPU count of the month (the interval quantity).
    DedicatedHypervisor,
}

/// Per-menu special calculations of seed 003 2.5. Each requires a particular charge pattern
/// (checked by [`SpecialRule::allows`]) and changes only what the pattern alone would get wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum SpecialRule {
    None,
    /// Capped PAYG per network; up to five networks' worth (5 × cap) per tenant is free,
    /// shown as a negative free-usage line (2.5.1).
    LogicalNetwork,
    /// Monthly fixed per link; one 1 Gbps link per tenant is free, 10 Gbps never (2.5.2).
    Cic {
        speed: CicSpeed,
    },
    /// Windows guest image on a dedicated hypervisor: the interval quantity is the VM count;
    /// up to 7 VMs price × VMs, 8 or more the flat price (2.5.3).
    WindowsGuestImage {
        flat_8_plus: Decimal,
    },
    /// Two-phase capped PAYG plus, for Windows, a monthly fixed fee per start-and-termination
    /// (2.5.4).
    Oracle {
        windows_monthly_fee: Option<Decimal>,
    },
    /// Monthly fixed priced by the largest flavor / vCPU count of the month (2.5.5).
    SqlServer {
        basis: SqlServerBasis,
    },
    /// Monthly fixed; the named Basic plan is free (2.5.6).
    Monitoring {
        basic_plan: String,
    },
    /// Per-second instance usage, capped per tenant at 500 instance-hours' worth, rounded down
    /// (2.5.7). The per-resource lines are uncapped; the cap is a tenant line.
    CloudFoundryShared,
    /// Capped per minute by routers and cells; a tenant's second environment is free for its
    /// first 30 days, the third and later are not (2.5.7).
    VirtualPrivateCf,
}

impl SpecialRule {
    /// Whether the rule makes sense with a charge pattern; the engine refuses other pairs
    /// rather than guess.
    pub fn allows(&self, pattern: ChargePattern) -> bool {
        use ChargePattern::*;
        match self {
            SpecialRule::None => true,
            SpecialRule::LogicalNetwork | SpecialRule::VirtualPrivateCf => {
                matches!(pattern, CappedPayg | CappedPaygPlanChange)
            }
            SpecialRule::Cic { .. }
            | SpecialRule::WindowsGuestImage { .. }
            | SpecialRule::SqlServer { .. }
            | SpecialRule::Monitoring { .. } => pattern == MonthlyFixed,
            SpecialRule::Oracle { .. } => pattern == CappedPaygPlanChange,
            SpecialRule::CloudFoundryShared => matches!(pattern, Payg | CappedPayg),
        }
    }
}

/// The price of one plan (flavor, size, edition) of a menu.
///
/// `unit_price` means: per [`Menu::unit`] for metered patterns, per month for monthly fixed,
/// per day for prorated daily, per VM / per vCPU where a special rule says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPrice {
    /// Plan key used by usage intervals and shown in the detail CSV "plan" column ("1CPU-4GB").
    pub plan: String,
    /// Label of the plan tier in the bill tree ("Flavor (1CPU-4GB)"); `None` when the menu has no
    /// plan tier and its lines hang directly under the resource (a logical network).
    pub tier_label: Option<String>,
    pub unit_price: Decimal,
    /// Monthly cap for capped patterns (per unit of quantity).
    pub cap: Option<Decimal>,
    /// vCPUs of a flavor, for SQL Server on virtual servers.
    pub vcpus: Option<u32>,
}

impl PlanPrice {
    /// A plan whose tier label is its key and that has no cap.
    pub fn new(plan: impl Into<String>, unit_price: Decimal) -> Self {
        let plan = plan.into();
        Self {
            tier_label: Some(plan.clone()),
            plan,
            unit_price,
            cap: None,
            vcpus: None,
        }
    }

    pub fn with_cap(mut self, cap: Decimal) -> Self {
        self.cap = Some(cap);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.tier_label = Some(label.into());
        self
    }

    /// No plan tier in the bill tree.
    pub fn without_tier(mut self) -> Self {
        self.tier_label = None;
        self
    }

    pub fn with_vcpus(mut self, vcpus: u32) -> Self {
        self.vcpus = Some(vcpus);
        self
    }
}

/// The descriptive part of a menu, copied onto every charge so that a bill can be built and
/// exported without the price list at hand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MenuInfo {
    /// Price-list code, the key resources refer to.
    pub code: String,
    /// Service tier of the bill tree ("Enterprise Cloud 2.0").
    pub service: String,
    /// Menu category ("Virtual Server").
    pub category: String,
    pub subcategory: String,
    /// Menu name, the resource tier's label ("Compute").
    pub name: String,
    pub region: String,
    pub currency: Currency,
}

/// A priced menu of the price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Menu {
    pub info: MenuInfo,
    /// Metering unit of the usage-based patterns (Minute for most menus, Second for Cloud Foundry).
    pub unit: Unit,
    pub pattern: ChargePattern,
    pub rule: SpecialRule,
    pub plans: Vec<PlanPrice>,
}

impl Menu {
    /// A menu with no special rule, no plans, empty subcategory and region; fill in with the
    /// `with_*` builders.
    pub fn new(
        code: impl Into<String>,
        category: impl Into<String>,
        name: impl Into<String>,
        unit: Unit,
        pattern: ChargePattern,
        currency: Currency,
    ) -> Self {
        Self {
            info: MenuInfo {
                code: code.into(),
                service: "Enterprise Cloud 2.0".to_owned(),
                category: category.into(),
                subcategory: String::new(),
                name: name.into(),
                region: String::new(),
                currency,
            },
            unit,
            pattern,
            rule: SpecialRule::None,
            plans: Vec::new(),
        }
    }

    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.info.service = service.into();
        self
    }

    pub fn with_subcategory(mut self, subcategory: impl Into<String>) -> Self {
        self.info.subcategory = subcategory.into();
        self
    }

    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.info.region = region.into();
        self
    }

    pub fn with_rule(mut self, rule: SpecialRule) -> Self {
        self.rule = rule;
        self
    }

    pub fn with_plan(mut self, plan: PlanPrice) -> Self {
        self.plans.push(plan);
        self
    }

    pub fn code(&self) -> &str {
        &self.info.code
    }

    /// The price of a plan key.
    pub fn plan(&self, plan: &str) -> Option<&PlanPrice> {
        self.plans.iter().find(|p| p.plan == plan)
    }

    /// The largest cap among the menu's plans (logical network: the five-network allowance).
    pub fn max_cap(&self) -> Option<Decimal> {
        self.plans.iter().filter_map(|p| p.cap).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::testutil::d;

    #[test]
    fn currency_round_down_truncates_to_smallest_unit() {
        assert_eq!(
            Currency::Jpy.round_down(d("5870.751682")).to_string(),
            "5870"
        );
        assert_eq!(Currency::Jpy.round_down(d("469.6")).to_string(), "469");
        assert_eq!(
            Currency::Usd.round_down(d("12.349999")).to_string(),
            "12.34"
        );
        assert_eq!(Currency::Usd.round_down(d("12")).to_string(), "12.00");
        // toward zero for credits
        assert_eq!(Currency::Jpy.round_down(d("-0.9")), d("0"));
        assert_eq!(Currency::Usd.smallest_unit(), d("0.01"));
        assert_eq!(Currency::Jpy.smallest_unit(), d("1"));
    }

    #[test]
    fn rules_require_their_patterns() {
        use ChargePattern::*;
        assert!(SpecialRule::LogicalNetwork.allows(CappedPayg));
        assert!(!SpecialRule::LogicalNetwork.allows(MonthlyFixed));
        assert!(
            SpecialRule::Cic {
                speed: CicSpeed::OneGbps
            }
            .allows(MonthlyFixed)
        );
        assert!(
            !SpecialRule::Oracle {
                windows_monthly_fee: None
            }
            .allows(CappedPayg)
        );
        assert!(SpecialRule::CloudFoundryShared.allows(CappedPayg));
        assert!(SpecialRule::None.allows(ProratedDaily));
    }
}
