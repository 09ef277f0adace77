//! Bills over the bus: a month's bill of each visible contract (stored once the month is closed,
//! else estimated), and each contract's bill history, newest first.

use std::collections::{BTreeSet, HashMap, HashSet};

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    Page,
    billing::{BillView, GetBills, ListBills},
    contract::ContractView,
    page::Cursor,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    Billing,
    bill::{Bill, BillStatus},
    bill_view::bill_view,
    commercial::serve::Shown,
    entity::{closed_month, fixed_bill, tenant, tenant_month},
    estimate::USAGE_BATCH_READ,
    month,
    rating::{Month, TenantCharges},
};

/// Months of history readable (seed 002: the past 24 months).
pub const HISTORY_MONTHS: usize = 24;

/// A month as a list cursor (the bill list is ordered by month, newest first).
fn month_cursor(m: Month) -> Cursor {
    Cursor {
        created_at_us: 0,
        id: m.to_string(),
    }
}

impl Billing {
    pub(crate) async fn is_closed(&self, m: Month) -> AppResult<bool> {
        Ok(closed_month::Entity::find_by_id(m.to_string())
            .one(&self.db)
            .await?
            .is_some())
    }

    /// The bill of one (visible) contract for a month: the stored one once the month is closed,
    /// otherwise rated now.
    pub(crate) async fn bill(&self, ctx: &CallCtx, c: &ContractView, m: Month) -> AppResult<Bill> {
        let mut bills = self.bills_for(ctx, &[(c, m)]).await?;
        Ok(bills.remove(0))
    }

    /// The wholesale bills of a batch of (visible contract, month) pairs, in order, with one read
    /// per table (closed months, fixed bills, tenants, tax settings, coupon registrations, SLA
    /// credits) and, per open month, one usage request for every tenant of the batch and the
    /// month's price list from the process's cache: the cost of a DataLoader batch does not grow
    /// with its size. Open months' bills get their adjustments in the order of
    /// [`crate::commercial::adjustments`]: price → coupon → SLA credit → tax.
    pub(crate) async fn bills_for(
        &self,
        ctx: &CallCtx,
        pairs: &[(&ContractView, Month)],
    ) -> AppResult<Vec<Bill>> {
        let current = self.current_month();
        if let Some((_, m)) = pairs.iter().find(|(_, m)| *m > current) {
            return Err(AppError::invalid("month", format!("{m} has not begun")));
        }
        let months: BTreeSet<Month> = pairs.iter().map(|(_, m)| *m).collect();
        let closed: HashSet<String> = closed_month::Entity::find()
            .filter(closed_month::Column::Month.is_in(months.iter().map(|m| m.to_string())))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.month)
            .collect();
        let is_closed = |m: &Month| closed.contains(&m.to_string());
        let fixed_ids: Vec<String> = pairs
            .iter()
            .filter(|(_, m)| is_closed(m))
            .map(|(c, m)| format!("{}|{m}", c.id))
            .collect();
        let mut fixed: HashMap<String, Bill> = if fixed_ids.is_empty() {
            HashMap::new()
        } else {
            let rows = fixed_bill::Entity::find()
                .filter(fixed_bill::Column::Id.is_in(fixed_ids))
                .all(&self.db)
                .await?;
            self.whole_fixed_bills(rows).await?
        };
        let open: Vec<String> = pairs
            .iter()
            .filter(|(_, m)| !is_closed(m))
            .map(|(c, _)| c.id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let tenants = if open.is_empty() {
            HashMap::new()
        } else {
            self.billed_tenants_of(&open).await?
        };
        let mut charges: HashMap<Month, HashMap<String, TenantCharges>> = HashMap::new();
        for m in months.iter().filter(|m| !is_closed(m)) {
            let mut seen = HashSet::new();
            let of_month: Vec<tenant::Model> = pairs
                .iter()
                .filter(|(_, pm)| pm == m)
                .flat_map(|(c, _)| tenants.get(&c.id).into_iter().flatten())
                .filter(|t| seen.insert(t.id.clone()))
                .cloned()
                .collect();
            let rated = self
                .rate_batched(ctx, &of_month, *m, self.clock.now(), USAGE_BATCH_READ)
                .await?;
            charges.insert(*m, rated);
        }
        let open_ids: Vec<&str> = open.iter().map(String::as_str).collect();
        let taxes = self.tax_settings_of(&open_ids).await?;
        let none = HashMap::new();
        let mut out: Vec<Option<Bill>> = Vec::with_capacity(pairs.len());
        let mut estimated = Vec::new();
        for (c, m) in pairs {
            let row = Self::contract_row(c);
            if is_closed(m) {
                let id = format!("{}|{m}", c.id);
                // Moved out, not copied (a fixed bill may be large); a pair asked twice is
                // answered twice from the first answer.
                let earlier = || {
                    out.iter().flatten().find(|b: &&Bill| {
                        b.header.contract.contract_id == c.id && b.header.month == *m
                    })
                };
                let bill = match fixed.remove(&id) {
                    Some(b) => b,
                    None => match earlier() {
                        Some(b) => b.clone(),
                        _ => self.build(&row, &[], &HashMap::new(), *m, BillStatus::Fixed, None)?,
                    },
                };
                out.push(Some(bill));
                continue;
            }
            let own = tenants.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
            let rated = charges.get(m).unwrap_or(&none);
            let tax = taxes.get(&c.id).copied();
            estimated.push(self.build(&row, own, rated, *m, BillStatus::Estimated, tax)?);
            out.push(None);
        }
        // price → coupon → SLA credit → tax (`commercial::adjustments`), the batch's coupons and
        // credits read once
        let mut estimated = self.adjusted_all(estimated).await?.into_iter();
        Ok(out
            .into_iter()
            .map(|b| b.or_else(|| estimated.next()))
            .collect::<Option<Vec<Bill>>>()
            .unwrap_or_default())
    }

    /// The bills the caller is shown of a batch of (visible contract, month) pairs, in order:
    /// the wholesale bill, or for a child's own users what their partner shows them (the
    /// end-user bill, or nothing: `None`).
    pub(crate) async fn shown_bills(
        &self,
        ctx: &CallCtx,
        pairs: &[(&ContractView, Month)],
    ) -> AppResult<Vec<Option<Bill>>> {
        let contracts: Vec<ContractView> = pairs.iter().map(|(c, _)| (*c).clone()).collect();
        let shown = self.shown_for(ctx, &contracts).await?;
        let of = |c: &ContractView| shown.get(&c.id).copied().unwrap_or(Shown::Wholesale);
        let wholesale: Vec<(&ContractView, Month)> = pairs
            .iter()
            .filter(|(c, _)| of(c) == Shown::Wholesale)
            .copied()
            .collect();
        let mut wholesale = self.bills_for(ctx, &wholesale).await?.into_iter();
        let mut out = Vec::with_capacity(pairs.len());
        for (c, m) in pairs {
            out.push(match of(c) {
                Shown::Wholesale => wholesale.next(),
                Shown::EndUser => Some(self.end_user_bill(ctx, c, *m).await?.end_user),
                Shown::Nothing => None,
            });
        }
        Ok(out)
    }

    pub(crate) async fn get_bills(&self, ctx: &CallCtx, req: GetBills) -> AppResult<Vec<BillView>> {
        let m = req.month;
        let visible = self.visible(ctx, req.contract_ids).await?;
        let bills = match req.day {
            None => {
                let pairs: Vec<(&ContractView, Month)> = visible.iter().map(|c| (c, m)).collect();
                self.shown_bills(ctx, &pairs).await?
            }
            Some(day) => {
                // a daily estimate is of the wholesale bill: a child's own users shown another
                // bill have none
                let shown = self.shown_for(ctx, &visible).await?;
                let mut out = Vec::new();
                for c in &visible {
                    out.push(match shown.get(&c.id) {
                        Some(Shown::Wholesale) | None => Some(self.daily(ctx, c, m, day).await?),
                        Some(_) => None,
                    });
                }
                out
            }
        };
        Ok(bills.iter().flatten().map(bill_view).collect())
    }

    /// Months listed for each contract, newest first: the current month, then back to the first
    /// month with usage, at most [`HISTORY_MONTHS`] in all; two reads for the whole batch.
    pub(crate) async fn months_of(
        &self,
        contract_ids: &[String],
    ) -> AppResult<HashMap<String, Vec<Month>>> {
        let tenants = self.billed_tenants_of(contract_ids).await?;
        let all: Vec<String> = tenants.values().flatten().map(|t| t.id.clone()).collect();
        let firsts: Vec<(String, Option<String>)> = tenant_month::Entity::find()
            .select_only()
            .column(tenant_month::Column::TenantId)
            .column_as(tenant_month::Column::Month.min(), "first")
            .filter(tenant_month::Column::TenantId.is_in(all))
            .group_by(tenant_month::Column::TenantId)
            .into_tuple()
            .all(&self.db)
            .await?;
        let first_of: HashMap<String, Month> = firsts
            .into_iter()
            .filter_map(|(t, m)| Some((t, Month::parse(&m?).ok()?)))
            .collect();
        Ok(contract_ids
            .iter()
            .map(|id| {
                let first = tenants
                    .get(id)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| first_of.get(&t.id))
                    .min()
                    .copied();
                let mut m = self.current_month();
                let mut out = vec![m];
                while out.len() < HISTORY_MONTHS && first.is_some_and(|f| m > f) {
                    m = m.prev();
                    out.push(m);
                }
                (id.clone(), out)
            })
            .collect())
    }

    pub(crate) async fn list_bills(
        &self,
        ctx: &CallCtx,
        req: ListBills,
    ) -> AppResult<Vec<(String, Page<BillView>)>> {
        // newest month first; a cursor is a month (checked before anything is read)
        let month_key = |field: &'static str, c: &Cursor| month(field, &c.id);
        let newest_first = |m: &Month, k: &Month| k.cmp(m);
        req.page.slice(Vec::new(), month_key, newest_first)?;
        let visible = self.visible(ctx, req.contract_ids.clone()).await?;
        // a child whose partner shows its users nothing lists no bills to them
        let shown = self.shown_for(ctx, &visible).await?;
        let visible: Vec<ContractView> = visible
            .into_iter()
            .filter(|c| shown.get(&c.id) != Some(&Shown::Nothing))
            .collect();
        let ids: Vec<String> = visible.iter().map(|c| c.id.clone()).collect();
        let mut months = self.months_of(&ids).await?;
        // Every page of the batch, then their bills in one batch.
        let mut pages = Vec::with_capacity(req.contract_ids.len());
        let mut pairs: Vec<(&ContractView, Month)> = Vec::new();
        for id in &req.contract_ids {
            let Some(c) = visible.iter().find(|c| &c.id == id) else {
                pages.push(None);
                continue;
            };
            let all = months.remove(&c.id).unwrap_or_default();
            let page = req.page.slice(all, month_key, newest_first)?;
            pairs.extend(page.items.iter().map(|m| (c, *m)));
            pages.push(Some(page));
        }
        let mut bills = self.shown_bills(ctx, &pairs).await?.into_iter().flatten();
        Ok(req
            .contract_ids
            .into_iter()
            .zip(pages)
            .map(|(id, page)| match page {
                None => (id, Page::empty()),
                Some(page) => {
                    let edges = page
                        .items
                        .iter()
                        .filter_map(|m| Some((month_cursor(*m), bill_view(&bills.next()?))))
                        .collect();
                    (
                        id,
                        Page {
                            edges,
                            has_next_page: page.has_next_page,
                            has_previous_page: page.has_previous_page,
                            total_count: page.total_count,
                        },
                    )
                }
            })
            .collect())
    }
}
