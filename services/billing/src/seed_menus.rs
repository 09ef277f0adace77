//! The menus seeded at start (SPEC §6): seed 003's table (USD) and the prices behind seed 002's
//! worked CSV example (JPY), from the billing guide's date on.

use ecl_kernel::Month;
use ecl_proto::billing::{self as proto, MenuSpec, PlanSpec};

fn plan(plan: &str, label: Option<&str>, price: &str, cap: Option<&str>) -> PlanSpec {
    PlanSpec {
        plan: plan.into(),
        label: label.map(Into::into),
        unit_price: price.into(),
        cap: cap.map(Into::into),
        vcpus: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn spec(
    code: &str,
    currency: proto::Currency,
    category: &str,
    subcategory: &str,
    name: &str,
    unit: proto::ChargeUnit,
    pattern: proto::ChargePattern,
    rule: proto::SpecialRule,
    plans: Vec<PlanSpec>,
) -> MenuSpec {
    MenuSpec {
        code: code.into(),
        service: "Enterprise Cloud 2.0".into(),
        category: category.into(),
        subcategory: subcategory.into(),
        name: name.into(),
        region: match currency {
            proto::Currency::Jpy => "jp1",
            proto::Currency::Usd => "us1",
        }
        .into(),
        unit,
        pattern,
        rule,
        rule_amount: None,
        rule_plan: None,
        currency,
        resellable: true,
        resellable_condition: None,
        sla_eligible: true,
        effective_from: Month::parse(SEED_FROM).expect("the seeds' month is a month"),
        plans,
    }
}

/// Seeded prices apply from the billing guide's date (July 2017).
pub const SEED_FROM: &str = "2017-07";

/// The menus seeded at start (only where missing, so a restart changes nothing).
///
/// JPY: the per-minute prices behind seed 002's worked example are its amounts divided by its
/// minutes (649.135268 / 3739 = 0.173612 exactly, …); the caps are not in the example and are
/// chosen high enough not to bite within its 3,800 minutes.
/// USD: the examples of seed 003's table 1.2. The guest image's 8VM+ flat price is not in the
/// guide; 7 × $111 = $777 stands in for it. VPN connectivity has no published price and is not
/// seeded.
pub fn seeds() -> Vec<MenuSpec> {
    let mut out = vec![
        spec(
            "compute",
            proto::Currency::Jpy,
            "Virtual Server",
            "Compute",
            "Compute",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::CappedPaygPlanChange,
            proto::SpecialRule::None,
            vec![plan(
                "1CPU-4GB",
                Some("Flavor (1CPU-4GB)"),
                "0.173612",
                Some("7000"),
            )],
        ),
        spec(
            "volume",
            proto::Currency::Jpy,
            "Virtual Server",
            "Volume",
            "Volume",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::CappedPayg,
            proto::SpecialRule::None,
            vec![plan("15GB", None, "0.014881", Some("600"))],
        ),
        spec(
            "logical-network",
            proto::Currency::Jpy,
            "Logical Network",
            "Network",
            "Network",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::CappedPayg,
            proto::SpecialRule::LogicalNetwork,
            vec![plan("network", Some(""), "0.074405", Some("3000"))],
        ),
        spec(
            "firewall",
            proto::Currency::Jpy,
            "Firewall",
            "Firewall Instance",
            "Firewall Instance",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::CappedPaygPlanChange,
            proto::SpecialRule::None,
            vec![plan(
                "vSRX 15.1X49-D105.1 Standard (2CPU-4GB-8IF)",
                None,
                "0.694445",
                Some("28000"),
            )],
        ),
        spec(
            "load-balancer",
            proto::Currency::Jpy,
            "Load Balancer",
            "Load Balancer Instance",
            "Load Balancer Instance",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::CappedPaygPlanChange,
            proto::SpecialRule::None,
            vec![plan(
                "NetScaler VPX 12.1-52.15 Standard_Edition (50Mbps 2CPU-8GB-4IF)",
                None,
                "0.694445",
                Some("28000"),
            )],
        ),
        spec(
            "image-storage-usd",
            proto::Currency::Usd,
            "Image Storage",
            "Private ISO",
            "Private ISO",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::Payg,
            proto::SpecialRule::None,
            vec![plan("Private ISO", None, "0.000007", None)],
        ),
        spec(
            "volume-usd",
            proto::Currency::Usd,
            "Virtual Server",
            "Volume",
            "Volume",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::CappedPayg,
            proto::SpecialRule::None,
            vec![plan("15GB", None, "0.000164", Some("6.60"))],
        ),
        spec(
            "compute-usd",
            proto::Currency::Usd,
            "Virtual Server",
            "Compute",
            "Compute",
            proto::ChargeUnit::Minute,
            proto::ChargePattern::CappedPaygPlanChange,
            proto::SpecialRule::None,
            vec![plan(
                "1CPU-4GB",
                Some("Flavor (1CPU-4GB)"),
                "0.001885",
                Some("76.00"),
            )],
        ),
        spec(
            "cf-shared-usd",
            proto::Currency::Usd,
            "Cloud Foundry",
            "Shared",
            "Shared",
            proto::ChargeUnit::Second,
            proto::ChargePattern::CappedPayg,
            proto::SpecialRule::CloudFoundryShared,
            vec![plan("128MB", None, "0.000005", Some("9.00"))],
        ),
        spec(
            "baremetal-os-usd",
            proto::Currency::Usd,
            "Baremetal Server",
            "OS",
            "OS",
            proto::ChargeUnit::Month,
            proto::ChargePattern::MonthlyFixed,
            proto::SpecialRule::None,
            vec![plan("RHEL, GP2", None, "118.00", None)],
        ),
        spec(
            "monitoring-usd",
            proto::Currency::Usd,
            "Monitoring",
            "Monitoring",
            "Monitoring",
            proto::ChargeUnit::Month,
            proto::ChargePattern::MonthlyFixed,
            proto::SpecialRule::Monitoring,
            vec![
                plan("Basic Plan", None, "0", None),
                plan("Advanced Plan", None, "23.00", None),
            ],
        ),
        spec(
            "cic-1g-usd",
            proto::Currency::Usd,
            "Colocation Interconnectivity",
            "CIC",
            "Colocation Interconnectivity",
            proto::ChargeUnit::Month,
            proto::ChargePattern::MonthlyFixed,
            proto::SpecialRule::Cic1G,
            vec![plan("1Gbps", None, "630", None)],
        ),
        spec(
            "guest-image-windows-usd",
            proto::Currency::Usd,
            "Guest Image",
            "Windows Server for Hyper-V",
            "Windows Server for Hyper-V",
            proto::ChargeUnit::Month,
            proto::ChargePattern::MonthlyFixed,
            proto::SpecialRule::WindowsGuestImage,
            vec![plan("General Purpose 3", None, "111", None)],
        ),
    ];
    for m in &mut out {
        match m.code.as_str() {
            "monitoring-usd" => {
                m.rule_plan = Some("Basic Plan".into());
                m.sla_eligible = false;
            }
            "guest-image-windows-usd" => m.rule_amount = Some("777".into()),
            "baremetal-os-usd" => m.sla_eligible = false,
            _ => {}
        }
    }
    out
}
