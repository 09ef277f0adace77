//! Defining coupons (operators), registering a code (a contract's owner), listing a contract's
//! registrations, and the registrations that apply to a month's bill.

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Role};
use ecl_proto::commercial::{
    CouponInput, CouponKind, CouponRegistrationView, CouponView, CreateCoupon, ListCoupons,
    RegisterCoupon,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::{decimal, decode, encode, require_operator};
use crate::Billing;
use crate::commercial::coupons::{Coupon, CouponCode, CouponLimit, CouponValue, Registration};
use crate::commercial::store::{coupon, coupon_registration};
use crate::menus::parse_currency;
use crate::rating::{Currency, Month};

fn coupon_of(i: CouponInput) -> AppResult<Coupon> {
    let value = match i.kind {
        CouponKind::Amount => CouponValue::Amount {
            amount: decimal("amount", i.amount.as_deref())?,
            currency: parse_currency(i.currency.as_deref().unwrap_or_default())?,
        },
        CouponKind::Percent => CouponValue::Percent {
            percent: decimal("percent", i.percent.as_deref())?,
        },
    };
    let c = Coupon {
        code: CouponCode::parse(&i.code)?,
        value,
        months: i.months,
        limited_to: i
            .menus
            .into_iter()
            .map(CouponLimit::Menu)
            .chain(i.categories.into_iter().map(CouponLimit::Category))
            .collect(),
        register_until: i.register_until,
        reusable: i.reusable,
    };
    c.validate()?;
    Ok(c)
}

pub(crate) fn coupon_view(c: &Coupon) -> CouponView {
    let (kind, amount, currency, percent) = match c.value {
        CouponValue::Amount { amount, currency } => (
            CouponKind::Amount,
            Some(amount.normalize().to_string()),
            Some(currency.code().to_string()),
            None,
        ),
        CouponValue::Percent { percent } => (
            CouponKind::Percent,
            None,
            None,
            Some(percent.normalize().to_string()),
        ),
    };
    let (mut menus, mut categories) = (Vec::new(), Vec::new());
    for l in &c.limited_to {
        match l {
            CouponLimit::Menu(m) => menus.push(m.clone()),
            CouponLimit::Category(x) => categories.push(x.clone()),
        }
    }
    CouponView {
        code: c.code.to_string(),
        kind,
        amount,
        currency,
        percent,
        months: c.months,
        menus,
        categories,
        register_until: c.register_until,
        reusable: c.reusable,
    }
}

/// A stored registration, with its coupon.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Registered {
    pub registration: Registration,
    pub coupon: Coupon,
}

fn registration_view(r: &Registered) -> CouponRegistrationView {
    CouponRegistrationView {
        contract_id: r.registration.contract_id.clone(),
        coupon: coupon_view(&r.coupon),
        registered_at: r.registration.registered_at,
        first_month: r.registration.first_month.to_string(),
        last_month: r.registration.last_month().to_string(),
    }
}

impl Billing {
    pub(crate) async fn create_coupon(
        &self,
        ctx: &CallCtx,
        req: CreateCoupon,
    ) -> AppResult<CouponView> {
        require_operator(ctx, "define coupons")?;
        let c = coupon_of(req.input)?;
        let row = coupon::ActiveModel {
            id: Set(c.code.to_string()),
            owner_id: Set(String::new()),
            month: Set(String::new()),
            body: Set(encode(&c)?),
            created_at: Set(self.clock.now().timestamp_micros()),
        };
        coupon::Entity::insert(row)
            .exec(&self.db)
            .await
            .map_err(|_| AppError::conflict(format!("coupon {} already exists", c.code)))?;
        Ok(coupon_view(&c))
    }

    pub(crate) async fn register_coupon(
        &self,
        ctx: &CallCtx,
        req: RegisterCoupon,
    ) -> AppResult<CouponRegistrationView> {
        // the code first: a malformed one is refused before anything is looked up
        let code = CouponCode::parse(&req.code)?;
        let c = self.contract_for(ctx, &req.contract_id).await?;
        let owner = ctx.principal.contract_id() == Some(c.id.as_str())
            && ctx.principal.role() == Some(Role::Owner);
        if !(owner || ctx.principal.is_operator()) {
            return Err(AppError::forbidden(
                "the contract's owner registers coupons",
            ));
        }
        let coupon: Coupon = match coupon::Entity::find_by_id(code.to_string())
            .one(&self.db)
            .await?
        {
            Some(r) => decode(&r.body)?,
            None => {
                return Err(AppError::invalid(
                    "code",
                    format!("there is no coupon {code}"),
                ));
            }
        };
        let registrants: Vec<String> = coupon_registration::Entity::find()
            .filter(coupon_registration::Column::Id.starts_with(format!("{code}|")))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.owner_id)
            .collect();
        let currency = match coupon.value {
            // the contract's currency is its price list's: a bill so far, or the coupon's own
            CouponValue::Amount { currency, .. } => self
                .contract_currency(ctx, &c.id)
                .await?
                .unwrap_or(currency),
            CouponValue::Percent { .. } => Currency::Jpy,
        };
        let now = self.clock.now();
        coupon.check_registration(&c.id, currency, &registrants, now)?;
        let registered = Registered {
            registration: Registration::new(&coupon, &c.id, now),
            coupon,
        };
        let txn = self.db.begin().await?;
        coupon_registration::Entity::insert(coupon_registration::ActiveModel {
            id: Set(format!("{code}|{}", c.id)),
            owner_id: Set(c.id.clone()),
            month: Set(registered.registration.first_month.to_string()),
            body: Set(encode(&registered)?),
            created_at: Set(now.timestamp_micros()),
        })
        .exec(&txn)
        .await
        .map_err(|_| {
            AppError::conflict(format!("coupon {code} is already registered for {}", c.id))
        })?;
        txn.commit().await?;
        Ok(registration_view(&registered))
    }

    /// The currency of a contract's bills so far (`None` before its first usage).
    async fn contract_currency(&self, ctx: &CallCtx, id: &str) -> AppResult<Option<Currency>> {
        let c = self.contract_for(ctx, id).await?;
        let m = self.current_month();
        let bill = self.bill(ctx, &c, m).await?;
        Ok((!bill.tenants.is_empty()).then_some(bill.header.currency))
    }

    /// The registrations of a contract, oldest first.
    pub(crate) async fn registrations_of(&self, contract_id: &str) -> AppResult<Vec<Registered>> {
        let mut rows = coupon_registration::Entity::find()
            .filter(coupon_registration::Column::OwnerId.eq(contract_id))
            .all(&self.db)
            .await?;
        rows.sort_by_key(|r| r.created_at);
        rows.iter().map(|r| decode(&r.body)).collect()
    }

    /// The coupons that apply to a contract's bill of month `m`.
    pub(crate) async fn coupons_in(&self, contract_id: &str, m: Month) -> AppResult<Vec<Coupon>> {
        Ok(self
            .registrations_of(contract_id)
            .await?
            .into_iter()
            .filter(|r| r.registration.applies(m))
            .map(|r| r.coupon)
            .collect())
    }

    /// Puts the coupons registered for a bill's contract and month on it, as adjustments.
    pub(crate) async fn apply_coupons(&self, bill: &mut crate::bill::Bill) -> AppResult<()> {
        let coupons = self
            .coupons_in(&bill.header.contract.contract_id, bill.header.month)
            .await?;
        let requested = coupons
            .iter()
            .map(|c| crate::commercial::adjustments::Requested {
                kind: crate::commercial::adjustments::AdjustmentKind::Coupon,
                label: format!("Coupon {}", c.code),
                source: c.code.to_string(),
                amount: c.discount(bill),
            })
            .collect();
        crate::commercial::adjustments::apply_to(bill, requested);
        Ok(())
    }

    pub(crate) async fn list_coupons(
        &self,
        ctx: &CallCtx,
        req: ListCoupons,
    ) -> AppResult<Vec<(String, Vec<CouponRegistrationView>)>> {
        let mut out = Vec::new();
        for c in self.visible(ctx, req.contract_ids).await? {
            let regs = self.registrations_of(&c.id).await?;
            out.push((c.id, regs.iter().map(registration_view).collect()));
        }
        Ok(out)
    }
}
