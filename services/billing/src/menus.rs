//! The price list as the operator writes it ([`MenuSpec`]) and as rating needs it ([`Menu`]): each
//! spec checked field by field as it becomes a menu. The menus seeded at start are in
//! [`crate::seed_menus`].

use ecl_kernel::{AppError, AppResult};

pub use crate::seed_menus::{SEED_FROM, seeds};
use ecl_proto::billing::{self as proto, MenuSpec};
use rust_decimal::Decimal;

use crate::rating::{
    ChargePattern, CicSpeed, Currency, Menu, MenuInfo, PlanPrice, SpecialRule, SqlServerBasis, Unit,
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

/// A price list's currency as rating counts in it.
pub fn currency(c: proto::Currency) -> Currency {
    match c {
        proto::Currency::Jpy => Currency::Jpy,
        proto::Currency::Usd => Currency::Usd,
    }
}

/// A bill's currency as it travels (the same `JPY` / `USD` as [`Currency::code`]).
impl From<Currency> for proto::Currency {
    fn from(c: Currency) -> Self {
        match c {
            Currency::Jpy => proto::Currency::Jpy,
            Currency::Usd => proto::Currency::Usd,
        }
    }
}

fn unit(u: proto::ChargeUnit) -> Unit {
    use proto::ChargeUnit as U;
    match u {
        U::Second => Unit::Second,
        U::Minute => Unit::Minute,
        U::Hour => Unit::Hour,
        U::Day => Unit::Day,
        U::Month => Unit::Month,
        U::Gb => Unit::Gigabyte,
        U::Count => Unit::Count,
    }
}

fn pattern(p: proto::ChargePattern) -> ChargePattern {
    use proto::ChargePattern as P;
    match p {
        P::Payg => ChargePattern::Payg,
        P::CappedPayg => ChargePattern::CappedPayg,
        P::CappedPaygPlanChange => ChargePattern::CappedPaygPlanChange,
        P::MonthlyFixed => ChargePattern::MonthlyFixed,
        P::ProratedDaily => ChargePattern::ProratedDaily,
    }
}

fn rule(spec: &MenuSpec) -> AppResult<SpecialRule> {
    let amount = || -> AppResult<Decimal> {
        let a = spec.rule_amount.as_deref().ok_or_else(|| {
            AppError::invalid("ruleAmount", format!("rule {} needs ruleAmount", spec.rule))
        })?;
        dec("ruleAmount", a)
    };
    use proto::SpecialRule as R;
    Ok(match spec.rule {
        R::None => SpecialRule::None,
        R::LogicalNetwork => SpecialRule::LogicalNetwork,
        R::Cic1G => SpecialRule::Cic {
            speed: CicSpeed::OneGbps,
        },
        R::Cic10G => SpecialRule::Cic {
            speed: CicSpeed::TenGbps,
        },
        R::WindowsGuestImage => SpecialRule::WindowsGuestImage {
            flat_8_plus: amount()?,
        },
        R::Oracle => SpecialRule::Oracle {
            windows_monthly_fee: spec
                .rule_amount
                .as_deref()
                .map(|a| dec("ruleAmount", a))
                .transpose()?,
        },
        R::SqlServerVirtualServer => SpecialRule::SqlServer {
            basis: SqlServerBasis::VirtualServer,
        },
        R::SqlServerDedicatedHypervisor => SpecialRule::SqlServer {
            basis: SqlServerBasis::DedicatedHypervisor,
        },
        R::Monitoring => SpecialRule::Monitoring {
            basic_plan: spec.rule_plan.clone().ok_or_else(|| {
                AppError::invalid("rulePlan", "rule MONITORING needs rulePlan (the free plan)")
            })?,
        },
        R::CloudFoundryShared => SpecialRule::CloudFoundryShared,
        R::VirtualPrivateCf => SpecialRule::VirtualPrivateCf,
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
    let info = (
        v.note(text("service", &spec.service, 100)),
        v.note(text("category", &spec.category, 100)),
        v.note(text("name", &spec.name, 100)),
        currency(spec.currency),
    );
    let (unit, pattern, rule) = (unit(spec.unit), pattern(spec.pattern), v.note(rule(spec)));
    v.finish()?;
    let mut menu = Menu {
        info: MenuInfo {
            code: code?,
            service: info.0?,
            category: info.1?,
            subcategory: spec.subcategory.trim().to_owned(),
            name: info.2?,
            region: spec.region.trim().to_owned(),
            currency: info.3,
        },
        unit,
        pattern,
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
        // A pattern outside the closed set is not a `MenuSpec` at all: refused as it arrives.
        let mut json = serde_json::to_value(seeds().remove(0)).unwrap();
        json["pattern"] = "SOMETIMES".into();
        assert!(serde_json::from_value::<MenuSpec>(json).is_err());
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
        s.rule = proto::SpecialRule::Cic1G;
        assert_eq!(to_menu(&s).unwrap_err().field.as_deref(), Some("rule"));
    }
}
