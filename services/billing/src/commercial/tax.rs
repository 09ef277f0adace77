//! Which tax a contract pays (SPEC §2 "Tax setting", §6).
//!
//! JPY contracts follow the Japanese consumption-tax table by month (8 % before 2019-10, 10 %
//! from), whatever is set; a contract in another currency carries its own setting, a rate or
//! exempt, set by the operator. Without a setting, another currency is exempt, as billing has
//! always done ([`TaxRule::default_for`]).

use ecl_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::bill::TaxRule;
use crate::rating::Currency;

/// The operator's tax setting of a non-JPY contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "percent")]
pub enum TaxSetting {
    Rate(Decimal),
    Exempt,
}

impl TaxSetting {
    /// A setting as the operator gives it: a rate between 0 and 100 %, or exempt. A JPY contract
    /// has no setting of its own: the consumption-tax table decides.
    pub fn validate(self, currency: Currency) -> AppResult<Self> {
        if currency == Currency::Jpy {
            return Err(AppError::invalid(
                "contractId",
                "a JPY contract pays Japanese consumption tax by month; it has no tax setting",
            ));
        }
        if let TaxSetting::Rate(p) = self
            && (p.is_sign_negative() || p > Decimal::ONE_HUNDRED)
        {
            return Err(AppError::invalid(
                "percent",
                format!("a tax rate is between 0 and 100, got {p}"),
            ));
        }
        Ok(self)
    }
}

/// The tax rule of a contract's bill.
pub fn tax_rule(currency: Currency, setting: Option<TaxSetting>) -> TaxRule {
    match (currency, setting) {
        (Currency::Jpy, _) => TaxRule::JapaneseConsumption,
        (_, Some(TaxSetting::Rate(p))) => TaxRule::Percent(p),
        (_, Some(TaxSetting::Exempt)) => TaxRule::Exempt,
        (c, None) => TaxRule::default_for(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::Month;
    use crate::rating::testutil::d;

    #[test]
    fn jpy_follows_the_table_other_currencies_their_setting() {
        let m = |s: &str| Month::parse(s).unwrap();
        let jpy = tax_rule(Currency::Jpy, Some(TaxSetting::Rate(d("3"))));
        assert_eq!(jpy.percent(m("2019-09")), d("8"));
        assert_eq!(jpy.percent(m("2019-10")), d("10"));
        assert_eq!(
            tax_rule(Currency::Usd, Some(TaxSetting::Rate(d("7.25")))).percent(m("2026-01")),
            d("7.25")
        );
        assert_eq!(
            tax_rule(Currency::Usd, Some(TaxSetting::Exempt)),
            TaxRule::Exempt
        );
        assert_eq!(tax_rule(Currency::Usd, None), TaxRule::Exempt);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(TaxSetting::Rate(d("10")).validate(Currency::Jpy).is_err());
        for p in ["-1", "100.5"] {
            let e = TaxSetting::Rate(d(p)).validate(Currency::Usd).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("percent"));
        }
        assert!(TaxSetting::Rate(d("0")).validate(Currency::Usd).is_ok());
        assert!(TaxSetting::Exempt.validate(Currency::Usd).is_ok());
    }
}
