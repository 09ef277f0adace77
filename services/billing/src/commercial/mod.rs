//! What partners earn and charge (issue 13): end-user prices and bills, coupons, agency
//! commissions, tax settings. The rules are pure, one per file, free of I/O; [`store`] holds their
//! tables and `serve` the bus handlers around them.
//!
//! * [`price_rules`]: a partner's price rules, their precedence and history, and the re-pricing
//!   of a menu with them;
//! * [`end_user_bill`]: a child's charges re-rated at the end-user prices, every line with the
//!   rule that priced it and the wholesale amount beside it; the margin per child;
//! * [`coupons`]: the coupon code, a registration's months and the coupon's discount;
//! * [`adjustments`]: the order in which bill-level adjustments apply (price → coupon → SLA
//!   credit → tax) and the "never below zero" clamp;
//! * [`agency`]: an agency's commission statement, with clawbacks of later corrections;
//! * [`tax`]: which tax a contract pays (JPY's consumption-tax table, or its own setting).
//!
//! # Order of adjustments
//!
//! 1. **Price**: lines are rated at wholesale prices, or, for an end-user bill, at the partner's
//!    end-user prices (the menus re-priced by [`price_rules::reprice`] and rated by the same
//!    engine, so caps and special rules apply to the end-user prices).
//! 2. **Coupon**: a negative adjustment computed on the priced amounts (a percentage of the
//!    limited menus' charges, or an amount), rounded toward zero to the currency's unit.
//! 3. **SLA credit**: a negative adjustment after the coupon, on what the coupon left.
//! 4. **Tax**: on the pre-tax total after every adjustment, rounded down.
//!
//! Each adjustment is clamped so the running total never goes below zero
//! ([`adjustments::apply_in_order`]); a clamped adjustment shows the amount actually taken.

pub mod adjustments;
pub mod agency;
pub mod coupons;
pub mod end_user_bill;
pub mod price_rules;
pub(crate) mod serve;
pub mod store;
pub mod tax;
