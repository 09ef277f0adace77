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
    bill::{Bill, BillHeader, BillStatus, ContractInfo, TaxRule, TenantInfo},
    entity::{contract, tenant},
    rating::{Currency, Month, Period, Resource, TenantCharges, UsageInterval, rate_tenant},
};

/// Tenants per `GetUsage` request when a whole month is rated: small enough that a reply stays
/// far below the broker's message size limit (16 MiB) for tenants of a few thousand resources.
pub(crate) const USAGE_BATCH: usize = 5;
/// Tenants per `GetUsage` request for the bills a query asks for (a DataLoader batch of
/// contracts): one request for the whole batch in practice.
pub(crate) const USAGE_BATCH_READ: usize = 1_000;
/// `GetUsage` requests in flight while rating a month (metering reads while billing rates).
const USAGE_IN_FLIGHT: usize = 4;

impl Billing {
    /// Rates tenants for a month: one `GetUsage` request per `per_request` tenants, the month's
    /// price list from the process's cache.
    pub(crate) async fn rate(
        &self,
        ctx: &CallCtx,
        tenants: &[tenant::Model],
        m: Month,
        until: DateTime<chrono::Utc>,
        per_request: usize,
    ) -> AppResult<HashMap<String, TenantCharges>> {
        let prices = self.prices_in(m).await?;
        let (order, menus) = (&prices.order, &prices.menus);
        let period = Period::until(m, until);
        let mut out = HashMap::new();
        let sys = self.system(ctx);
        let requests: Vec<_> = tenants
            .chunks(per_request.max(1))
            .map(|chunk| {
                let req = GetUsage {
                    tenant_ids: chunk.iter().map(|t| t.id.clone()).collect(),
                    month: m.to_string(),
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
            let usage = usage?;
            for (tenant_id, resources) in usage {
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
                let charges = rate_tenant(menus, &resources, &period).map_err(|e| {
                    tracing::error!(tenant = %tenant_id, "rating failed: {e}");
                    AppError::conflict(format!("usage of tenant {tenant_id} cannot be rated: {e}"))
                })?;
                out.insert(tenant_id, charges);
            }
        }
        Ok(out)
    }

    pub(crate) fn build(
        &self,
        c: &contract::Model,
        tenants: &[tenant::Model],
        charges: &HashMap<String, TenantCharges>,
        m: Month,
        status: BillStatus,
    ) -> AppResult<Bill> {
        let parts: Vec<(TenantInfo, TenantCharges)> = tenants
            .iter()
            .filter_map(|t| {
                charges.get(&t.id).map(|ch| {
                    (
                        TenantInfo {
                            tenant_id: t.id.clone(),
                            name: t.name.clone(),
                            region: t.region.clone(),
                            workspace_id: t.workspace_id.clone(),
                            workspace_name: t.workspace_id.clone(),
                        },
                        ch.clone(),
                    )
                })
            })
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
            tax_rule: TaxRule::default_for(currency),
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
        let charges = self.rate(ctx, &tenants, m, until, USAGE_BATCH_READ).await?;
        self.build(
            &Self::contract_row(c),
            &tenants,
            &charges,
            m,
            BillStatus::Estimated,
        )
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
