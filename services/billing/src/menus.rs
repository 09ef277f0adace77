//! The price list as the operator writes it ([`MenuSpec`]) and as rating needs it ([`Menu`]), and
//! the menus seeded at start: seed 003's table (USD) and the prices behind seed 002's worked CSV
//! example (JPY).

use ecl_kernel::{AppError, AppResult};
use ecl_proto::billing::{MenuSpec, PlanSpec};
use rust_decimal::Decimal;

use crate::rating::{
    ChargePattern, CicSpeed, Currency, Menu, MenuInfo, Month, PlanPrice, SpecialRule,
    SqlServerBasis, Unit,
};

fn dec(field: &str, s: &str) -> AppResult<Decimal> {
    let d: Decimal = s
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(field, format!("{s:?} is not a decimal number")))?;
    if d.is_sign_negative() {
        return Err(AppError::invalid(
            field,
            format!("{field} must not be negative"),
        ));
    }
    Ok(d)
}

pub fn parse_currency(s: &str) -> AppResult<Currency> {
    match s {
        "JPY" => Ok(Currency::Jpy),
        "USD" => Ok(Currency::Usd),
        _ => Err(AppError::invalid("currency", "currency is JPY or USD")),
    }
}

fn unit(s: &str) -> AppResult<Unit> {
    Ok(match s {
        "SECOND" => Unit::Second,
        "MINUTE" => Unit::Minute,
        "HOUR" => Unit::Hour,
        "DAY" => Unit::Day,
        "MONTH" => Unit::Month,
        "GB" => Unit::Gigabyte,
        "COUNT" => Unit::Count,
        _ => {
            return Err(AppError::invalid(
                "unit",
                "unit is one of SECOND, MINUTE, HOUR, DAY, MONTH, GB, COUNT",
            ));
        }
    })
}

fn pattern(s: &str) -> AppResult<ChargePattern> {
    Ok(match s {
        "PAYG" => ChargePattern::Payg,
        "CAPPED_PAYG" => ChargePattern::CappedPayg,
        "CAPPED_PAYG_PLAN_CHANGE" => ChargePattern::CappedPaygPlanChange,
        "MONTHLY_FIXED" => ChargePattern::MonthlyFixed,
        "PRORATED_DAILY" => ChargePattern::ProratedDaily,
        _ => {
            return Err(AppError::invalid(
                "pattern",
                "pattern is one of PAYG, CAPPED_PAYG, CAPPED_PAYG_PLAN_CHANGE, MONTHLY_FIXED, PRORATED_DAILY",
            ));
        }
    })
}

fn rule(spec: &MenuSpec) -> AppResult<SpecialRule> {
    let amount = || -> AppResult<Decimal> {
        let a = spec.rule_amount.as_deref().ok_or_else(|| {
            AppError::invalid("ruleAmount", format!("rule {} needs ruleAmount", spec.rule))
        })?;
        dec("ruleAmount", a)
    };
    Ok(match spec.rule.as_str() {
        "NONE" | "" => SpecialRule::None,
        "LOGICAL_NETWORK" => SpecialRule::LogicalNetwork,
        "CIC_1G" => SpecialRule::Cic {
            speed: CicSpeed::OneGbps,
        },
        "CIC_10G" => SpecialRule::Cic {
            speed: CicSpeed::TenGbps,
        },
        "WINDOWS_GUEST_IMAGE" => SpecialRule::WindowsGuestImage {
            flat_8_plus: amount()?,
        },
        "ORACLE" => SpecialRule::Oracle {
            windows_monthly_fee: spec
                .rule_amount
                .as_deref()
                .map(|a| dec("ruleAmount", a))
                .transpose()?,
        },
        "SQL_SERVER_VIRTUAL_SERVER" => SpecialRule::SqlServer {
            basis: SqlServerBasis::VirtualServer,
        },
        "SQL_SERVER_DEDICATED_HYPERVISOR" => SpecialRule::SqlServer {
            basis: SqlServerBasis::DedicatedHypervisor,
        },
        "MONITORING" => SpecialRule::Monitoring {
            basic_plan: spec.rule_plan.clone().ok_or_else(|| {
                AppError::invalid("rulePlan", "rule MONITORING needs rulePlan (the free plan)")
            })?,
        },
        "CLOUD_FOUNDRY_SHARED" => SpecialRule::CloudFoundryShared,
        "VIRTUAL_PRIVATE_CF" => SpecialRule::VirtualPrivateCf,
        other => {
            return Err(AppError::invalid(
                "rule",
                format!("unknown special rule {other:?}"),
            ));
        }
    })
}

/// Validates a spec and turns it into the rating engine's menu.
pub fn to_menu(spec: &MenuSpec) -> AppResult<Menu> {
    let text = |field: &str, v: &str, max: usize| ecl_kernel::validate::text(field, v, max);
    // Every field of the menu is checked before answering (the plans after, each on its own).
    let mut v = ecl_kernel::Validation::new();
    let code = v.note(text("code", &spec.code, 64).and_then(|code| {
        if code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            Ok(code)
        } else {
            Err(AppError::invalid(
                "code",
                "a menu code is letters, digits, '-', '_' and '.'",
            ))
        }
    }));
    v.value(
        Month::parse(&spec.effective_from)
            .map(|_| ())
            .map_err(|e| AppError::invalid("effectiveFrom", e.to_string())),
    );
    let info = (
        v.note(text("service", &spec.service, 100)),
        v.note(text("category", &spec.category, 100)),
        v.note(text("name", &spec.name, 100)),
        v.note(parse_currency(&spec.currency)),
    );
    let (unit, pattern, rule) = (
        v.note(unit(&spec.unit)),
        v.note(pattern(&spec.pattern)),
        v.note(rule(spec)),
    );
    v.finish()?;
    let mut menu = Menu {
        info: MenuInfo {
            code: code?,
            service: info.0?,
            category: info.1?,
            subcategory: spec.subcategory.trim().to_owned(),
            name: info.2?,
            region: spec.region.trim().to_owned(),
            currency: info.3?,
        },
        unit: unit?,
        pattern: pattern?,
        rule: rule?,
        plans: Vec::new(),
    };
    if !menu.rule.allows(menu.pattern) {
        return Err(AppError::invalid(
            "rule",
            format!(
                "rule {} does not go with pattern {}",
                spec.rule, spec.pattern
            ),
        ));
    }
    if spec.plans.is_empty() {
        return Err(AppError::invalid("plans", "a menu needs at least one plan"));
    }
    let capped = matches!(
        menu.pattern,
        ChargePattern::CappedPayg | ChargePattern::CappedPaygPlanChange
    );
    for p in &spec.plans {
        let key = text("plans.plan", &p.plan, 200)?;
        if menu.plan(&key).is_some() {
            return Err(AppError::invalid("plans", format!("plan {key:?} twice")));
        }
        let mut price = PlanPrice::new(key.clone(), dec("plans.unitPrice", &p.unit_price)?);
        match p.label.as_deref() {
            Some("") => price = price.without_tier(),
            Some(l) => price = price.with_label(l),
            None => {}
        }
        if let Some(c) = &p.cap {
            price = price.with_cap(dec("plans.cap", c)?);
        } else if capped {
            return Err(AppError::invalid(
                "plans.cap",
                format!("plan {key:?} of a capped pattern needs a cap"),
            ));
        }
        if let Some(v) = p.vcpus {
            price = price.with_vcpus(v);
        }
        menu.plans.push(price);
    }
    Ok(menu)
}

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
    currency: &str,
    category: &str,
    subcategory: &str,
    name: &str,
    unit: &str,
    pattern: &str,
    rule: &str,
    plans: Vec<PlanSpec>,
) -> MenuSpec {
    MenuSpec {
        code: code.into(),
        service: "Enterprise Cloud 2.0".into(),
        category: category.into(),
        subcategory: subcategory.into(),
        name: name.into(),
        region: if currency == "JPY" { "jp1" } else { "us1" }.into(),
        unit: unit.into(),
        pattern: pattern.into(),
        rule: rule.into(),
        rule_amount: None,
        rule_plan: None,
        currency: currency.into(),
        resellable: true,
        resellable_condition: None,
        sla_eligible: true,
        effective_from: SEED_FROM.into(),
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
            "JPY",
            "Virtual Server",
            "Compute",
            "Compute",
            "MINUTE",
            "CAPPED_PAYG_PLAN_CHANGE",
            "NONE",
            vec![plan(
                "1CPU-4GB",
                Some("Flavor (1CPU-4GB)"),
                "0.173612",
                Some("7000"),
            )],
        ),
        spec(
            "volume",
            "JPY",
            "Virtual Server",
            "Volume",
            "Volume",
            "MINUTE",
            "CAPPED_PAYG",
            "NONE",
            vec![plan("15GB", None, "0.014881", Some("600"))],
        ),
        spec(
            "logical-network",
            "JPY",
            "Logical Network",
            "Network",
            "Network",
            "MINUTE",
            "CAPPED_PAYG",
            "LOGICAL_NETWORK",
            vec![plan("network", Some(""), "0.074405", Some("3000"))],
        ),
        spec(
            "firewall",
            "JPY",
            "Firewall",
            "Firewall Instance",
            "Firewall Instance",
            "MINUTE",
            "CAPPED_PAYG_PLAN_CHANGE",
            "NONE",
            vec![plan(
                "vSRX 15.1X49-D105.1 Standard (2CPU-4GB-8IF)",
                None,
                "0.694445",
                Some("28000"),
            )],
        ),
        spec(
            "load-balancer",
            "JPY",
            "Load Balancer",
            "Load Balancer Instance",
            "Load Balancer Instance",
            "MINUTE",
            "CAPPED_PAYG_PLAN_CHANGE",
            "NONE",
            vec![plan(
                "NetScaler VPX 12.1-52.15 Standard_Edition (50Mbps 2CPU-8GB-4IF)",
                None,
                "0.694445",
                Some("28000"),
            )],
        ),
        spec(
            "image-storage-usd",
            "USD",
            "Image Storage",
            "Private ISO",
            "Private ISO",
            "MINUTE",
            "PAYG",
            "NONE",
            vec![plan("Private ISO", None, "0.000007", None)],
        ),
        spec(
            "volume-usd",
            "USD",
            "Virtual Server",
            "Volume",
            "Volume",
            "MINUTE",
            "CAPPED_PAYG",
            "NONE",
            vec![plan("15GB", None, "0.000164", Some("6.60"))],
        ),
        spec(
            "compute-usd",
            "USD",
            "Virtual Server",
            "Compute",
            "Compute",
            "MINUTE",
            "CAPPED_PAYG_PLAN_CHANGE",
            "NONE",
            vec![plan(
                "1CPU-4GB",
                Some("Flavor (1CPU-4GB)"),
                "0.001885",
                Some("76.00"),
            )],
        ),
        spec(
            "cf-shared-usd",
            "USD",
            "Cloud Foundry",
            "Shared",
            "Shared",
            "SECOND",
            "CAPPED_PAYG",
            "CLOUD_FOUNDRY_SHARED",
            vec![plan("128MB", None, "0.000005", Some("9.00"))],
        ),
        spec(
            "baremetal-os-usd",
            "USD",
            "Baremetal Server",
            "OS",
            "OS",
            "MONTH",
            "MONTHLY_FIXED",
            "NONE",
            vec![plan("RHEL, GP2", None, "118.00", None)],
        ),
        spec(
            "monitoring-usd",
            "USD",
            "Monitoring",
            "Monitoring",
            "Monitoring",
            "MONTH",
            "MONTHLY_FIXED",
            "MONITORING",
            vec![
                plan("Basic Plan", None, "0", None),
                plan("Advanced Plan", None, "23.00", None),
            ],
        ),
        spec(
            "cic-1g-usd",
            "USD",
            "Colocation Interconnectivity",
            "CIC",
            "Colocation Interconnectivity",
            "MONTH",
            "MONTHLY_FIXED",
            "CIC_1G",
            vec![plan("1Gbps", None, "630", None)],
        ),
        spec(
            "guest-image-windows-usd",
            "USD",
            "Guest Image",
            "Windows Server for Hyper-V",
            "Windows Server for Hyper-V",
            "MONTH",
            "MONTHLY_FIXED",
            "WINDOWS_GUEST_IMAGE",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_is_a_valid_menu() {
        for s in seeds() {
            let m = to_menu(&s).unwrap_or_else(|e| panic!("{}: {e:?}", s.code));
            assert_eq!(m.info.code, s.code);
        }
    }

    #[test]
    fn bad_specs_are_refused_with_the_field() {
        let mut s = seeds().remove(0);
        s.pattern = "SOMETIMES".into();
        assert_eq!(to_menu(&s).unwrap_err().field.as_deref(), Some("pattern"));
        let mut s = seeds().remove(0);
        s.plans[0].cap = None;
        assert_eq!(to_menu(&s).unwrap_err().field.as_deref(), Some("plans.cap"));
        let mut s = seeds().remove(0);
        s.plans[0].unit_price = "-1".into();
        assert_eq!(
            to_menu(&s).unwrap_err().field.as_deref(),
            Some("plans.unitPrice")
        );
        let mut s = seeds().remove(0);
        s.rule = "CIC_1G".into();
        assert_eq!(to_menu(&s).unwrap_err().field.as_deref(), Some("rule"));
    }
}
