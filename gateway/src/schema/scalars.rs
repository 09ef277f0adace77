//! The schema's own scalars — `DateTime`, `Month`, `Decimal` — and the bridge between the
//! schema's enums and the values services exchange today.
//!
//! Every scalar says on the wire what it is (`@specifiedBy`), so a typed client (graphql-codegen,
//! gql) maps it to one type instead of a bare string. Input is checked when the request is
//! validated: a malformed month or amount is refused before anything runs.

use async_graphql::{
    InputValueError, InputValueResult, Scalar, ScalarType, Value, resolver_utils::EnumType,
};
use ecl_kernel::{AppError, ErrorCode};

/// An instant, as an RFC 3339 date-time string with its offset (`2026-05-01T09:30:00Z`,
/// `2026-05-01T18:30:00+09:00`). Inputs with any offset are converted to UTC; outputs are UTC
/// (`2026-05-01T09:30:00+00:00`), fractional seconds only where the instant has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<chrono::Utc>);

/// An instant, as an RFC 3339 date-time string with its offset (`2026-05-01T09:30:00Z`,
/// `2026-05-01T18:30:00+09:00`). Inputs with any offset are converted to UTC; outputs are UTC
/// (`2026-05-01T09:30:00+00:00`), fractional seconds only where the instant has them.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse::<chrono::DateTime<chrono::Utc>>()
                .map(DateTime)
                .map_err(|e| InputValueError::custom(format!("not an RFC 3339 date-time: {e}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<chrono::DateTime<chrono::Utc>> for DateTime {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        DateTime(t)
    }
}

impl From<DateTime> for chrono::DateTime<chrono::Utc> {
    fn from(t: DateTime) -> Self {
        t.0
    }
}

/// A calendar month, `YYYY-MM` (ISO 8601 calendar month, e.g. `2026-05`): the period of bills,
/// usage and prices. Months are UTC.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Month(pub String);

/// A calendar month, `YYYY-MM` (ISO 8601 calendar month, e.g. `2026-05`): the period of bills,
/// usage and prices. Months are UTC.
#[Scalar(
    name = "Month",
    specified_by_url = "https://www.iso.org/iso-8601-date-and-time-format.html"
)]
impl ScalarType for Month {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if is_month(s) => Ok(Month(s.clone())),
            Value::String(s) => Err(InputValueError::custom(format!(
                "{s:?} is not a month: expected YYYY-MM"
            ))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

fn is_month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(s[5..].parse::<u8>(), Ok(1..=12))
}

impl From<String> for Month {
    fn from(s: String) -> Self {
        Month(s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> Self {
        m.0
    }
}

impl From<ecl_kernel::Month> for Month {
    fn from(m: ecl_kernel::Month) -> Self {
        Month(m.to_string())
    }
}

impl TryFrom<Month> for ecl_kernel::Month {
    type Error = AppError;
    /// The services' month: `INVALID_INPUT` on `month` for one the scalar let through but no
    /// service bills (before 1970).
    fn try_from(m: Month) -> Result<Self, AppError> {
        ecl_kernel::Month::parse(&m.0)
    }
}

/// An exact decimal number as a string (`"1234.500000"`, `"-3"`, `"0.1"`): money, prices, tax
/// rates and quantities. A string so that no client rounds it through a binary float; digits
/// with an optional leading `-` and an optional fraction, no exponent. Amounts are in the bill's
/// or menu's `currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(pub String);

/// An exact decimal number as a string (`"1234.500000"`, `"-3"`, `"0.1"`): money, prices, tax
/// rates and quantities. A string so that no client rounds it through a binary float; digits
/// with an optional leading `-` and an optional fraction, no exponent. Amounts are in the bill's
/// or menu's `currency`.
#[Scalar(
    name = "Decimal",
    specified_by_url = "https://speleotrove.com/decimal/daconvs.html"
)]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if is_decimal(s) => Ok(Decimal(s.clone())),
            Value::String(s) => Err(InputValueError::custom(format!(
                "{s:?} is not a decimal: expected digits with an optional - and fraction"
            ))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

impl From<String> for Decimal {
    fn from(s: String) -> Self {
        Decimal(s)
    }
}

impl From<Decimal> for String {
    fn from(d: Decimal) -> Self {
        d.0
    }
}

/// The value services exchange for a schema enum: its GraphQL name (`CAPPED_PAYG`), which is what
/// the price list, bills and usage results carry today.
pub fn wire<E: EnumType>(e: E) -> String {
    E::items()
        .iter()
        .find(|i| i.value == e)
        .map(|i| i.name.to_string())
        .expect("every enum value is among its items")
}

/// The schema enum of a value a service sent. A value the schema does not know is a fault
/// between the gateway and the service (logged, `INTERNAL`), not the client's.
pub fn from_wire<E: EnumType>(what: &str, s: &str) -> async_graphql::Result<E> {
    E::items()
        .iter()
        .find(|i| i.name.eq_ignore_ascii_case(s))
        .map(|i| i.value)
        .ok_or_else(|| {
            tracing::error!(what, value = s, "a service sent a value the schema lacks");
            crate::errors::gql(AppError::new(
                ErrorCode::Internal,
                format!("unknown {what} value"),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_checked() {
        assert!(is_month("2026-05"));
        assert!(is_month("2019-12"));
        for bad in [
            "2026-13",
            "2026-00",
            "March",
            "2026-5",
            "2026-05-01",
            "２０２６-05",
        ] {
            assert!(!is_month(bad), "{bad}");
        }
    }

    #[test]
    fn decimals_are_checked() {
        for ok in ["0", "-3", "1234.500000", "0.1"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", "-", "1.", ".5", "1e3", "1,000", "NaN", "1.2.3"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn enums_round_trip_through_their_wire_values() {
        use super::super::billing::ChargePattern;
        let p = ChargePattern::CappedPaygPlanChange;
        assert_eq!(wire(p), "CAPPED_PAYG_PLAN_CHANGE");
        assert!(from_wire::<ChargePattern>("pattern", &wire(p)).unwrap() == p);
        assert!(from_wire::<ChargePattern>("pattern", "SOMETHING").is_err());
    }
}
