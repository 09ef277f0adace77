//! The month close (SPEC §6: past months are fixed after the operator closes the month; a
//! partner's end-user bills are priced from its price rules), timed, and its phases as billing's
//! metrics give them.

use super::sys;
use ecl_billing::rating::Month;
use ecl_bus::Bus;
use ecl_proto::billing::CloseMonth;
use std::time::Instant;

pub async fn close(bus: &Bus, month: Month) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    let r = bus.call(&sys(), &CloseMonth { month }).await?;
    Ok((started.elapsed().as_secs_f64(), r.bills))
}

/// The phases of the last month close, as the billing process's metrics give them
/// (`ecl_billing_month_close_seconds{phase=…}`): usage, rating, bills, repricing,
/// end_user_bills, total.
pub fn close_phases(metrics: &str) -> Vec<(String, f64)> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("ecl_billing_month_close_seconds{phase=\""))
        .filter_map(|l| {
            let (phase, rest) = l.split_once("\"}")?;
            Some((phase.to_string(), rest.trim().parse().ok()?))
        })
        .collect()
}

pub fn print_close_phases(what: &str, metrics: &str) {
    let phases = close_phases(metrics);
    let get = |p: &str| phases.iter().find(|(n, _)| n == p).map(|(_, s)| *s);
    let line: Vec<String> = phases
        .iter()
        .map(|(p, s)| format!("{p} {s:.2} s"))
        .collect();
    println!("{what} month close by phase: {}", line.join(", "));
    if let (Some(rating), Some(repricing)) = (get("rating"), get("repricing"))
        && repricing > 0.0
    {
        println!(
            "{what} end-user bills: wholesale rating {rating:.2} s, re-pricing {repricing:.2} s = {:.2}× (aim ≤ 1.2×)",
            repricing / rating
        );
        if let (Some(bills), Some(end_user)) = (get("bills"), get("end_user_bills")) {
            // each tenant of a child is in two wholesale bills (the child's, the partner's)
            println!(
                "{what} bills built, adjusted and stored: wholesale {bills:.2} s (every child's tenants in two bills), end-user {end_user:.2} s"
            );
        }
    }
}
