//! Billing months and rating periods.

use chrono::{DateTime, Utc};

/// A billing month: a calendar month in UTC (seed 003: "Fee Month"); the kernel's, shared with
/// metering and SLA.
pub use ecl_kernel::Month;

/// The stretch of a billing month that is rated: the whole month for a closed (fixed) bill, or the
/// month up to "now" for the current month's estimate (seed 002: estimated vs fixed).
///
/// Open usage intervals (a resource still running) are cut at [`Period::until`], so the same usage
/// data gives a growing estimate during the month and the final figure once the month is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    month: Month,
    until: DateTime<Utc>,
}

impl Period {
    /// The whole month.
    pub fn whole(month: Month) -> Self {
        Self {
            month,
            until: month.end(),
        }
    }

    /// The month up to `as_of` (clamped into the month): the basis of an estimate.
    pub fn until(month: Month, as_of: DateTime<Utc>) -> Self {
        let until = as_of.clamp(month.start(), month.end());
        Self { month, until }
    }

    pub fn month(&self) -> Month {
        self.month
    }

    /// Inclusive start (the month's start).
    pub fn start(&self) -> DateTime<Utc> {
        self.month.start()
    }

    /// Exclusive end of what is rated.
    pub fn end(&self) -> DateTime<Utc> {
        self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn period_clamps_as_of_into_the_month() {
        let aug = Month::parse("2019-08").unwrap();
        let mid = Utc.with_ymd_and_hms(2019, 8, 30, 7, 25, 38).unwrap();
        assert_eq!(Period::until(aug, mid).end(), mid);
        let later = Utc.with_ymd_and_hms(2019, 10, 1, 0, 0, 0).unwrap();
        assert_eq!(Period::until(aug, later), Period::whole(aug));
        let earlier = Utc.with_ymd_and_hms(2019, 7, 1, 0, 0, 0).unwrap();
        assert_eq!(Period::until(aug, earlier).end(), aug.start());
    }
}
