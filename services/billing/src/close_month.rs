//! Closing a month: `closeMonth` rates every tenant once, builds every contract's bill (a
//! partner's with its children's tenants) and stores them. A fixed bill is read back, never
//! re-rated, so later price or usage changes cannot touch it.
//!
//! In bounded memory (issue 14): tenants are rated a chunk at a time, contract tree by contract
//! tree (a direct contract, or a partner and its children), and each tenant's section of a bill
//! is stored as soon as it is rated ([`crate::fixed_bill_parts`]). What stays in memory until the
//! end is, per bill, its header and what the bill-level adjustments read of each tenant (its
//! totals, and the amount per menu: see [`crate::tenant_summaries::summary`]) — and, for a child, its own usage, which its
//! end-user bill re-prices. The peak follows the largest chunk or child, not the month. The bill's
//! adjustments are [`crate::commercial::adjustments::adjust`]'s on those summaries, so a fixed
//! bill is the one `adjust` gives on the whole bill ([`crate::tenant_summaries::Assembly`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::DateTime;
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::billing::{self as proto, CloseMonthResult};
use sea_orm::{EntityTrait, QueryOrder, Set, TransactionTrait, sea_query::OnConflict};

use crate::{
    Billing,
    bill::{Bill, BillStatus},
    commercial::{
        adjustments::Pending,
        end_user_bill::EndUserPrices,
        price_rules::{PriceRule, in_force},
        tax::TaxSetting,
    },
    credits::TenantCredits,
    entity::{closed_month, contract, fixed_bill, tenant},
    estimate::USAGE_BATCH,
    fixed_bill_parts::{self, Part},
    rating::{Menu, Month, TenantCharges},
    tenant_summaries::Assembly,
};

/// Tenants rated at a time: the `GetUsage` requests of one chunk are in flight together
/// (`USAGE_BATCH` tenants each, four at a time), so metering reads while billing rates.
const CHUNK_TENANTS: usize = USAGE_BATCH * 4;

/// A bill being closed: its contract, where its tenants go, and what it keeps of them (their
/// summaries as priced, from which [`Assembly::finish`] adjusts the bill in the order of
/// [`crate::commercial::adjustments::adjust`]).
struct Open<'a> {
    contract: &'a contract::Model,
    id: String,
    assembly: Assembly,
}

impl<'a> Open<'a> {
    fn new(contract: &'a contract::Model, m: Month) -> Self {
        Open {
            contract,
            id: format!("{}|{m}", contract.id),
            assembly: Assembly::default(),
        }
    }
}

/// What the close measured, for the log and the benchmark.
#[derive(Default)]
struct Timings {
    usage: Duration,
    rating: Duration,
    bills: Duration,
    /// End-user rating and provenance (what the aim of ≤ 1.2 × `rating` is about).
    repricing: Duration,
    /// The end-user bills built, adjusted, encoded and stored (beside `bills`, the wholesale
    /// bills' building and storing).
    end_user_bills: Duration,
}

impl Billing {
    /// Fixes every bill of a month. Only a month that is over can be closed; closing it again
    /// answers what the first close did.
    pub(crate) async fn close_month(&self, ctx: &CallCtx, m: Month) -> AppResult<CloseMonthResult> {
        match &ctx.principal {
            Principal::Anonymous => return Err(AppError::unauthenticated()),
            p if !p.is_operator() => {
                return Err(AppError::forbidden("only operators close billing months"));
            }
            _ => {}
        }
        if m >= self.current_month() {
            return Err(AppError::invalid(
                "month",
                format!("{m} is not over yet: only past months can be closed"),
            ));
        }
        if let Some(done) = closed_month::Entity::find_by_id(m.to_string())
            .one(&self.db)
            .await?
        {
            return Ok(CloseMonthResult {
                month: m,
                bills: done.bills as u64,
                already_closed: true,
                closed_at: DateTime::from_timestamp_micros(done.closed_at).unwrap_or_default(),
            });
        }
        let started = Instant::now();
        // The close's instant, recorded with the month, also names this attempt's stored parts.
        let now = self.clock.now();
        let attempt = now.timestamp_micros();
        let tenants = tenant::Entity::find()
            .order_by_asc(tenant::Column::CreatedAt)
            .order_by_asc(tenant::Column::Id)
            .all(&self.db)
            .await?;
        let menus = self.price_list(m).await?;
        let taxes = self.tax_settings().await?;
        let contracts = contract::Entity::find().all(&self.db).await?;
        let by_id: HashMap<&str, &contract::Model> =
            contracts.iter().map(|c| (c.id.as_str(), c)).collect();
        // Each contract's own tenants, in creation order (tenants of no known contract are not
        // billed).
        let mut own: HashMap<&str, Vec<tenant::Model>> = HashMap::new();
        for t in tenants {
            if let Some(c) = by_id.get(t.contract_id.as_str()) {
                own.entry(c.id.as_str()).or_default().push(t);
            }
        }
        let known = |id: &str| by_id.contains_key(id);
        let children_of = |c: &contract::Model| -> Vec<&contract::Model> {
            contracts
                .iter()
                .filter(|x| x.parent_id.as_deref() == Some(c.id.as_str()))
                .collect()
        };
        // What adjusts each bill (coupons in force, SLA credits landing), one read per table.
        let pairs: Vec<(&str, Month)> = contracts.iter().map(|c| (c.id.as_str(), m)).collect();
        let pending: HashMap<String, Pending> = contracts
            .iter()
            .map(|c| c.id.clone())
            .zip(self.pending_for(&pairs).await?)
            .collect();
        let mut closing = Close {
            billing: self,
            pending: &pending,
            ctx,
            m,
            attempt,
            menus: &menus,
            taxes: &taxes,
            rules: HashMap::new(),
            timings: Timings::default(),
            end_user_bills: 0,
        };
        let mut bills: HashMap<String, Bill> = HashMap::new();
        // Tree by tree (a parent is a partner, a child has no children): a contract's bill holds
        // its own tenants and its children's, so a child's tenants are rated once for both bills.
        for root in contracts
            .iter()
            .filter(|c| c.parent_id.as_deref().is_none_or(|p| !known(p)))
        {
            let mut top = Open::new(root, m);
            let empty = Vec::new();
            closing
                .group(
                    root,
                    own.get(root.id.as_str()).unwrap_or(&empty),
                    &mut [&mut top],
                )
                .await?;
            for child in children_of(root) {
                let mut bill = Open::new(child, m);
                let ts = own.get(child.id.as_str()).unwrap_or(&empty);
                closing.group(child, ts, &mut [&mut bill, &mut top]).await?;
                closing.finish(bill, &mut bills).await?;
            }
            closing.finish(top, &mut bills).await?;
        }
        // Bills in the order of the contracts, as before.
        let mut rows = Vec::new();
        let mut fixed = Vec::new();
        // referred contracts' bills (their totals), for the agencies' statements
        let mut direct_bills: HashMap<String, Bill> = HashMap::new();
        for c in &contracts {
            let Some(bill) = bills.remove(&c.id) else {
                continue;
            };
            fixed.push(proto::FixedBill {
                contract_id: c.id.clone(),
                total: bill.total.to_string(),
                currency: bill.header.currency.into(),
            });
            let mut stored = bill;
            stored.tenants.clear();
            rows.push(fixed_bill::ActiveModel {
                id: Set(format!("{}|{m}", c.id)),
                contract_id: Set(c.id.clone()),
                month: Set(m.to_string()),
                body: Set(serde_json::to_string(&stored).map_err(AppError::internal)?),
            });
            if c.kind == ecl_proto::contract::ContractKind::Direct {
                direct_bills.insert(c.id.clone(), stored);
            }
        }
        let statements = crate::commercial::serve::statements(self, m, &direct_bills).await?;
        let n = rows.len() as u64;
        let txn = self.db.begin().await?;
        for chunk in rows.chunks(200) {
            fixed_bill::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(fixed_bill::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        fixed_bill_parts::keep_only(&txn, m, attempt).await?;
        use ecl_kernel::OnUnique as _;
        statements.insert(&txn).await?;
        closed_month::Entity::insert(closed_month::ActiveModel {
            month: Set(m.to_string()),
            bills: Set(n as i64),
            closed_at: Set(attempt),
        })
        .exec(&txn)
        .await
        // Only the month's own row being there already means another close won the race.
        .on_unique("closed_months", &["month"], || {
            AppError::conflict(format!("{m} is being closed by another request"))
        })?;
        // Announced with the close itself: the notification service mails each contract's
        // contact person that its bill is fixed (CONTRACT_FEE).
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &proto::MonthClosed {
                    month: m,
                    bills: fixed,
                },
            )
            .await?;
        let t = &closing.timings;
        // For the ingest benchmark (and dashboards): where the last close's time went.
        for (phase, d) in [
            ("usage", t.usage),
            ("rating", t.rating),
            ("bills", t.bills),
            ("repricing", t.repricing),
            ("end_user_bills", t.end_user_bills),
            ("total", started.elapsed()),
        ] {
            metrics::gauge!("ecl_billing_month_close_seconds", "phase" => phase)
                .set(d.as_secs_f64());
        }
        tracing::info!(
            month = %m,
            bills = n,
            end_user_bills = closing.end_user_bills,
            usage = ?t.usage,
            rating = ?t.rating,
            bills_built = ?t.bills,
            repricing = ?t.repricing,
            end_user_bills_built = ?t.end_user_bills,
            elapsed = ?started.elapsed(),
            "month closed"
        );
        Ok(CloseMonthResult {
            month: m,
            bills: n,
            already_closed: false,
            closed_at: now,
        })
    }
}

/// One close in progress.
struct Close<'a> {
    billing: &'a Billing,
    ctx: &'a CallCtx,
    m: Month,
    attempt: i64,
    menus: &'a [Menu],
    taxes: &'a HashMap<String, TaxSetting>,
    rules: HashMap<String, Vec<PriceRule>>,
    timings: Timings,
    end_user_bills: usize,
    pending: &'a HashMap<String, Pending>,
}

impl Close<'_> {
    /// Rates the tenants of contract `c` a chunk at a time, stores each rated tenant's section
    /// in every bill of `into` (its own bill, and its partner's), and for a child rates the
    /// same usage at its end-user prices in the same pass and prices its end-user bill.
    async fn group(
        &mut self,
        c: &contract::Model,
        tenants: &[tenant::Model],
        into: &mut [&mut Open<'_>],
    ) -> AppResult<()> {
        let b = self.billing;
        let partner = c
            .parent_id
            .as_deref()
            .filter(|_| c.kind == ecl_proto::contract::ContractKind::Child);
        let prices = match partner {
            Some(p) => Some(self.end_user_prices(p, &c.id).await?),
            None => None,
        };
        // A child's charges at both prices, kept for its end-user bill.
        let mut wholesale_kept: HashMap<String, TenantCharges> = HashMap::new();
        let mut end_user_kept: HashMap<String, TenantCharges> = HashMap::new();
        let mut with_charges: Vec<tenant::Model> = Vec::new();
        for chunk in tenants.chunks(CHUNK_TENANTS) {
            let t0 = Instant::now();
            let usage = b.usage(self.ctx, chunk, self.m).await?;
            let t1 = Instant::now();
            let rated = Billing::rate_usage_priced(
                self.menus,
                prices.as_ref().map(|p| p.menus.as_slice()),
                &usage,
                self.m,
                b.clock.now(),
            )?;
            drop(usage);
            let t2 = Instant::now();
            let charges = rated.wholesale;
            let with: Vec<tenant::Model> = chunk
                .iter()
                .filter(|t| charges.contains_key(&t.id))
                .cloned()
                .collect();
            if !with.is_empty() {
                for open in into.iter_mut() {
                    self.add(open, &with, &charges).await?;
                }
            }
            self.timings.usage += t1 - t0;
            self.timings.rating += (t2 - t1) - rated.repricing;
            self.timings.repricing += rated.repricing;
            self.timings.bills += t2.elapsed();
            if prices.is_some() {
                with_charges.extend(with);
                wholesale_kept.extend(charges);
                end_user_kept.extend(rated.end_user);
            }
        }
        if let (Some(partner_id), Some(prices)) = (partner, &prices)
            && !with_charges.is_empty()
        {
            let none = Pending::default();
            let spent = crate::commercial::serve::end_user_bill(
                b,
                crate::commercial::serve::Closing {
                    month: self.m,
                    child: c,
                    partner_id,
                    tenants: &with_charges,
                    prices,
                    wholesale: &mut wholesale_kept,
                    end_user: &mut end_user_kept,
                    tax: self.taxes.get(&c.id).copied(),
                    pending: self.pending.get(&c.id).unwrap_or(&none),
                },
            )
            .await?;
            self.end_user_bills += 1;
            self.timings.repricing += spent.repricing;
            self.timings.end_user_bills += spent.building;
        }
        Ok(())
    }

    /// A child's end-user prices this month: the price list re-priced by the rules of its
    /// partner in force (each partner's rules read once per close).
    async fn end_user_prices(&mut self, partner: &str, child: &str) -> AppResult<EndUserPrices> {
        if !self.rules.contains_key(partner) {
            let rules = self.billing.rules_of(partner).await?;
            self.rules.insert(
                partner.to_string(),
                rules.into_iter().map(|(r, _)| r).collect(),
            );
        }
        let live = in_force(&self.rules[partner], child, self.m);
        Ok(EndUserPrices::new(self.menus, &live, child))
    }

    /// Adds rated tenants to an open bill: their sections (SLA credits applied, unlimited until
    /// the coupons are known: see [`Assembly`]) stored, their summaries kept.
    async fn add(
        &self,
        open: &mut Open<'_>,
        rated: &[tenant::Model],
        charges: &HashMap<String, TenantCharges>,
    ) -> AppResult<()> {
        let b = self.billing;
        let c = open.contract;
        let part = b.build(
            c,
            rated,
            charges,
            self.m,
            BillStatus::Fixed,
            self.taxes.get(&c.id).copied(),
        )?;
        let none = TenantCredits::new();
        let credits = self.pending.get(&c.id).map_or(&none, |p| &p.credits);
        let first = open.assembly.len();
        let sections = open.assembly.add(part, credits)?;
        let parts: Vec<Part<'_>> = sections
            .iter()
            .enumerate()
            .map(|(i, t)| Part {
                bill_id: &open.id,
                seq: first + i,
                tenant: t,
            })
            .collect();
        fixed_bill_parts::write(&b.db, self.m, self.attempt, &parts).await?;
        Ok(())
    }

    /// Completes a bill whose tenants are all stored: its totals and adjustments as
    /// [`crate::commercial::adjustments::adjust`] gives them on the whole bill, and the stored
    /// sections whose credits the coupons limit rewritten.
    async fn finish(&self, open: Open<'_>, bills: &mut HashMap<String, Bill>) -> AppResult<()> {
        let none = Pending::default();
        let pending = self.pending.get(&open.contract.id).unwrap_or(&none);
        let Some((bill, rewrites)) = open.assembly.finish(pending) else {
            return Ok(());
        };
        if !rewrites.is_empty() {
            let db = &self.billing.db;
            let seqs: Vec<usize> = rewrites.iter().map(|r| r.seq).collect();
            let mut stored = fixed_bill_parts::read(db, &open.id, self.attempt, &seqs).await?;
            for r in &rewrites {
                if let Some(t) = stored.get_mut(&r.seq) {
                    r.apply(t);
                }
            }
            let parts: Vec<Part<'_>> = stored
                .iter()
                .map(|(seq, t)| Part {
                    bill_id: &open.id,
                    seq: *seq,
                    tenant: t,
                })
                .collect();
            fixed_bill_parts::write(db, self.m, self.attempt, &parts).await?;
        }
        bills.insert(open.contract.id.clone(), bill);
        Ok(())
    }
}
