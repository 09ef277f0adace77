//! Monthly uptime (seed 004 "Monthly Uptime Percentage"): the month always counts 720 hours =
//! 43,200 minutes, whatever the calendar says; downtime is the union of the month's `FAILURE`
//! intervals (overlaps count once), clipped to the calendar month, minus the maintenance windows
//! (announced or urgent), which are never downtime. Every other cause (force majeure, customer
//! caused, third party, an HA switch-over that worked) is not downtime at all.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// 720 hours, in microseconds — the denominator of every month, 28 days or 31.
pub const MONTH_MICROS: i64 = 43_200 * 60 * 1_000_000;

/// Why an incident happened; only [`Cause::Failure`] is downtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    Failure,
    ForceMajeure,
    CustomerCaused,
    HaSwitchoverOk,
    /// E.g. the internet outside the provider (Internet Connectivity's own note in seed 004).
    ThirdParty,
}

impl Cause {
    pub fn counts_as_downtime(self) -> bool {
        self == Cause::Failure
    }
}

/// A half-open interval `[from, to)` in microseconds since the epoch; `to = None` is still open
/// (not restored yet: it runs to the end of whatever range it is measured in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: i64,
    pub to: Option<i64>,
}

/// Sorted, merged intervals of `spans` clipped to `[lo, hi)`.
fn merged(spans: &[Span], lo: i64, hi: i64) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = spans
        .iter()
        .map(|s| (s.from.max(lo), s.to.unwrap_or(hi).min(hi)))
        .filter(|(a, b)| a < b)
        .collect();
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some((_, e)) if a <= *e => *e = (*e).max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Downtime in microseconds of one tenant × menu in the month `[start, end)`: the union of
/// `failures` minus the union of `maintenance`, both clipped to the month.
pub fn downtime_micros(
    failures: &[Span],
    maintenance: &[Span],
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> i64 {
    let (lo, hi) = (start.timestamp_micros(), end.timestamp_micros());
    let down = merged(failures, lo, hi);
    let excluded = merged(maintenance, lo, hi);
    let mut total = 0;
    for (a, b) in down {
        let mut len = b - a;
        for &(x, y) in &excluded {
            let (o1, o2) = (a.max(x), b.min(y));
            if o1 < o2 {
                len -= o2 - o1;
            }
        }
        total += len;
    }
    total
}

/// Uptime % = (43,200 min − downtime) / 43,200 min × 100, to 4 decimal places rounded down
/// (99.99 is shown only when reached); never below 0 (a 31-day month can hold more than 720
/// hours of downtime).
pub fn uptime_percent(downtime_micros: i64) -> Decimal {
    let up = (MONTH_MICROS - downtime_micros).max(0);
    let mut pct = (Decimal::from(up) * Decimal::from(100) / Decimal::from(MONTH_MICROS))
        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero);
    pct.rescale(4); // always four places: "99.0000", not "99"
    pct
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ecl_kernel::Month;

    const MIN: i64 = 60 * 1_000_000;

    /// The calendar month `[start, end)` in UTC (the kernel's month bounds).
    fn month_range(y: i32, m: u32) -> (DateTime<Utc>, DateTime<Utc>) {
        Month::new(y, m).unwrap().range()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, d, h, mi, 0)
            .unwrap()
            .timestamp_micros()
    }
    fn span(a: i64, b: i64) -> Span {
        Span {
            from: a,
            to: Some(b),
        }
    }

    #[test]
    fn every_month_is_43200_minutes_whatever_its_days() {
        assert_eq!(MONTH_MICROS, 43_200 * MIN);
        // The same 432 minutes of downtime is the same 99.0 % in February, April and March.
        for (y, m) in [(2026, 2), (2026, 4), (2026, 3), (2024, 2)] {
            let r = month_range(y, m);
            let t = r.0.timestamp_micros() + 3 * 24 * 60 * MIN;
            let d = downtime_micros(&[span(t, t + 432 * MIN)], &[], r);
            assert_eq!(d, 432 * MIN);
            assert_eq!(uptime_percent(d).to_string(), "99.0000", "{y}-{m}");
        }
        let (s, e) = month_range(2026, 2);
        assert_eq!((e - s).num_days(), 28);
        let (s, e) = month_range(2026, 12);
        assert_eq!((e - s).num_days(), 31);
    }

    #[test]
    fn a_whole_31_day_month_down_is_zero_not_negative() {
        let r = month_range(2026, 1);
        let d = downtime_micros(
            &[Span {
                from: at(2025, 12, 20, 0, 0),
                to: None,
            }],
            &[],
            r,
        );
        assert_eq!(d, 31 * 24 * 60 * MIN);
        assert_eq!(uptime_percent(d), Decimal::ZERO);
        assert_eq!(uptime_percent(0).to_string(), "100.0000");
    }

    #[test]
    fn overlapping_failures_count_once_and_are_clipped_to_the_month() {
        let r = month_range(2026, 3);
        let a = at(2026, 3, 10, 10, 0);
        let failures = [
            span(a, a + 60 * MIN),
            span(a + 30 * MIN, a + 90 * MIN), // overlaps the first
            span(a + 60 * MIN, a + 70 * MIN), // inside both
            span(a + 200 * MIN, a + 210 * MIN),
            // Starts in February: only March's part counts.
            span(at(2026, 2, 28, 23, 0), at(2026, 3, 1, 0, 20)),
            // Still open at the end of the month: runs to the month's end.
            Span {
                from: at(2026, 3, 31, 23, 50),
                to: None,
            },
        ];
        assert_eq!(
            downtime_micros(&failures, &[], r),
            (90 + 10 + 20 + 10) * MIN
        );
    }

    #[test]
    fn maintenance_windows_are_not_downtime() {
        let r = month_range(2026, 3);
        let a = at(2026, 3, 10, 10, 0);
        let failures = [span(a, a + 100 * MIN)];
        // An announced window covering the first 30 minutes and an urgent one the last 10.
        let maintenance = [
            span(a - 10 * MIN, a + 30 * MIN),
            span(a + 90 * MIN, a + 120 * MIN),
            span(a + 95 * MIN, a + 100 * MIN), // overlaps the urgent one: excluded once
        ];
        assert_eq!(downtime_micros(&failures, &maintenance, r), 60 * MIN);
        // Maintenance alone is no downtime.
        assert_eq!(downtime_micros(&[], &maintenance, r), 0);
    }

    #[test]
    fn only_failures_are_downtime() {
        assert!(Cause::Failure.counts_as_downtime());
        for c in [
            Cause::ForceMajeure,
            Cause::CustomerCaused,
            Cause::HaSwitchoverOk,
            Cause::ThirdParty,
        ] {
            assert!(!c.counts_as_downtime(), "{c:?}");
        }
    }

    #[test]
    fn months_parse_as_yyyy_mm() {
        assert_eq!(
            Month::parse_as("month", "2026-02").unwrap(),
            Month::new(2026, 2).unwrap()
        );
        for bad in ["2026-13", "2026-2", "26-02", "2026/02", ""] {
            assert!(Month::parse_as("month", bad).is_err(), "{bad}");
        }
        assert_eq!(Month::new(2026, 3).unwrap().to_string(), "2026-03");
    }

    #[test]
    fn uptime_is_rounded_down() {
        // 4 min 19 s of 43,200 min = 99.990008 %; 4 min 20 s = 99.989969 % (shown 99.9899).
        assert_eq!(uptime_percent(259 * 1_000_000).to_string(), "99.9900");
        assert_eq!(uptime_percent(260 * 1_000_000).to_string(), "99.9899");
    }
}
