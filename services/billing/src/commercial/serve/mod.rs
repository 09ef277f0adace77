//! The commercial operations of the billing service: thin bus handlers around the pure rules of
//! [`super`], storing into [`super::store`]. Each file holds one area's use cases as methods of
//! the billing service, whose read models (contracts, tenants, the price list, usage) they share.

mod adjustments;
mod agencies;
mod close;
mod corrections;
mod coupons;
mod end_user_bills;
mod end_user_view;
mod margins;
mod price_rules;
mod tax;
mod visibility;

pub(crate) use agencies::close_statements;
pub(crate) use close::{Closing, end_user_bill, statements};
pub(crate) use corrections::fixed_bodies;
pub(crate) use visibility::Shown;

use std::sync::Arc;

use ecl_bus::{CallCtx, Router};
use ecl_kernel::{AppError, AppResult};
use ecl_proto::contract::{ContractView, GetContract};
use serde::{Serialize, de::DeserializeOwned};

use crate::Billing;

/// The commercial routes, added to the billing service's router.
pub(crate) fn routes(r: Router<Billing>) -> Router<Billing> {
    use ecl_proto::commercial::*;
    r.route(|s: Arc<Billing>, ctx, req: SetPriceRule| async move {
        s.set_price_rule(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: EndPriceRule| async move {
        s.end_price_rule(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: ListPriceRules| async move {
        s.list_price_rules(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: GetEndUserBills| async move {
        s.get_end_user_bills(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: ExportEndUserBill| async move {
        s.export_end_user_bill(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: GetMargins| async move { s.margins(&ctx, req).await })
    .route(|s: Arc<Billing>, ctx, req: SetChildBillVisibility| async move {
        s.set_child_bill_visibility(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: CreateCoupon| async move {
        s.create_coupon(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: RegisterCoupon| async move {
        s.register_coupon(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: ListCoupons| async move {
        s.list_coupons(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: SetTaxSetting| async move {
        s.set_tax_setting(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: SetAgreement| async move {
        s.set_agreement(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: SetReferral| async move {
        s.set_referral(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: ListCommissions| async move {
        s.list_commissions(&ctx, req).await
    })
    .route(|s: Arc<Billing>, ctx, req: CorrectBill| async move {
        s.correct_bill(&ctx, req).await
    })
}

pub(crate) fn encode<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(AppError::internal)
}

pub(crate) fn decode<T: DeserializeOwned>(body: &str) -> AppResult<T> {
    serde_json::from_str(body).map_err(AppError::internal)
}

pub(crate) fn decimal(field: &str, s: Option<&str>) -> AppResult<rust_decimal::Decimal> {
    let s = s.ok_or_else(|| AppError::invalid(field, format!("{field} is required")))?;
    s.trim()
        .parse()
        .map_err(|_| AppError::invalid(field, format!("{s:?} is not a decimal number")))
}

pub(crate) fn require_operator(ctx: &CallCtx, what: &str) -> AppResult<()> {
    match &ctx.principal {
        ecl_kernel::Principal::Anonymous => Err(AppError::unauthenticated()),
        p if !p.is_operator() => Err(AppError::forbidden(format!("only operators {what}"))),
        _ => Ok(()),
    }
}

impl Billing {
    /// A contract as the caller sees it (`NOT_FOUND` outside the caller's tree).
    pub(crate) async fn contract_for(&self, ctx: &CallCtx, id: &str) -> AppResult<ContractView> {
        if matches!(ctx.principal, ecl_kernel::Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        self.bus
            .call(ctx, &GetContract { id: id.to_string() })
            .await
    }
}
