//! Bare-metal part replacement (seed 004 "SLA for Baremetal Server"): not uptime but how soon a
//! failed part is replaced. T1 detection, T2 the earliest proposed replacement, T3 the agreed
//! start; T4 = T2 − T1 in whole days by UTC date. The failure day or the next: no credit; 2 days
//! 20 %, 3: 40 %, 4: 60 %, 5: 80 %, 6 or more 100 %; 100 % when the replacement did not start at
//! the agreed time. Several breaches of one server in a month add up, capped at 100 %.

use chrono::{DateTime, Utc};

/// The parts the SLA covers (Table 1); RAID controller / NIC / disk failures are outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Both chassis power supplies (cold swap).
    ChassisPowerSupply,
    Cpu,
    Memory,
    /// Both power supplies by power-supply status (hot swap).
    PowerSupply,
    Fan,
}

/// T4 in days: UTC calendar dates, not 24-hour periods.
pub fn t4_days(t1: DateTime<Utc>, t2: DateTime<Utc>) -> i64 {
    (t2.date_naive() - t1.date_naive()).num_days()
}

/// The credit rate in percent of one replacement. `started_late`: the replacement did not start
/// at the time agreed with the customer (T3).
pub fn rate_percent(t1: DateTime<Utc>, t2: DateTime<Utc>, started_late: bool) -> u32 {
    if started_late {
        return 100;
    }
    match t4_days(t1, t2) {
        i64::MIN..=1 => 0,
        2 => 20,
        3 => 40,
        4 => 60,
        5 => 80,
        _ => 100,
    }
}

/// Whether the work missed its appointment: it started after the agreed start, or had not
/// started by `now` when the agreed start has passed.
pub fn started_late(
    agreed: DateTime<Utc>,
    actual: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    match actual {
        Some(a) => a > agreed,
        None => now > agreed,
    }
}

/// A month's breaches of one server add up, capped at 100 %.
pub fn month_percent(rates: impl IntoIterator<Item = u32>) -> u32 {
    rates.into_iter().sum::<u32>().min(100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    #[test]
    fn t4_counts_utc_dates_not_hours() {
        // 23:00 to 01:00 the next day is 1 day (two hours), 00:00 to 23:00 is 0.
        assert_eq!(t4_days(t(1, 23), t(2, 1)), 1);
        assert_eq!(t4_days(t(1, 0), t(1, 23)), 0);
        assert_eq!(t4_days(t(1, 23), t(3, 0)), 2);
    }

    #[test]
    fn each_day_count_has_its_rate() {
        let t1 = t(1, 12);
        for (days, pct) in [
            (0, 0),
            (1, 0),
            (2, 20),
            (3, 40),
            (4, 60),
            (5, 80),
            (6, 100),
            (9, 100),
        ] {
            assert_eq!(rate_percent(t1, t(1 + days, 9), false), pct, "{days} days");
        }
    }

    #[test]
    fn a_missed_appointment_is_100_percent() {
        let t1 = t(1, 12);
        assert_eq!(rate_percent(t1, t(1, 13), true), 100);
        let agreed = t(3, 9);
        assert!(started_late(agreed, Some(t(3, 10)), t(5, 0)));
        assert!(!started_late(agreed, Some(agreed), t(5, 0)));
        assert!(!started_late(agreed, Some(t(3, 8)), t(5, 0)));
        assert!(started_late(agreed, None, t(3, 10)));
        assert!(!started_late(agreed, None, t(3, 8)));
    }

    #[test]
    fn breaches_of_a_month_add_up_to_at_most_100() {
        assert_eq!(month_percent([20, 40]), 60);
        assert_eq!(month_percent([60, 80]), 100);
        assert_eq!(month_percent([]), 0);
    }
}
