//! Coupons: `createCoupon` (operators), `registerCoupon` (a contract's owner), `Contract.coupons`.

use std::collections::HashMap;

use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::commercial::{
    self as proto, CouponRegistrationView, CouponView, CreateCoupon, ListCoupons, RegisterCoupon,
};

use crate::errors::gql;
use crate::schema::billing::Currency;
use crate::schema::common::RequestState;
use crate::schema::scalars::{DateTime, Decimal, Month};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::CouponKind")]
pub enum CouponKind {
    /// An amount off, in the contract's currency.
    Amount,
    /// A percentage of the (limited) charges off.
    Percent,
}

/// A coupon: AMOUNT (`amount` in `currency`) or PERCENT (`percent`) off, for `months` months from
/// the month after registration, optionally limited to menus or categories.
#[derive(InputObject)]
pub struct CouponInput {
    /// Exactly 12 characters of A–Z and 0–9.
    pub code: String,
    pub kind: CouponKind,
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
    /// PERCENT: 0–100.
    pub percent: Option<Decimal>,
    pub months: u32,
    #[graphql(default)]
    pub menus: Vec<String>,
    #[graphql(default)]
    pub categories: Vec<String>,
    /// Registrations from this instant on are refused.
    pub register_until: Option<DateTime>,
    #[graphql(default)]
    pub reusable: bool,
}

impl From<CouponInput> for proto::CouponInput {
    fn from(i: CouponInput) -> Self {
        proto::CouponInput {
            code: i.code,
            kind: i.kind.into(),
            amount: i.amount.map(Into::into),
            currency: i.currency.map(Into::into),
            percent: i.percent.map(Into::into),
            months: i.months,
            menus: i.menus,
            categories: i.categories,
            register_until: i.register_until.map(Into::into),
            reusable: i.reusable,
        }
    }
}

#[derive(SimpleObject)]
pub struct Coupon {
    pub code: String,
    pub kind: CouponKind,
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
    pub percent: Option<Decimal>,
    pub months: u32,
    pub menus: Vec<String>,
    pub categories: Vec<String>,
    pub register_until: Option<DateTime>,
    pub reusable: bool,
}

impl Coupon {
    fn try_from(c: CouponView) -> async_graphql::Result<Self> {
        Ok(Coupon {
            code: c.code,
            kind: c.kind.into(),
            amount: c.amount.map(Into::into),
            currency: c.currency.map(Into::into),
            percent: c.percent.map(Into::into),
            months: c.months,
            menus: c.menus,
            categories: c.categories,
            register_until: c.register_until.map(Into::into),
            reusable: c.reusable,
        })
    }
}

/// A contract's registered coupon and the months it applies to.
#[derive(SimpleObject)]
pub struct CouponRegistration {
    pub contract_id: ID,
    pub coupon: Coupon,
    pub registered_at: DateTime,
    pub first_month: Month,
    pub last_month: Month,
}

impl CouponRegistration {
    fn try_from(r: CouponRegistrationView) -> async_graphql::Result<Self> {
        Ok(CouponRegistration {
            contract_id: r.contract_id.into(),
            coupon: Coupon::try_from(r.coupon)?,
            registered_at: r.registered_at.into(),
            first_month: r.first_month.into(),
            last_month: r.last_month.into(),
        })
    }
}

/// Batches `Contract.coupons` of a query level into one `ListCoupons`.
pub struct CouponLoader(pub RequestState);

impl Loader<String> for CouponLoader {
    type Value = Vec<CouponRegistrationView>;
    type Error = AppError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, AppError> {
        let req = ListCoupons {
            contract_ids: keys.to_vec(),
        };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .collect())
    }
}

/// `Contract.coupons`: the coupons the contract registered.
pub async fn coupons_of(
    ctx: &Context<'_>,
    contract_id: &str,
) -> async_graphql::Result<Vec<CouponRegistration>> {
    RequestState::of(ctx).require_auth()?;
    ctx.data_unchecked::<DataLoader<CouponLoader>>()
        .load_one(contract_id.to_string())
        .await
        .map_err(gql)?
        .unwrap_or_default()
        .into_iter()
        .map(CouponRegistration::try_from)
        .collect()
}

#[derive(Default)]
pub struct CouponMutation;

#[Object]
impl CouponMutation {
    /// Defines a coupon (operators).
    async fn create_coupon(
        &self,
        ctx: &Context<'_>,
        input: CouponInput,
    ) -> async_graphql::Result<Coupon> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = CreateCoupon {
            input: input.into(),
        };
        Coupon::try_from(s.call(&req).await?)
    }

    /// Registers a coupon code for a contract (its owner): it applies from next month.
    async fn register_coupon(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        code: String,
    ) -> async_graphql::Result<CouponRegistration> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = RegisterCoupon {
            contract_id: contract_id.0,
            code,
        };
        CouponRegistration::try_from(s.call(&req).await?)
    }
}
