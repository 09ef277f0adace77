//! Billing months and rating periods.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A billing month: a calendar month in UTC (seed 003: "Fee Month").
///
/// Kept as (year, month) rather than a date so that "the 2019-08 bill" can never be confused with
/// an instant; [`Month::start`] / [`Month::end`] give the half-open UTC range when time is needed.
/// Serialised as `"YYYY-MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a string or a pair of numbers is not a [`Month`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonthError {
    #[error("month must be written YYYY-MM, got {0:?}")]
    Format(String),
    #[error("month number must be 1..=12, got {0}")]
    MonthOutOfRange(u32),
    #[error("year must be 1970..=9999, got {0}")]
    YearOutOfRange(i32),
}

impl Month {
    /// A month from its year and month number (1 = January). Years are limited to 1970..=9999 so
    /// that every month has a four-digit `YYYY-MM` spelling and a representable UTC start.
    pub fn new(year: i32, month: u32) -> Result<Self, MonthError> {
        if !(1970..=9999).contains(&year) {
            return Err(MonthError::YearOutOfRange(year));
        }
        if !(1..=12).contains(&month) {
            return Err(MonthError::MonthOutOfRange(month));
        }
        Ok(Self { year, month })
    }

    /// Parses exactly `YYYY-MM` (four digits, a dash, two digits), the spelling used by the CSV
    /// exports and the API. Anything looser (`2019-8`, `2019-08-01`) is refused so that a month
    /// key has one spelling only.
    pub fn parse(s: &str) -> Result<Self, MonthError> {
        let bytes = s.as_bytes();
        let well_formed = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[5..].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(MonthError::Format(s.to_owned()));
        }
        let year: i32 = s[..4]
            .parse()
            .map_err(|_| MonthError::Format(s.to_owned()))?;
        let month: u32 = s[5..]
            .parse()
            .map_err(|_| MonthError::Format(s.to_owned()))?;
        Self::new(year, month)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// Month number, 1 = January.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The month after this one.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month before this one.
    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("validated month")
    }

    /// 00:00:00 UTC on the first day: the inclusive start of the month.
    pub fn start(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.first_day().and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// The exclusive end of the month (the start of the next one).
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// Number of days in the month.
    pub fn days(self) -> u32 {
        (self.end() - self.start()).num_days() as u32
    }

    /// The month containing an instant.
    pub fn containing(t: DateTime<Utc>) -> Self {
        use chrono::Datelike;
        Self {
            year: t.year(),
            month: t.month(),
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = MonthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Month {
    type Error = MonthError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> Self {
        m.to_string()
    }
}

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

    #[test]
    fn parses_and_prints_yyyy_mm() {
        let m = Month::parse("2019-08").unwrap();
        assert_eq!((m.year(), m.month()), (2019, 8));
        assert_eq!(m.to_string(), "2019-08");
        assert_eq!(
            "2020-12".parse::<Month>().unwrap(),
            Month::new(2020, 12).unwrap()
        );
    }

    #[test]
    fn refuses_malformed_months() {
        for bad in [
            "2019-8",
            "2019-13",
            "2019-00",
            "19-08",
            "2019-08-01",
            "2019/08",
            "abcd-ef",
            "",
            "2019-+1",
            "1969-12",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            Month::parse("2019-13"),
            Err(MonthError::MonthOutOfRange(13))
        );
    }

    #[test]
    fn month_arithmetic_and_ranges() {
        let dec = Month::parse("2019-12").unwrap();
        assert_eq!(dec.next().to_string(), "2020-01");
        assert_eq!(dec.next().prev(), dec);
        assert_eq!(Month::parse("2020-02").unwrap().days(), 29);
        assert_eq!(Month::parse("2019-02").unwrap().days(), 28);
        assert_eq!(Month::parse("2019-08").unwrap().days(), 31);
        let aug = Month::parse("2019-08").unwrap();
        assert_eq!(
            aug.start(),
            Utc.with_ymd_and_hms(2019, 8, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            aug.end(),
            Utc.with_ymd_and_hms(2019, 9, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            Month::containing(Utc.with_ymd_and_hms(2019, 8, 31, 23, 59, 59).unwrap()),
            aug
        );
    }

    #[test]
    fn serde_uses_the_string_form() {
        let m = Month::parse("2019-10").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"2019-10\"");
        assert_eq!(serde_json::from_str::<Month>("\"2019-10\"").unwrap(), m);
        assert!(serde_json::from_str::<Month>("\"2019-1\"").is_err());
    }

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
