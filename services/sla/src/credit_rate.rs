//! The service-credit table of seed 004 ("Service Level & Service Credit Percentage"), by the
//! month's cumulative downtime; each boundary belongs to the lower tier ("… or less"), exact to
//! the second (a microsecond more is the next tier).

use rust_decimal::Decimal;

const SEC: i64 = 1_000_000;

/// (the most downtime of the tier in µs, credit percent).
const TIERS: [(i64, u32); 4] = [
    (4 * 60 * SEC + 19 * SEC, 0),  // ≤ 4 min 19 s: above 99.99 %
    (86 * 60 * SEC + 24 * SEC, 1), // ≤ 86 min 24 s: ≥ 99.80 %
    (432 * 60 * SEC, 3),           // ≤ 432 min: ≥ 99.00 %
    (864 * 60 * SEC, 10),          // ≤ 864 min: ≥ 98.00 %
];

/// The credit percentage (0, 1, 3, 10 or 100) for a month's downtime.
pub fn credit_percent(downtime_micros: i64) -> u32 {
    TIERS
        .iter()
        .find(|(most, _)| downtime_micros <= *most)
        .map_or(100, |(_, pct)| *pct)
}

/// The credit a month's charges earn at `percent`: never above the charges themselves, never
/// negative, 6 decimal places like every bill line.
pub fn credit_amount(charges: Decimal, percent: u32) -> Decimal {
    let charges = charges.max(Decimal::ZERO);
    (charges * Decimal::from(percent.min(100)) / Decimal::from(100))
        .min(charges)
        .round_dp(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(min: i64, sec: i64) -> i64 {
        (min * 60 + sec) * SEC
    }

    #[test]
    fn every_boundary_belongs_to_the_lower_tier_to_the_second() {
        assert_eq!(credit_percent(0), 0);
        assert_eq!(credit_percent(s(4, 19)), 0);
        assert_eq!(credit_percent(s(4, 19) + 1), 1);
        assert_eq!(credit_percent(s(4, 20)), 1);
        assert_eq!(credit_percent(s(86, 24)), 1);
        assert_eq!(credit_percent(s(86, 25)), 3);
        assert_eq!(credit_percent(s(432, 0)), 3);
        assert_eq!(credit_percent(s(432, 1)), 10);
        assert_eq!(credit_percent(s(864, 0)), 10);
        assert_eq!(credit_percent(s(864, 0) + 1), 100);
        assert_eq!(credit_percent(s(864, 1)), 100);
        assert_eq!(credit_percent(s(43_200, 0)), 100);
    }

    #[test]
    fn the_amount_is_the_charges_times_the_rate_capped_at_the_charges() {
        let c: Decimal = "12345.678901".parse().unwrap();
        assert_eq!(credit_amount(c, 0), Decimal::ZERO);
        assert_eq!(credit_amount(c, 1).to_string(), "123.456789");
        assert_eq!(credit_amount(c, 3).to_string(), "370.370367");
        assert_eq!(credit_amount(c, 10).to_string(), "1234.567890");
        assert_eq!(credit_amount(c, 100), c);
        assert_eq!(credit_amount(c, 180), c);
        assert_eq!(credit_amount(Decimal::from(-5), 10), Decimal::ZERO);
    }
}
