//! Rating CPU against its floor (SPEC §6: charge patterns per resource per month; line amounts keep
//! 6 decimal places): the rating engine, the same at a child's end-user prices, and the bare
//! rust_decimal arithmetic they need.

use super::PER_RESOURCE;
use chrono::{DateTime, Duration as CDuration, Utc};
use ecl_billing::commercial::{
    end_user_bill::EndUserPrices,
    price_rules::{PriceRule, Pricing, RuleScope, in_force},
};
use ecl_billing::rating::{Menu, Month, Period, Resource, UsageInterval, prepare};
use rust_decimal::Decimal;
use std::time::Instant;

/// Rating CPU against its floor: the same resources rated by the engine, rated at a child's
/// end-user prices, and the bare rust_decimal arithmetic they need (per interval minutes ×
/// price, per resource the cap). Returns (engine, end-user, floor) seconds.
pub fn rating_vs_floor(resources: usize, month: Month) -> anyhow::Result<(f64, f64, f64)> {
    let menus: Vec<Menu> = ecl_billing::menus::seeds()
        .iter()
        .filter(|s| s.code == "compute" || s.code == "volume")
        .map(ecl_billing::menus::to_menu)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let t0 = month.start();
    let mut res = Vec::with_capacity(resources);
    for r in 0..resources {
        let (menu, plan) = if r % 2 == 0 {
            ("compute", "1CPU-4GB")
        } else {
            ("volume", "15GB")
        };
        let mut x = Resource::new(format!("res-{r}"), menu);
        for k in 0..(PER_RESOURCE - 1) {
            let s: DateTime<Utc> = t0 + CDuration::hours((r % 48) as i64 + k as i64 * 60);
            let e = s + CDuration::hours(60);
            x = x.with_interval(
                UsageInterval::new(plan, s, Some(e)).with_status(if k % 2 == 0 {
                    "Running"
                } else {
                    "Stopped"
                }),
            );
        }
        res.push(x);
    }
    let period = Period::whole(month);
    // One child's end-user prices (the partner's 20 % markup, and a fixed price of the compute
    // plan): the price list re-priced once; each chunk of resources is then prepared (menus
    // resolved, usage checked and cut to the month), rated at wholesale (the engine's figure) and
    // rated again at those prices from what was prepared (the re-pricing), as the close does.
    let rules = [
        PriceRule {
            id: "markup".into(),
            partner_id: "p".into(),
            child_id: None,
            scope: RuleScope::All,
            pricing: Pricing::Markup {
                percent: Decimal::from(20),
            },
            effective_from: month,
            last_month: None,
        },
        PriceRule {
            id: "fixed".into(),
            partner_id: "p".into(),
            child_id: Some("c".into()),
            scope: RuleScope::Menu("compute".into()),
            pricing: Pricing::Fixed {
                plan: "1CPU-4GB".into(),
                unit_price: Decimal::new(2, 1),
                cap: None,
            },
            effective_from: month,
            last_month: None,
        },
    ];
    let started = Instant::now();
    let prices = EndUserPrices::new(&menus, &in_force(&rules, "c", month), "c");
    let mut end_user = started.elapsed();
    let mut engine = std::time::Duration::ZERO;
    let mut lines = 0usize;
    for chunk in res.chunks(1000) {
        let started = Instant::now();
        let p = prepare(&menus, chunk, &period).map_err(|e| anyhow::anyhow!("{e}"))?;
        let c = p.rate(&menus).map_err(|e| anyhow::anyhow!("{e}"))?;
        let rated = Instant::now();
        engine += rated - started;
        let e = p.rate(&prices.menus).map_err(|e| anyhow::anyhow!("{e}"))?;
        end_user += rated.elapsed();
        lines += c
            .resources
            .iter()
            .chain(&e.resources)
            .map(|r| r.lines.len())
            .sum::<usize>();
    }
    let (engine, end_user) = (engine.as_secs_f64(), end_user.as_secs_f64());
    std::hint::black_box(lines);

    let price = Decimal::new(173_612, 6);
    let cap = Decimal::from(7000);
    let sixty = Decimal::from(60);
    let started = Instant::now();
    let mut total = Decimal::ZERO;
    for r in &res {
        let mut sum = Decimal::ZERO;
        for i in &r.intervals {
            let secs = (i.end.unwrap_or(i.start) - i.start).num_seconds();
            let minutes = Decimal::from(secs) / sixty;
            sum +=
                (minutes * price).round_dp_with_strategy(6, rust_decimal::RoundingStrategy::ToZero);
        }
        total += sum.min(cap);
    }
    let floor = started.elapsed().as_secs_f64();
    std::hint::black_box(total);
    Ok((engine, end_user, floor))
}
