//! The rating engine: a month of usage of priced menus → charge lines.
//!
//! Input: the price list ([`Menu`]: charge pattern, special rule, plan prices and caps) and the
//! usage intervals of each [`Resource`] (start/stop in UTC, plan, status, quantity). Output: per
//! resource the [`ChargeLine`]s of the month, plus tenant-wide lines ([`TenantCharges`]).
//!
//! Money is `rust_decimal::Decimal`, never floating point. Every line amount is rounded down to 6
//! decimal places once, from the exact usage; caps and free usage are separate negative lines.

mod charge;
mod engine;
mod error;
mod menu;
mod month;
mod monthly_fixed;
mod pay_as_you_go;
mod prorated_daily;
mod spans;
mod special_rules;
mod usage;

pub use charge::{
    ChargeLine, FreeReason, LineKind, ResourceCharge, TenantCharges, TenantLine, amount6,
};
pub use engine::{Prepared, prepare, rate_resource, rate_tenant};
pub use error::RatingError;
pub use menu::{
    ChargePattern, CicSpeed, Currency, Menu, MenuInfo, PlanPrice, SpecialRule, SqlServerBasis, Unit,
};
pub use month::{Month, Period};
pub use special_rules::{
    CF_SHARED_CAP_HOURS, FREE_LOGICAL_NETWORKS, GUEST_IMAGE_FLAT_FROM_VMS, VPCF_FREE_DAYS,
};
pub use usage::{Resource, UsageInterval};

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod testutil {
    use chrono::{DateTime, TimeZone, Utc};
    use rust_decimal::Decimal;

    /// A decimal literal.
    pub fn d(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    /// An instant, UTC.
    pub fn t(y: i32, mo: u32, day: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, day, h, mi, s).unwrap()
    }
}
