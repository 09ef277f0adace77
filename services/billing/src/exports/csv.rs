//! What the three CSV files share: RFC 4180 fields, money in the currency's unit, the tax class.

use rust_decimal::Decimal;

use crate::bill::{Bill, TaxRule};

/// Tax class as written in the detail and summary files: "total" (合算) when tax is computed on
/// the total, "exempt" otherwise.
pub(super) fn tax_class(rule: TaxRule) -> &'static str {
    match rule {
        TaxRule::Exempt => "exempt",
        TaxRule::JapaneseConsumption | TaxRule::Percent(_) => "total",
    }
}

/// A field quoted only when it has to be (RFC 4180).
pub(super) fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        quoted(s)
    } else {
        s.to_owned()
    }
}

pub(super) fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(super) fn row(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

pub(super) fn money(bill: &Bill, amount: Decimal) -> String {
    bill.header.currency.round_down(amount).to_string()
}
