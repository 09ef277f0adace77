//! What partners earn and charge: price rules, end-user bills and margins, what a child's users
//! see, coupons, agencies and their commission statements, tax settings, corrections of fixed
//! bills. Resolvers are thin: each calls one billing operation, which decides who may do what.
//! The `Contract` fields go through DataLoaders ([`with_loaders`]), so a page of children costs
//! one bus request per field, however many children it holds.
//!
//! * [`price_rules`] holds `setPriceRule`, `endPriceRule`, `Contract.priceRules`;
//! * [`end_user_bills`] holds `Contract.endUserBill`, `Contract.margins`, `setChildBillVisibility`;
//! * [`coupons`] holds `createCoupon`, `registerCoupon`, `Contract.coupons`;
//! * [`agencies`] holds `createAgency`, `createDirectContract(referredBy)`, `Contract.commissions`;
//! * [`tax`] holds `setTaxSetting`;
//! * [`corrections`] holds `correctBill`.

mod agencies;
mod corrections;
mod coupons;
mod end_user_bills;
mod price_rules;
mod tax;

use async_graphql::{MergedObject, dataloader::DataLoader};

use super::common::{PagedLoader, RequestState};

pub use agencies::{
    CommissionStatementConnection, check_referral, commissions_of, record_referral,
};
pub use coupons::{CouponRegistration, coupons_of};
pub use end_user_bills::{EndUserBill, Margin, end_user_bill_of, margins_of};
pub use price_rules::{PriceRuleConnection, price_rules_of};

/// The commercial mutations, one object per area.
#[derive(MergedObject, Default)]
pub struct CommercialMutation(
    price_rules::PriceRuleMutation,
    end_user_bills::VisibilityMutation,
    coupons::CouponMutation,
    agencies::AgencyMutation,
    tax::TaxMutation,
    corrections::CorrectionMutation,
);

/// Adds the commercial loaders to a request (called by [`super::billing::with_loaders`]).
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    let d = state.gate.delay();
    let spawner = || state.gate.spawner();
    req.data(
        DataLoader::new(
            PagedLoader::<ecl_proto::commercial::ListPriceRules>::new(state.clone()),
            spawner(),
        )
        .delay(d),
    )
    .data(
        DataLoader::new(
            PagedLoader::<ecl_proto::commercial::ListCommissions>::new(state.clone()),
            spawner(),
        )
        .delay(d),
    )
    .data(DataLoader::new(end_user_bills::EndUserBillLoader(state.clone()), spawner()).delay(d))
    .data(DataLoader::new(end_user_bills::MarginLoader(state.clone()), spawner()).delay(d))
    .data(DataLoader::new(coupons::CouponLoader(state.clone()), spawner()).delay(d))
}
