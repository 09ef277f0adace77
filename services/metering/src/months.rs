//! Billing months: calendar months, UTC, named `YYYY-MM`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ecl_kernel::{AppError, AppResult};

/// `[first instant, first instant of the next month)` of a `YYYY-MM`.
pub fn range(month: &str) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let bad = || AppError::invalid("month", format!("month {month:?} is not YYYY-MM"));
    let (y, m) = month.split_once('-').ok_or_else(bad)?;
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let start = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
    let start = start.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc();
    Ok((start, next_start(start)))
}

/// `YYYY-MM` of an instant.
pub fn name(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

/// The first instant of the month after the one `t` is in.
pub fn next_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The month starts after `from` up to and including the one after `last` (ascending).
pub fn starts_after(from: DateTime<Utc>, last: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let end = next_start(last);
    let mut out = Vec::new();
    let mut s = next_start(from);
    while s <= end {
        out.push(s);
        s = next_start(s);
    }
    out
}
