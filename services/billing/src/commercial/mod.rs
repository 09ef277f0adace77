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
//! * [`corrections`]: the operator's corrections of FIXED bills (credit notes), applied when a
//!   fixed bill is read;
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
//! 4. **Correction** (FIXED bills only): the operator's corrections made after the close, in
//!    order, before tax; refused rather than clamped if one would take the bill below zero.
//! 5. **Tax**: on the pre-tax total after every adjustment, rounded down.
//!
//! Each adjustment of the close is clamped so the running total never goes below zero
//! ([`adjustments::apply_in_order`]); a clamped adjustment shows the amount actually taken. A
//! correction is the operator's own amount, so it is refused instead of clamped.

pub mod adjustments;
pub mod agency;
pub mod corrections;
pub mod coupons;
pub mod end_user_bill;
pub mod price_rules;
pub(crate) mod serve;
pub mod store;
pub mod tax;
