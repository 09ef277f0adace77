//! Defining coupons (operators), registering a code (a contract's owner), listing a contract's
//! registrations, and the registrations that apply to a month's bill.

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Role};
use ecl_proto::commercial::{
    CouponInput, CouponKind, CouponRegistrationView, CouponView, CreateCoupon, ListCoupons,
    RegisterCoupon,
};
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::{decimal, decode, encode, require_operator};
use crate::Billing;
use crate::commercial::coupons::{Coupon, CouponCode, CouponLimit, CouponValue, Registration};
use crate::commercial::store::{coupon, coupon_registration};
use crate::rating::Currency;

fn coupon_of(i: CouponInput) -> AppResult<Coupon> {
    let value = match i.kind {
        CouponKind::Amount => CouponValue::Amount {
            amount: decimal("amount", i.amount.as_deref())?,
            currency: i
                .currency
                .map(crate::menus::currency)
                .ok_or_else(|| AppError::invalid("currency", "currency is JPY or USD"))?,
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
            Some(currency.into()),
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
        first_month: r.registration.first_month,
        last_month: r.registration.last_month(),
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

    /// The registrations of each contract of a batch, oldest first: one read.
    pub(crate) async fn registrations_for(
        &self,
        contract_ids: &[&str],
    ) -> AppResult<HashMap<String, Vec<Registered>>> {
        let mut out: HashMap<String, Vec<Registered>> = HashMap::new();
        if contract_ids.is_empty() {
            return Ok(out);
        }
        let mut rows = coupon_registration::Entity::find()
            .filter(coupon_registration::Column::OwnerId.is_in(contract_ids.iter().copied()))
            .all(&self.db)
            .await?;
        rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        for r in rows {
            out.entry(r.owner_id.clone())
                .or_default()
                .push(decode(&r.body)?);
        }
        Ok(out)
    }

    pub(crate) async fn list_coupons(
        &self,
        ctx: &CallCtx,
        req: ListCoupons,
    ) -> AppResult<Vec<(String, Vec<CouponRegistrationView>)>> {
        let visible = self.visible(ctx, req.contract_ids).await?;
        let ids: Vec<&str> = visible.iter().map(|c| c.id.as_str()).collect();
        let mut regs = self.registrations_for(&ids).await?;
        Ok(visible
            .iter()
            .map(|c| {
                let list = regs.remove(&c.id).unwrap_or_default();
                (c.id.clone(), list.iter().map(registration_view).collect())
            })
            .collect())
    }
}
