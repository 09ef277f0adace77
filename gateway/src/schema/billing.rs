//! Billing and metering: the price list, usage recording, bills (`Contract.bill`, `Contract.bills`,
//! `Tenant.usage`), month close, and the CSV export route. Bills and usage fan out through
//! DataLoaders, so a walk over many contracts or tenants costs one bus request per level.

use super::{
    common::{PagedBatch, PagedLoader, RequestState},
    scalars::{DateTime, Decimal, Month, from_wire},
};
use crate::errors::gql;
use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use axum::{
    extract::{Path, Query},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use ecl_bus::{Bus, CallCtx};
use ecl_kernel::AppError;
use ecl_proto::{
    PageArgs,
    billing::{
        self as proto, BillView, CloseMonth, ExportBill, ExportFormat, GetBills, GetTenantUsage,
        ListBills, ListMenus, MenuSpec, MenuView, PlanSpec, TenantUsageView, UpsertMenu,
    },
    metering::{self as mproto, RecordUsage, UsageEvent},
};
use std::{collections::HashMap, time::Duration};

// ---- price list ---------------------------------------------------------------------------------

/// What a menu's quantity is counted in.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::billing::ChargeUnit")]
pub enum ChargeUnit {
    Second,
    Minute,
    Hour,
    Day,
    Month,
    /// Gigabytes (storage, transfer).
    Gb,
    /// Pieces (licences, addresses…).
    Count,
}

/// How a menu is charged (seed 003's charge patterns).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::billing::ChargePattern")]
pub enum ChargePattern {
    /// Pay as you go: the unit price × the time or amount used.
    Payg,
    /// Pay as you go up to the plan's monthly cap.
    CappedPayg,
    /// Capped pay as you go where a plan change within the month starts a new cap.
    CappedPaygPlanChange,
    /// A fixed monthly fee, whatever the use.
    MonthlyFixed,
    /// A monthly fee prorated by the days in use.
    ProratedDaily,
}

/// A special pricing rule of seed 003 that applies on top of the pattern.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::billing::SpecialRule")]
pub enum SpecialRule {
    None,
    LogicalNetwork,
    #[graphql(name = "CIC_1G")]
    Cic1G,
    #[graphql(name = "CIC_10G")]
    Cic10G,
    WindowsGuestImage,
    Oracle,
    SqlServerVirtualServer,
    SqlServerDedicatedHypervisor,
    Monitoring,
    CloudFoundryShared,
    #[graphql(name = "VIRTUAL_PRIVATE_CF")]
    VirtualPrivateCf,
}

/// The currency of a price or bill (ISO 4217).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::billing::Currency")]
pub enum Currency {
    /// Japanese yen: bills round to whole yen.
    Jpy,
    /// US dollars: bills round to cents.
    Usd,
}

#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "PlanInput")]
pub struct Plan {
    /// Plan key ("1CPU-4GB"), the `plan` of usage events.
    pub plan: String,
    /// Tier label in the bill; null = the key, "" = no plan tier.
    pub label: Option<String>,
    pub unit_price: Decimal,
    /// The monthly cap of a capped pattern.
    pub cap: Option<Decimal>,
    pub vcpus: Option<u32>,
}

impl From<Plan> for PlanSpec {
    fn from(p: Plan) -> Self {
        PlanSpec {
            plan: p.plan,
            label: p.label,
            unit_price: p.unit_price.into(),
            cap: p.cap.map(Into::into),
            vcpus: p.vcpus,
        }
    }
}

impl From<PlanSpec> for Plan {
    fn from(p: PlanSpec) -> Self {
        Plan {
            plan: p.plan,
            label: p.label,
            unit_price: p.unit_price.into(),
            cap: p.cap.map(Into::into),
            vcpus: p.vcpus,
        }
    }
}

/// A menu of the price list, in force from `effectiveFrom` (`YYYY-MM`).
#[derive(InputObject)]
pub struct MenuInput {
    pub code: String,
    #[graphql(default_with = "\"Enterprise Cloud 2.0\".to_string()")]
    pub service: String,
    pub category: String,
    #[graphql(default)]
    pub subcategory: String,
    pub name: String,
    #[graphql(default)]
    pub region: String,
    pub unit: ChargeUnit,
    pub pattern: ChargePattern,
    #[graphql(default_with = "SpecialRule::None")]
    pub rule: SpecialRule,
    /// The rule's amount: the 8VM+ flat price (guest image), the Windows monthly fee (Oracle).
    pub rule_amount: Option<Decimal>,
    /// The rule's plan: the free Basic plan (monitoring).
    pub rule_plan: Option<String>,
    pub currency: Currency,
    pub resellable: bool,
    /// What a child contract must do to use it (e.g. register the end user's name).
    pub resellable_condition: Option<String>,
    #[graphql(default = true)]
    pub sla_eligible: bool,
    pub effective_from: Month,
    pub plans: Vec<Plan>,
}

/// A menu of the price list as in force in a month: one version of its prices, from
/// `effectiveFrom` on.
#[derive(SimpleObject)]
pub struct Menu {
    /// `mnu_` + the code + `@` + `effectiveFrom`: this version of the menu's prices.
    pub id: ID,
    pub code: String,
    pub service: String,
    pub category: String,
    pub subcategory: String,
    pub name: String,
    pub region: String,
    pub unit: ChargeUnit,
    pub pattern: ChargePattern,
    pub rule: SpecialRule,
    pub rule_amount: Option<Decimal>,
    pub rule_plan: Option<String>,
    pub currency: Currency,
    pub resellable: bool,
    pub resellable_condition: Option<String>,
    pub sla_eligible: bool,
    pub effective_from: Month,
    pub plans: Vec<Plan>,
    pub updated_at: DateTime,
}

/// The global id of one version of a menu (a code has one version per `effectiveFrom`).
pub fn menu_id(code: &str, effective_from: &str) -> ID {
    ID(format!("mnu_{code}@{effective_from}"))
}

impl Menu {
    pub fn try_from(v: MenuView) -> async_graphql::Result<Menu> {
        let s = v.spec;
        Ok(Menu {
            id: menu_id(&s.code, &s.effective_from.to_string()),
            code: s.code,
            service: s.service,
            category: s.category,
            subcategory: s.subcategory,
            name: s.name,
            region: s.region,
            unit: s.unit.into(),
            pattern: s.pattern.into(),
            rule: s.rule.into(),
            rule_amount: s.rule_amount.map(Into::into),
            rule_plan: s.rule_plan,
            currency: s.currency.into(),
            resellable: s.resellable,
            resellable_condition: s.resellable_condition,
            sla_eligible: s.sla_eligible,
            effective_from: s.effective_from.into(),
            plans: s.plans.into_iter().map(Into::into).collect(),
            updated_at: v.updated_at.into(),
        })
    }
}

crate::connection!(MenuConnection, MenuEdge, Menu);

#[derive(InputObject, Default)]
pub struct MenuFilter {
    pub code: Option<String>,
    pub category: Option<String>,
    pub currency: Option<Currency>,
    /// Prices in force in this month; default the current month.
    pub month: Option<Month>,
}

// ---- usage --------------------------------------------------------------------------------------

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::metering::UsageKind")]
pub enum UsageKind {
    Start,
    Stop,
    Change,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::metering::UsageOutcome")]
pub enum UsageOutcome {
    Accepted,
    Duplicate,
    Rejected,
}

/// Why an event was rejected.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::metering::UsageRejection")]
pub enum UsageRejection {
    /// No such tenant (or not yet known to metering: it learns of tenants from their events).
    UnknownTenant,
    /// No menu with that code in force at the event's time.
    UnknownMenu,
    /// The menu has no such plan.
    UnknownPlan,
    /// A child contract's tenant used a menu that is not resellable.
    NotResellable,
    /// The event itself is malformed (a start without a plan, a bad quantity…).
    InvalidEvent,
}

#[derive(InputObject)]
pub struct UsageEventInput {
    /// The producer's id: the same id twice counts once.
    pub id: ID,
    pub tenant_id: ID,
    /// The producer's id of the resource (a VM, a volume…).
    pub resource_id: ID,
    pub menu_code: String,
    pub kind: UsageKind,
    pub at: DateTime,
    pub plan: Option<String>,
    /// The resource's own status as its controller reports it (free text).
    pub status: Option<String>,
    /// VMs, vCPUs, instances…; 1 when absent.
    pub quantity: Option<Decimal>,
    pub resource_name: Option<String>,
}

/// What became of one event: accepted, duplicate (counted once), or rejected with a `code`.
#[derive(SimpleObject)]
pub struct UsageResult {
    /// The event's id, as sent (a result is not stored: clients key it by the event).
    pub id: ID,
    pub outcome: UsageOutcome,
    /// Set when `REJECTED`.
    pub code: Option<UsageRejection>,
    pub message: Option<String>,
}

// ---- bills --------------------------------------------------------------------------------------

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::billing::BillStatus")]
pub enum BillStatus {
    Estimated,
    Fixed,
}

/// What a line of the bill tree is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ecl_proto::billing::BillLineKind")]
pub enum BillLineKind {
    /// Tier 1: the contract's total.
    Contract,
    /// Tier 2: a tenant's total.
    Tenant,
    Service,
    Category,
    Resource,
    Plan,
    /// Tier 7: one usage line (an interval of use at one plan).
    Usage,
    /// The part above a capped pattern's monthly cap, taken off.
    Cap,
    /// A free allowance taken off (`無料利用分`).
    Free,
    /// An SLA service credit taken off a tenant's amount (after coupons, before tax).
    SlaCredit,
    /// A bill-level adjustment (a coupon): after the prices, before SLA credits and tax.
    Adjustment,
    /// Tier 2: the consumption tax.
    Tax,
}

/// A node of the bill tree, in pre-order. Tier 1 contract total, 2 tenant (or tax), 3 service,
/// 4 category, 5 resource, 6 plan, 7 usage line — seed 002's tiers. Lines are values of their
/// bill (no `id` of their own): a client caches them with the bill.
#[derive(SimpleObject, Clone)]
pub struct BillLine {
    pub tier: u32,
    pub kind: BillLineKind,
    /// The legacy CSV's label (Japanese where it has one: `合計`, `テナント`, `無料利用分`…).
    pub label: String,
    /// The same label in English.
    pub label_en: String,
    pub detail: String,
    /// Displayed usage ("3739 Min").
    pub usage: String,
    /// 6 decimal places below the service tier, the currency's unit above.
    pub amount: Decimal,
    pub tenant_id: Option<ID>,
    pub resource_id: Option<ID>,
}

impl From<proto::BillLine> for BillLine {
    fn from(l: proto::BillLine) -> Self {
        BillLine {
            tier: l.tier,
            kind: l.kind.into(),
            label: l.label,
            label_en: l.label_en,
            detail: l.detail,
            usage: l.usage,
            amount: l.amount.into(),
            tenant_id: l.tenant_id.map(Into::into),
            resource_id: l.resource_id.map(Into::into),
        }
    }
}

fn lines(ls: Vec<proto::BillLine>) -> async_graphql::Result<Vec<BillLine>> {
    Ok(ls.into_iter().map(Into::into).collect())
}

/// A contract's bill of a month (a partner's includes its children's tenants).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Bill {
    #[graphql(skip)]
    pub id: ID,
    pub contract_id: ID,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    /// Σ tenant totals, each rounded down to the currency's unit.
    pub subtotal: Decimal,
    /// The tax rate in percent (`"10"`).
    pub tax_percent: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    pub lines: Vec<BillLine>,
}

#[async_graphql::ComplexObject]
impl Bill {
    /// `bil_` + the contract id + `@` + the month: one bill per contract and month.
    pub async fn id(&self) -> ID {
        self.id.clone()
    }
}

#[async_graphql::ComplexObject]
impl TenantUsage {
    /// `usg_` + the tenant id + `@` + the month.
    pub async fn id(&self) -> ID {
        self.id.clone()
    }
}

/// The global id of a contract's bill of a month.
pub fn bill_id(contract_id: &str, month: &str) -> ID {
    ID(format!("bil_{contract_id}@{month}"))
}

impl Bill {
    pub fn try_from(b: BillView) -> async_graphql::Result<Bill> {
        Ok(Bill {
            id: bill_id(&b.contract_id, &b.month),
            contract_id: b.contract_id.into(),
            month: b.month.into(),
            status: b.status.into(),
            currency: from_wire("currency", &b.currency)?,
            subtotal: b.subtotal.into(),
            tax_percent: b.tax_percent.into(),
            tax: b.tax.into(),
            total: b.total.into(),
            lines: lines(b.lines)?,
        })
    }
}

crate::connection!(BillConnection, BillEdge, Bill);

/// A tenant's charges of a month.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TenantUsage {
    #[graphql(skip)]
    pub id: ID,
    pub tenant_id: ID,
    pub month: Month,
    pub status: BillStatus,
    pub currency: Currency,
    /// Sum of its lines, 6 decimal places.
    pub exact_amount: Decimal,
    /// Rounded down to the currency's unit.
    pub total: Decimal,
    pub lines: Vec<BillLine>,
}

/// The global id of a tenant's usage of a month.
pub fn usage_id(tenant_id: &str, month: &str) -> ID {
    ID(format!("usg_{tenant_id}@{month}"))
}

impl TenantUsage {
    pub fn try_from(u: TenantUsageView) -> async_graphql::Result<TenantUsage> {
        Ok(TenantUsage {
            id: usage_id(&u.tenant_id, &u.month),
            tenant_id: u.tenant_id.into(),
            month: u.month.into(),
            status: u.status.into(),
            currency: from_wire("currency", &u.currency)?,
            exact_amount: u.exact_amount.into(),
            total: u.total.into(),
            lines: lines(u.lines)?,
        })
    }
}

#[derive(SimpleObject)]
pub struct CloseMonthResult {
    pub month: Month,
    pub bills: u64,
    pub already_closed: bool,
    pub closed_at: super::scalars::DateTime,
}

impl PagedBatch for ListBills {
    type Item = BillView;
    fn new(contract_ids: Vec<String>, page: PageArgs) -> Self {
        Self { contract_ids, page }
    }
}

/// `(contract or tenant id, month)`.
type MonthKey = (String, String);
/// `(contract id, month, day of a daily estimate)`.
type BillKey = (String, String, Option<u32>);

/// Batches `Contract.bill(month, day)` of a query level into one `GetBills` per (month, day).
pub struct BillLoader(RequestState);

impl Loader<BillKey> for BillLoader {
    type Value = BillView;
    type Error = AppError;

    async fn load(&self, keys: &[BillKey]) -> Result<HashMap<BillKey, BillView>, AppError> {
        let mut by_month: HashMap<(&str, Option<u32>), Vec<String>> = HashMap::new();
        for (id, m, day) in keys {
            by_month.entry((m, *day)).or_default().push(id.clone());
        }
        let mut out = HashMap::new();
        for ((month, day), contract_ids) in by_month {
            let req = GetBills {
                contract_ids,
                month: month.to_string(),
                day,
            };
            for b in self.0.bus.call(&self.0.call, &req).await? {
                out.insert((b.contract_id.clone(), b.month.clone(), day), b);
            }
        }
        Ok(out)
    }
}

/// Batches `Tenant.usage(month)` of a query level into one `GetTenantUsage` per month.
pub struct UsageLoader(RequestState);

impl Loader<MonthKey> for UsageLoader {
    type Value = TenantUsageView;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MonthKey],
    ) -> Result<HashMap<MonthKey, TenantUsageView>, AppError> {
        let mut by_month: HashMap<&str, Vec<String>> = HashMap::new();
        for (id, m) in keys {
            by_month.entry(m).or_default().push(id.clone());
        }
        let mut out = HashMap::new();
        for (month, tenant_ids) in by_month {
            let req = GetTenantUsage {
                tenant_ids,
                month: month.to_string(),
            };
            for u in self.0.bus.call(&self.0.call, &req).await? {
                out.insert((u.tenant_id.clone(), u.month.clone()), u);
            }
        }
        Ok(out)
    }
}

/// Adds this domain's loaders to a request (called by the HTTP handler).
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    let d = state.gate.delay();
    let req = req
        .data(
            DataLoader::new(
                PagedLoader::<ListBills>::new(state.clone()),
                state.gate.spawner(),
            )
            .delay(d),
        )
        .data(DataLoader::new(BillLoader(state.clone()), state.gate.spawner()).delay(d))
        .data(DataLoader::new(UsageLoader(state.clone()), state.gate.spawner()).delay(d));
    super::commercial::with_loaders(req, state)
}

/// `Contract.bill(month, day)`: null when the caller may not see it.
pub async fn bill_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: Month,
    day: Option<u32>,
) -> async_graphql::Result<Option<Bill>> {
    RequestState::of(ctx).require_auth()?;
    let b = ctx
        .data_unchecked::<DataLoader<BillLoader>>()
        .load_one((contract_id.to_string(), month.0, day))
        .await
        .map_err(gql)?;
    b.map(Bill::try_from).transpose()
}

/// `Contract.bills(first, after)`: newest month first, 24 months back at most.
pub async fn bills_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<BillConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = super::common::load_page::<ListBills>(ctx, contract_id, page).await?;
    BillConnection::try_from_page(page, Bill::try_from)
}

/// `Tenant.usage(month)`: null when the caller may not see it.
pub async fn usage_of(
    ctx: &Context<'_>,
    tenant_id: &str,
    month: Month,
) -> async_graphql::Result<Option<TenantUsage>> {
    RequestState::of(ctx).require_auth()?;
    let u = ctx
        .data_unchecked::<DataLoader<UsageLoader>>()
        .load_one((tenant_id.to_string(), month.0))
        .await
        .map_err(gql)?;
    u.map(TenantUsage::try_from).transpose()
}

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The price list in force in a month.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity")]
    async fn menus(
        &self,
        ctx: &Context<'_>,
        filter: Option<MenuFilter>,
        first: Option<u32>,
        after: Option<String>,
    ) -> async_graphql::Result<MenuConnection> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let f = filter.unwrap_or_default();
        let page = s
            .call(&ListMenus {
                filter: proto::MenuFilter {
                    code: f.code,
                    category: f.category,
                    currency: f.currency.map(Into::into),
                    month: f
                        .month
                        .map(ecl_kernel::Month::try_from)
                        .transpose()
                        .map_err(gql)?,
                },
                page: PageArgs::forward(first, after),
            })
            .await?;
        MenuConnection::try_from_page(page, Menu::try_from)
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Creates or replaces a menu's prices from `effectiveFrom` on (operators).
    async fn upsert_menu(
        &self,
        ctx: &Context<'_>,
        input: MenuInput,
    ) -> async_graphql::Result<Menu> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let menu = MenuSpec {
            code: input.code,
            service: input.service,
            category: input.category,
            subcategory: input.subcategory,
            name: input.name,
            region: input.region,
            unit: input.unit.into(),
            pattern: input.pattern.into(),
            rule: input.rule.into(),
            rule_amount: input.rule_amount.map(Into::into),
            rule_plan: input.rule_plan,
            currency: input.currency.into(),
            resellable: input.resellable,
            resellable_condition: input.resellable_condition,
            sla_eligible: input.sla_eligible,
            effective_from: ecl_kernel::Month::try_from(input.effective_from).map_err(gql)?,
            plans: input.plans.into_iter().map(Into::into).collect(),
        };
        Menu::try_from(s.call(&UpsertMenu { menu }).await?)
    }

    /// Records a batch of usage events (operators and resource controllers); one result per
    /// event, in order. Rejected events store nothing.
    async fn record_usage(
        &self,
        ctx: &Context<'_>,
        events: Vec<UsageEventInput>,
    ) -> async_graphql::Result<Vec<UsageResult>> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let events = events
            .into_iter()
            .map(|e| UsageEvent {
                id: e.id.0,
                tenant_id: e.tenant_id.0,
                resource_id: e.resource_id.0,
                menu_code: e.menu_code,
                kind: e.kind.into(),
                at: e.at.into(),
                plan: e.plan,
                status: e.status,
                quantity: e.quantity.map(Into::into),
                resource_name: e.resource_name,
            })
            .collect();
        let results = s.call(&RecordUsage { events }).await?;
        results
            .into_iter()
            .map(|r: mproto::UsageResult| {
                Ok(UsageResult {
                    id: r.id.into(),
                    outcome: r.outcome.into(),
                    code: r.code.map(Into::into),
                    message: r.message,
                })
            })
            .collect()
    }

    /// Fixes every bill of a past month (operators). Idempotent.
    async fn close_month(
        &self,
        ctx: &Context<'_>,
        month: Month,
    ) -> async_graphql::Result<CloseMonthResult> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let r = s.call(&CloseMonth { month: month.0 }).await?;
        Ok(CloseMonthResult {
            month: r.month.into(),
            bills: r.bills,
            already_closed: r.already_closed,
            closed_at: r.closed_at.into(),
        })
    }
}

// ---- CSV export route ---------------------------------------------------------------------------

#[derive(serde::Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    /// `end-user`: the child's end-user bill (with provenance columns); default `wholesale`.
    price: Option<String>,
}

fn export_error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({"error": {"code": e.code.as_str(), "message": e.message}});
    (status, axum::Json(body)).into_response()
}

/// `GET /exports/bills/{contractId}/{YYYY-MM}.csv?format=summary|detail|legacy`, authenticated
/// like GraphQL. Errors are JSON `{"error": {"code", "message"}}` with the code's HTTP status.
pub async fn export(
    auth: &crate::auth::Auth,
    bus: &Bus,
    timeout: Duration,
    headers: &HeaderMap,
    Path((contract_id, file)): Path<(String, String)>,
    Query(q): Query<ExportQuery>,
) -> Response {
    // The same credentials as GraphQL: a bearer token or an API key (with its rate limit).
    let principal = match auth.resolve(headers).await {
        Ok(ecl_kernel::Principal::Anonymous) => return export_error(AppError::unauthenticated()),
        Ok(p) => p,
        Err(e) => return export_error(e),
    };
    let Some(month) = file.strip_suffix(".csv") else {
        return export_error(AppError::invalid("month", "the file is named YYYY-MM.csv"));
    };
    let format = match q.format.as_deref().unwrap_or("summary") {
        "summary" => ExportFormat::Summary,
        "detail" => ExportFormat::Detail,
        "legacy" => ExportFormat::Legacy,
        other => {
            return export_error(AppError::invalid(
                "format",
                format!("format {other:?} is not summary, detail or legacy"),
            ));
        }
    };
    let call = CallCtx::new(principal, timeout);
    let file = match q.price.as_deref().unwrap_or("wholesale") {
        "wholesale" => {
            let req = ExportBill {
                contract_id,
                month: month.to_string(),
                format,
            };
            bus.call(&call, &req).await
        }
        "end-user" => {
            let req = ecl_proto::commercial::ExportEndUserBill {
                contract_id,
                month: month.to_string(),
                format,
            };
            bus.call(&call, &req).await
        }
        other => {
            return export_error(AppError::invalid(
                "price",
                format!("price {other:?} is not wholesale or end-user"),
            ));
        }
    };
    match file {
        Ok(f) => (
            [
                (header::CONTENT_TYPE, f.content_type),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", f.filename),
                ),
            ],
            f.body,
        )
            .into_response(),
        Err(e) => export_error(e),
    }
}
