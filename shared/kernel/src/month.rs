//! The billing month: one calendar month, named `YYYY-MM` (SPEC §5: "per billing month (calendar
//! month, UTC)"). Metering, billing and SLA all count by it, so it lives here once instead of as
//! three sets of `(year, month)` arithmetic.
//!
//! Kept as (year, month) rather than a date or an instant, so that "the 2019-08 bill" can never be
//! confused with a moment; [`Month::start`] / [`Month::end`] give the half-open UTC range when time
//! is needed. Bills, usage and SLA months are UTC today (every service computed its bounds at
//! 00:00 UTC); [`Month::start_in`] / [`Month::start_jst`] give the same month's bounds in another
//! offset for a rule that needs Japanese time, without a second type.
//!
//! Serialised as the `"YYYY-MM"` string, so a message that carries a `Month` is byte-for-byte the
//! message that carried the string before.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A calendar month. Ordered by time (`2019-12 < 2020-01`).
///
/// Tables keep months as their `YYYY-MM` text (it sorts as the months do and reads well in a
/// dump): as an entity field a `Month` is a string column, exactly what the frozen migrations
/// created for the `String` fields it replaces, and a stored value that does not parse is a
/// database fault.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    sea_orm::DeriveValueType,
)]
#[serde(try_from = "String", into = "String")]
#[sea_orm(value_type = "String")]
pub struct Month {
    // Field order matters: the derived `Ord` compares the year first.
    year: i32,
    month: u32,
}

impl Month {
    /// The earliest year [`Month::parse`] accepts.
    pub const MIN_YEAR: i32 = 1970;
    /// The latest year [`Month::parse`] accepts: every month has a four-digit spelling.
    pub const MAX_YEAR: i32 = 9999;

    /// A month from its year and month number (1 = January), or `INVALID_INPUT` on `month`.
    /// Years are limited to 1970..=9999 so that every month parsed has a four-digit `YYYY-MM`
    /// spelling and a representable UTC start.
    pub fn new(year: i32, month: u32) -> AppResult<Self> {
        Self::new_as("month", year, month)
    }

    fn new_as(field: &str, year: i32, month: u32) -> AppResult<Self> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(AppError::invalid(
                field,
                format!(
                    "{field}: year must be {}..={}, got {year}",
                    Self::MIN_YEAR,
                    Self::MAX_YEAR
                ),
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(AppError::invalid(
                field,
                format!("{field}: month number must be 1..=12, got {month}"),
            ));
        }
        Ok(Self { year, month })
    }

    /// Parses exactly `YYYY-MM` (four digits, a dash, two digits): `INVALID_INPUT` on `month`
    /// otherwise. Anything looser (`2019-8`, `2019-08-01`, ` 2019-08`) is refused so that a month
    /// key has one spelling only.
    pub fn parse(s: &str) -> AppResult<Self> {
        Self::parse_as("month", s)
    }

    /// [`Month::parse`], the error naming `field` (`effectiveFrom`, `lastMonth`…).
    pub fn parse_as(field: &str, s: &str) -> AppResult<Self> {
        let b = s.as_bytes();
        let well_formed = b.len() == 7
            && b[4] == b'-'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[5..].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(AppError::invalid(
                field,
                format!("{field} must be written YYYY-MM, got {s:?}"),
            ));
        }
        // Both parts are ASCII digits of a fixed width: they parse.
        let year: i32 = s[..4].parse().unwrap_or_default();
        let month: u32 = s[5..].parse().unwrap_or_default();
        Self::new_as(field, year, month)
    }

    /// The month an instant falls in (UTC).
    pub fn containing(t: DateTime<Utc>) -> Self {
        Self {
            year: t.year(),
            month: t.month(),
        }
    }

    /// The month a calendar day falls in.
    pub fn of_date(d: NaiveDate) -> Self {
        Self {
            year: d.year(),
            month: d.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// Month number, 1 = January.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Months since year 0, so that month arithmetic is integer arithmetic.
    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    fn from_index(i: i64) -> Self {
        Self {
            year: i.div_euclid(12) as i32,
            month: i.rem_euclid(12) as u32 + 1,
        }
    }

    /// The month after this one.
    pub fn next(self) -> Self {
        self.add_months(1)
    }

    /// The month before this one.
    pub fn prev(self) -> Self {
        self.add_months(-1)
    }

    /// The month `n` months later (earlier for a negative `n`). Arithmetic is not limited to the
    /// years [`Month::parse`] accepts: the result is always a real calendar month.
    pub fn add_months(self, n: i32) -> Self {
        Self::from_index(self.index() + i64::from(n))
    }

    /// How many months `self` is after `earlier` (negative when before).
    pub fn months_since(self, earlier: Month) -> i64 {
        self.index() - earlier.index()
    }

    /// `self`, the month after, … up to and including `last` (empty when `last` is earlier).
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        (self.index()..=last.index()).map(Self::from_index)
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a month's first day exists")
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a day before the 1st")
    }

    /// Number of days in the month (28 to 31).
    pub fn days(self) -> u32 {
        self.last_day().day()
    }

    /// 00:00:00 UTC on the first day: the inclusive start of the month.
    pub fn start(self) -> DateTime<Utc> {
        self.first_day()
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
    }

    /// The exclusive end of the month (the start of the next one), UTC.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// `[start, end)` in UTC.
    pub fn range(self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.start(), self.end())
    }

    /// 00:00 on the first day at a fixed offset from UTC (the month as a clock there reads it).
    pub fn start_in(self, offset: FixedOffset) -> DateTime<FixedOffset> {
        offset
            .from_local_datetime(&self.first_day().and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("a fixed offset has no gaps")
    }

    /// 00:00 JST (UTC+9, no daylight saving) on the first day: 15:00 UTC the day before.
    pub fn start_jst(self) -> DateTime<FixedOffset> {
        self.start_in(jst())
    }

    /// Is the instant within the month (UTC)?
    pub fn contains(self, t: DateTime<Utc>) -> bool {
        Self::containing(t) == self
    }

    /// Is the day within the month?
    pub fn contains_date(self, d: NaiveDate) -> bool {
        Self::of_date(d) == self
    }
}

/// Japan Standard Time, UTC+9 all year.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Month {
    type Error = AppError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for Month {
    type Error = AppError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> Self {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn m(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn parses_and_prints_yyyy_mm() {
        let aug = m("2019-08");
        assert_eq!((aug.year(), aug.month()), (2019, 8));
        assert_eq!(aug.to_string(), "2019-08");
        assert_eq!(
            "2020-12".parse::<Month>().unwrap(),
            Month::new(2020, 12).unwrap()
        );
        assert_eq!(m("1970-01").to_string(), "1970-01");
        assert_eq!(m("9999-12").to_string(), "9999-12");
    }

    #[test]
    fn refuses_malformed_months_with_a_coded_field_error() {
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
            " 2019-08",
            "2019-08 ",
            "２０１９-08",
            "+019-08",
        ] {
            let e = Month::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
            assert_eq!(e.field.as_deref(), Some("month"), "{bad:?}");
        }
        let e = Month::parse_as("effectiveFrom", "2019-13").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("effectiveFrom"));
        assert!(e.message.contains("1..=12"), "{}", e.message);
        assert_eq!(
            Month::new(2019, 0).unwrap_err().code,
            ErrorCode::InvalidInput
        );
        assert_eq!(
            Month::new(10_000, 1).unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }

    #[test]
    fn december_runs_into_january_and_back() {
        let dec = m("2019-12");
        assert_eq!(dec.next(), m("2020-01"));
        assert_eq!(m("2020-01").prev(), dec);
        assert_eq!(dec.next().prev(), dec);
        assert_eq!(dec.add_months(2), m("2020-02"));
        assert_eq!(dec.add_months(-12), m("2018-12"));
        assert_eq!(dec.add_months(-11), m("2019-01"));
        assert_eq!(dec.add_months(25), m("2022-01"));
        assert_eq!(m("2020-01").add_months(-1), dec);
        assert_eq!(dec.add_months(0), dec);
        assert_eq!(m("2022-01").months_since(dec), 25);
        assert_eq!(dec.months_since(m("2022-01")), -25);
    }

    #[test]
    fn ordered_by_time() {
        assert!(m("2019-12") < m("2020-01"));
        assert!(m("2019-02") < m("2019-10"));
        let mut v = vec![m("2020-01"), m("2019-10"), m("2019-02")];
        v.sort();
        assert_eq!(v, [m("2019-02"), m("2019-10"), m("2020-01")]);
        let all: Vec<_> = m("2019-11").through(m("2020-02")).collect();
        assert_eq!(
            all,
            [m("2019-11"), m("2019-12"), m("2020-01"), m("2020-02")]
        );
        assert_eq!(m("2020-02").through(m("2019-11")).count(), 0);
    }

    #[test]
    fn days_in_month_28_29_30_31() {
        assert_eq!(m("2019-02").days(), 28);
        assert_eq!(m("2020-02").days(), 29); // divisible by 4
        assert_eq!(m("2100-02").days(), 28); // by 100, not by 400
        assert_eq!(m("2000-02").days(), 29); // by 400
        assert_eq!(m("2019-04").days(), 30);
        assert_eq!(m("2019-08").days(), 31);
        assert_eq!(m("2019-12").days(), 31);
        assert_eq!(
            m("2020-02").last_day(),
            NaiveDate::from_ymd_opt(2020, 2, 29).unwrap()
        );
        assert_eq!(
            m("2019-12").first_day(),
            NaiveDate::from_ymd_opt(2019, 12, 1).unwrap()
        );
    }

    #[test]
    fn bounds_in_utc_and_jst() {
        let aug = m("2019-08");
        assert_eq!(aug.start(), utc(2019, 8, 1, 0, 0, 0));
        assert_eq!(aug.end(), utc(2019, 9, 1, 0, 0, 0));
        assert_eq!(aug.range(), (aug.start(), aug.end()));
        assert_eq!(m("2019-12").end(), utc(2020, 1, 1, 0, 0, 0));
        // Midnight in Tokyo on the 1st is 15:00 UTC the day before.
        assert_eq!(
            aug.start_jst().with_timezone(&Utc),
            utc(2019, 7, 31, 15, 0, 0)
        );
        assert_eq!(
            m("2020-01").start_jst().with_timezone(&Utc),
            utc(2019, 12, 31, 15, 0, 0)
        );
        assert_eq!(aug.start_jst().to_rfc3339(), "2019-08-01T00:00:00+09:00");
    }

    #[test]
    fn contains_instants_and_days_half_open() {
        let aug = m("2019-08");
        assert!(aug.contains(utc(2019, 8, 1, 0, 0, 0)));
        assert!(aug.contains(utc(2019, 8, 31, 23, 59, 59)));
        assert!(!aug.contains(utc(2019, 9, 1, 0, 0, 0)));
        assert!(!aug.contains(utc(2019, 7, 31, 23, 59, 59)));
        assert_eq!(Month::containing(utc(2019, 8, 31, 23, 59, 59)), aug);
        assert!(aug.contains_date(NaiveDate::from_ymd_opt(2019, 8, 31).unwrap()));
        assert!(!aug.contains_date(NaiveDate::from_ymd_opt(2018, 8, 31).unwrap()));
        let feb = m("2020-02");
        assert!(feb.contains_date(NaiveDate::from_ymd_opt(2020, 2, 29).unwrap()));
        assert_eq!(
            Month::of_date(NaiveDate::from_ymd_opt(2020, 2, 29).unwrap()),
            feb
        );
    }

    #[test]
    fn serde_is_the_yyyy_mm_string() {
        let oct = m("2019-10");
        assert_eq!(serde_json::to_string(&oct).unwrap(), "\"2019-10\"");
        assert_eq!(serde_json::from_str::<Month>("\"2019-10\"").unwrap(), oct);
        assert!(serde_json::from_str::<Month>("\"2019-1\"").is_err());
        assert!(serde_json::from_str::<Month>("201910").is_err());
        // Inside a message, exactly as a String field was.
        #[derive(Serialize, Deserialize)]
        struct Msg {
            month: Month,
            pairs: Vec<(String, Month)>,
        }
        let json = r#"{"month":"2019-10","pairs":[["ten_1","2019-11"]]}"#;
        let msg: Msg = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&msg).unwrap(), json);
    }

    #[test]
    fn a_column_of_text() {
        use sea_orm::sea_query::{ColumnType, StringLen, ValueType};
        assert_eq!(
            <Month as ValueType>::column_type(),
            ColumnType::String(StringLen::None)
        );
        let v: sea_orm::Value = m("2019-10").into();
        assert_eq!(v, sea_orm::Value::from("2019-10".to_string()));
        assert_eq!(<Month as ValueType>::try_from(v).unwrap(), m("2019-10"));
        assert!(
            <Month as ValueType>::try_from(sea_orm::Value::from("2019-1".to_string())).is_err()
        );
    }
}
