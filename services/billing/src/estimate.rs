//! Estimates: an unclosed month rated when asked, from metering's current usage intervals, so a
//! new estimate is visible as soon as metering has stored the usage (no refresh lag). The current
//! month is rated up to "now" (or the end of the asked day), a past month not yet closed over its
//! whole length.

use std::collections::HashMap;

use chrono::DateTime;
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    contract::ContractView,
    metering::{GetUsage, ResourceUsage},
};
use futures::StreamExt;
use rust_decimal::Decimal;

use crate::{
    Billing,
    bill::{Bill, BillHeader, BillStatus, ContractInfo, TenantInfo},
    entity::{contract, tenant},
    rating::{Currency, Menu, Month, Period, Resource, TenantCharges, UsageInterval, prepare},
};

/// Tenants per `GetUsage` request when a whole month is rated: small enough that a reply stays
/// far below the broker's message size limit (16 MiB) for tenants of a few thousand resources.
pub(crate) const USAGE_BATCH: usize = 5;
/// Tenants per `GetUsage` request for the bills a query asks for (a DataLoader batch of
/// contracts): one request for the whole batch in practice.
pub(crate) const USAGE_BATCH_READ: usize = 1_000;
/// `GetUsage` requests in flight while rating a month (metering reads while billing rates).
const USAGE_IN_FLIGHT: usize = 4;

/// Tenants rated by [`Billing::rate_usage_priced`].
#[derive(Default)]
pub(crate) struct Rated {
    pub wholesale: HashMap<String, TenantCharges>,
    /// Empty unless end-user prices were given.
    pub end_user: HashMap<String, TenantCharges>,
    /// The time the end-user rating took (the close's re-pricing phase).
    pub repricing: std::time::Duration,
}

impl Billing {
    /// The price list in force in a month, in price-list order.
    pub(crate) async fn price_list(&self, m: Month) -> AppResult<Vec<Menu>> {
        Ok(self.prices_in(m).await?.menus.clone())
    }

    /// The month's usage of tenants, as rating takes it: one `GetUsage` request per batch of
    /// tenants; each tenant's resources in bill order (price-list order, then creation).
    /// Tenants without usage are absent.
    pub(crate) async fn usage(
        &self,
        ctx: &CallCtx,
        tenants: &[tenant::Model],
        m: Month,
    ) -> AppResult<HashMap<String, Vec<Resource>>> {
        self.usage_batched(ctx, tenants, m, USAGE_BATCH).await
    }

    /// As [`Billing::usage`], `batch` tenants per `GetUsage` request.
    pub(crate) async fn usage_batched(
        &self,
        ctx: &CallCtx,
        tenants: &[tenant::Model],
        m: Month,
        batch: usize,
    ) -> AppResult<HashMap<String, Vec<Resource>>> {
        // The process's cached price list gives the bill order (no price-list read per call).
        let order: HashMap<String, i64> = self.prices_in(m).await?.order.clone();
        let mut out = HashMap::new();
        let sys = self.system(ctx);
        let requests: Vec<_> = tenants
            .chunks(batch)
            .map(|chunk| {
                let req = GetUsage {
                    tenant_ids: chunk.iter().map(|t| t.id.clone()).collect(),
                    month: m,
                };
                let (bus, sys) = (self.bus.clone(), sys.clone());
                Box::pin(async move { bus.call(&sys, &req).await })
                    as futures::future::BoxFuture<
                        'static,
                        AppResult<Vec<(String, Vec<ResourceUsage>)>>,
                    >
            })
            .collect();
        let mut replies = futures::stream::iter(requests).buffered(USAGE_IN_FLIGHT);
        while let Some(usage) = replies.next().await {
            for (tenant_id, resources) in usage? {
                if resources.is_empty() {
                    continue;
                }
                let mut resources: Vec<Resource> = resources
                    .into_iter()
                    .map(to_resource)
                    .collect::<AppResult<_>>()?;
                resources.sort_by(|a, b| {
                    (order.get(&a.menu_code), a.effective_created_at(), &a.id).cmp(&(
                        order.get(&b.menu_code),
                        b.effective_created_at(),
                        &b.id,
                    ))
                });
                out.insert(tenant_id, resources);
            }
        }
        Ok(out)
    }

    /// Rates tenants for a month at the prices of `menus` (the price list): every tenant's usage
    /// of `usage` (a map, or some of its entries, so a caller rating part of what it holds copies
    /// nothing).
    pub(crate) fn rate_usage<'a>(
        menus: &[Menu],
        usage: impl IntoIterator<Item = (&'a String, &'a Vec<Resource>)>,
        m: Month,
        until: DateTime<chrono::Utc>,
    ) -> AppResult<HashMap<String, TenantCharges>> {
        Ok(Self::rate_usage_priced(menus, None, usage, m, until)?.wholesale)
    }

    /// As [`Billing::rate_usage`], and when `end_user` is given (a child's end-user prices: the
    /// same menus in the same order at other prices) the same usage at those prices too, from
    /// one preparation per tenant ([`crate::rating::prepare`]): re-pricing costs the lines only.
    pub(crate) fn rate_usage_priced<'a>(
        menus: &[Menu],
        end_user: Option<&[Menu]>,
        usage: impl IntoIterator<Item = (&'a String, &'a Vec<Resource>)>,
        m: Month,
        until: DateTime<chrono::Utc>,
    ) -> AppResult<Rated> {
        let period = Period::until(m, until);
        let mut out = Rated::default();
        for (tenant_id, resources) in usage {
            let failed = |e: crate::rating::RatingError| {
                tracing::error!(tenant = %tenant_id, "rating failed: {e}");
                AppError::conflict(format!("usage of tenant {tenant_id} cannot be rated: {e}"))
            };
            let prepared = prepare(menus, resources, &period).map_err(failed)?;
            out.wholesale
                .insert(tenant_id.clone(), prepared.rate(menus).map_err(failed)?);
            if let Some(prices) = end_user {
                let t = std::time::Instant::now();
                let charges = prepared.rate(prices).map_err(failed)?;
                out.repricing += t.elapsed();
                out.end_user.insert(tenant_id.clone(), charges);
            }
        }
        Ok(out)
    }

    /// Rates tenants for a month at wholesale prices.
    pub(crate) async fn rate(
        &self,
        ctx: &CallCtx,
        tenants: &[tenant::Model],
        m: Month,
        until: DateTime<chrono::Utc>,
    ) -> AppResult<HashMap<String, TenantCharges>> {
        self.rate_batched(ctx, tenants, m, until, USAGE_BATCH).await
    }

    /// As [`Billing::rate`], `batch` tenants per `GetUsage` request.
    pub(crate) async fn rate_batched(
        &self,
        ctx: &CallCtx,
        tenants: &[tenant::Model],
        m: Month,
        until: DateTime<chrono::Utc>,
        batch: usize,
    ) -> AppResult<HashMap<String, TenantCharges>> {
        let menus = self.price_list(m).await?;
        let usage = self.usage_batched(ctx, tenants, m, batch).await?;
        Self::rate_usage(&menus, &usage, m, until)
    }

    /// `tax`: the contract's tax setting (see [`crate::commercial::tax::tax_rule`]). The
    /// charges are copied into the bill; [`Billing::build_owned`] moves them.
    pub(crate) fn build(
        &self,
        c: &contract::Model,
        tenants: &[tenant::Model],
        charges: &HashMap<String, TenantCharges>,
        m: Month,
        status: BillStatus,
        tax: Option<crate::commercial::tax::TaxSetting>,
    ) -> AppResult<Bill> {
        let mut own: HashMap<String, TenantCharges> = tenants
            .iter()
            .filter_map(|t| charges.get_key_value(&t.id))
            .map(|(id, ch)| (id.clone(), ch.clone()))
            .collect();
        self.build_owned(c, tenants, &mut own, m, status, tax)
    }

    /// As [`Billing::build`], taking the tenants' charges out of `charges`.
    pub(crate) fn build_owned(
        &self,
        c: &contract::Model,
        tenants: &[tenant::Model],
        charges: &mut HashMap<String, TenantCharges>,
        m: Month,
        status: BillStatus,
        tax: Option<crate::commercial::tax::TaxSetting>,
    ) -> AppResult<Bill> {
        let parts: Vec<(TenantInfo, TenantCharges)> = tenants
            .iter()
            .filter_map(|t| charges.remove(&t.id).map(|ch| (tenant_info(t), ch)))
            .collect();
        let currency = currency_of(&parts)?;
        let header = BillHeader {
            contract: ContractInfo {
                contract_id: c.id.clone(),
                external_contract_id: c.external_id.clone(),
                customer_number: c.id.clone(),
            },
            month: m,
            status,
            currency,
            tax_rule: crate::commercial::tax::tax_rule(currency, tax),
        };
        Bill::build(header, parts).map_err(|e| AppError::conflict(e.to_string()))
    }

    /// The daily estimate: the month rated up to the end of `day` (or now, if earlier).
    pub(crate) async fn daily(
        &self,
        ctx: &CallCtx,
        c: &ContractView,
        m: Month,
        day: u32,
    ) -> AppResult<Bill> {
        if day == 0 || day > m.days() {
            return Err(AppError::invalid(
                "day",
                format!("{m} has days 1 to {}", m.days()),
            ));
        }
        if m > self.current_month() {
            return Err(AppError::invalid("month", format!("{m} has not begun")));
        }
        let end_of_day = m.start() + chrono::Duration::days(i64::from(day));
        let until = Ord::min(end_of_day, self.clock.now());
        let tenants = self.billed_tenants(&c.id).await?;
        let charges = self.rate(ctx, &tenants, m, until).await?;
        let tax = self.tax_setting_of(&c.id).await?;
        self.build(
            &Self::contract_row(c),
            &tenants,
            &charges,
            m,
            BillStatus::Estimated,
            tax,
        )
    }
}

fn tenant_info(t: &tenant::Model) -> TenantInfo {
    TenantInfo {
        tenant_id: t.id.clone(),
        name: t.name.clone(),
        region: t.region.clone(),
        workspace_id: t.workspace_id.clone(),
        workspace_name: t.workspace_id.clone(),
    }
}

fn currency_of(charges: &[(TenantInfo, TenantCharges)]) -> AppResult<Currency> {
    let mut found: Option<Currency> = None;
    for (_, c) in charges {
        for cur in c
            .resources
            .iter()
            .map(|r| r.menu.currency)
            .chain(c.tenant_lines.iter().map(|t| t.menu.currency))
        {
            match found {
                None => found = Some(cur),
                Some(f) if f != cur => {
                    return Err(AppError::conflict(
                        "the contract used menus priced in different currencies",
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(found.unwrap_or(Currency::Jpy))
}

fn to_resource(r: ResourceUsage) -> AppResult<Resource> {
    let mut res = Resource::new(r.resource_id, r.menu_code);
    res.name = r.name;
    res.created_at = r.created_at;
    for iv in r.intervals {
        let quantity: Decimal = iv.quantity.parse().map_err(AppError::internal)?;
        res.intervals.push(UsageInterval {
            start: iv.start,
            end: iv.end,
            plan: iv.plan,
            status: iv.status,
            quantity,
        });
    }
    Ok(res)
}
