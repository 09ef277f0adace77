//! Billing and metering: the price list, usage recording, bills (`Contract.bill`, `Contract.bills`,
//! `Tenant.usage`), month close, and the CSV export route. Bills and usage fan out through
//! DataLoaders, so a walk over many contracts or tenants costs one bus request per level.

use super::common::{PagedBatch, PagedLoader, RequestState};
use crate::errors::gql;
use async_graphql::{
    Context, Enum, InputObject, Object, SimpleObject,
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

#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "PlanInput")]
pub struct Plan {
    /// Plan key ("1CPU-4GB"), the `plan` of usage events.
    pub plan: String,
    /// Tier label in the bill; null = the key, "" = no plan tier.
    pub label: Option<String>,
    /// Decimal string.
    pub unit_price: String,
    pub cap: Option<String>,
    pub vcpus: Option<u32>,
}

impl From<Plan> for PlanSpec {
    fn from(p: Plan) -> Self {
        PlanSpec {
            plan: p.plan,
            label: p.label,
            unit_price: p.unit_price,
            cap: p.cap,
            vcpus: p.vcpus,
        }
    }
}

impl From<PlanSpec> for Plan {
    fn from(p: PlanSpec) -> Self {
        Plan {
            plan: p.plan,
            label: p.label,
            unit_price: p.unit_price,
            cap: p.cap,
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
    /// SECOND, MINUTE, HOUR, DAY, MONTH, GB, COUNT.
    pub unit: String,
    /// PAYG, CAPPED_PAYG, CAPPED_PAYG_PLAN_CHANGE, MONTHLY_FIXED, PRORATED_DAILY.
    pub pattern: String,
    /// NONE, LOGICAL_NETWORK, CIC_1G, CIC_10G, WINDOWS_GUEST_IMAGE, ORACLE,
    /// SQL_SERVER_VIRTUAL_SERVER, SQL_SERVER_DEDICATED_HYPERVISOR, MONITORING,
    /// CLOUD_FOUNDRY_SHARED, VIRTUAL_PRIVATE_CF.
    #[graphql(default_with = "\"NONE\".to_string()")]
    pub rule: String,
    pub rule_amount: Option<String>,
    pub rule_plan: Option<String>,
    /// JPY or USD.
    pub currency: String,
    pub resellable: bool,
    pub resellable_condition: Option<String>,
    #[graphql(default = true)]
    pub sla_eligible: bool,
    pub effective_from: String,
    pub plans: Vec<Plan>,
}

#[derive(SimpleObject)]
pub struct Menu {
    pub code: String,
    pub service: String,
    pub category: String,
    pub subcategory: String,
    pub name: String,
    pub region: String,
    pub unit: String,
    pub pattern: String,
    pub rule: String,
    pub rule_amount: Option<String>,
    pub rule_plan: Option<String>,
    pub currency: String,
    pub resellable: bool,
    pub resellable_condition: Option<String>,
    pub sla_eligible: bool,
    pub effective_from: String,
    pub plans: Vec<Plan>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<MenuView> for Menu {
    fn from(v: MenuView) -> Self {
        let s = v.spec;
        Menu {
            code: s.code,
            service: s.service,
            category: s.category,
            subcategory: s.subcategory,
            name: s.name,
            region: s.region,
            unit: s.unit,
            pattern: s.pattern,
            rule: s.rule,
            rule_amount: s.rule_amount,
            rule_plan: s.rule_plan,
            currency: s.currency,
            resellable: s.resellable,
            resellable_condition: s.resellable_condition,
            sla_eligible: s.sla_eligible,
            effective_from: s.effective_from,
            plans: s.plans.into_iter().map(Into::into).collect(),
            updated_at: v.updated_at,
        }
    }
}

crate::connection!(MenuConnection, MenuEdge, Menu);

#[derive(InputObject, Default)]
pub struct MenuFilter {
    pub code: Option<String>,
    pub category: Option<String>,
    pub currency: Option<String>,
    /// Prices in force in this month (`YYYY-MM`); default the current month.
    pub month: Option<String>,
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

#[derive(InputObject)]
pub struct UsageEventInput {
    /// The producer's id: the same id twice counts once.
    pub id: String,
    pub tenant_id: String,
    pub resource_id: String,
    pub menu_code: String,
    pub kind: UsageKind,
    pub at: chrono::DateTime<chrono::Utc>,
    pub plan: Option<String>,
    pub status: Option<String>,
    /// Decimal string (VMs, vCPUs, instances…); 1 when absent.
    pub quantity: Option<String>,
    pub resource_name: Option<String>,
}

/// What became of one event: accepted, duplicate (counted once), or rejected with a stable
/// `code` (`UNKNOWN_TENANT`, `UNKNOWN_MENU`, `UNKNOWN_PLAN`, `NOT_RESELLABLE`, `INVALID_EVENT`).
#[derive(SimpleObject)]
pub struct UsageResult {
    pub id: String,
    pub outcome: UsageOutcome,
    pub code: Option<String>,
    pub message: Option<String>,
}

// ---- bills --------------------------------------------------------------------------------------

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::billing::BillStatus")]
pub enum BillStatus {
    Estimated,
    Fixed,
}

/// A node of the bill tree, in pre-order. Tier 1 contract total, 2 tenant (or tax), 3 service,
/// 4 category, 5 resource, 6 plan, 7 usage line — seed 002's tiers.
#[derive(SimpleObject, Clone)]
pub struct BillLine {
    pub tier: u32,
    /// CONTRACT, TENANT, SERVICE, CATEGORY, RESOURCE, PLAN, USAGE, CAP, FREE, TAX.
    pub kind: String,
    pub label: String,
    pub detail: String,
    /// Displayed usage ("3739 Min").
    pub usage: String,
    /// Decimal string: 6 places below the service tier, the currency's unit above.
    pub amount: String,
    pub tenant_id: Option<String>,
    pub resource_id: Option<String>,
}

fn line(l: proto::BillLine) -> BillLine {
    BillLine {
        tier: l.tier,
        kind: l.kind,
        label: l.label,
        detail: l.detail,
        usage: l.usage,
        amount: l.amount,
        tenant_id: l.tenant_id,
        resource_id: l.resource_id,
    }
}

/// A contract's bill of a month (a partner's includes its children's tenants).
#[derive(SimpleObject)]
pub struct Bill {
    pub contract_id: String,
    pub month: String,
    pub status: BillStatus,
    pub currency: String,
    /// Σ tenant totals, each rounded down to the currency's unit.
    pub subtotal: String,
    pub tax_percent: String,
    pub tax: String,
    pub total: String,
    pub lines: Vec<BillLine>,
}

impl From<BillView> for Bill {
    fn from(b: BillView) -> Self {
        Bill {
            contract_id: b.contract_id,
            month: b.month,
            status: b.status.into(),
            currency: b.currency,
            subtotal: b.subtotal,
            tax_percent: b.tax_percent,
            tax: b.tax,
            total: b.total,
            lines: b.lines.into_iter().map(line).collect(),
        }
    }
}

crate::connection!(BillConnection, BillEdge, Bill);

/// A tenant's charges of a month.
#[derive(SimpleObject)]
pub struct TenantUsage {
    pub tenant_id: String,
    pub month: String,
    pub status: BillStatus,
    pub currency: String,
    /// Sum of its lines, 6 decimal places.
    pub exact_amount: String,
    /// Rounded down to the currency's unit.
    pub total: String,
    pub lines: Vec<BillLine>,
}

impl From<TenantUsageView> for TenantUsage {
    fn from(u: TenantUsageView) -> Self {
        TenantUsage {
            tenant_id: u.tenant_id,
            month: u.month,
            status: u.status.into(),
            currency: u.currency,
            exact_amount: u.exact_amount,
            total: u.total,
            lines: u.lines.into_iter().map(line).collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct CloseMonthResult {
    pub month: String,
    pub bills: u64,
    pub already_closed: bool,
    pub closed_at: chrono::DateTime<chrono::Utc>,
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
    let d = Duration::from_millis(1);
    req.data(
        DataLoader::new(
            PagedLoader::<ListBills>::new(state.clone()),
            state.gate.spawner(),
        )
        .delay(d),
    )
    .data(DataLoader::new(BillLoader(state.clone()), state.gate.spawner()).delay(d))
    .data(DataLoader::new(UsageLoader(state.clone()), state.gate.spawner()).delay(d))
}

/// `Contract.bill(month, day)`: null when the caller may not see it.
pub async fn bill_of(
    ctx: &Context<'_>,
    contract_id: &str,
    month: String,
    day: Option<u32>,
) -> async_graphql::Result<Option<Bill>> {
    RequestState::of(ctx).require_auth()?;
    let b = ctx
        .data_unchecked::<DataLoader<BillLoader>>()
        .load_one((contract_id.to_string(), month, day))
        .await
        .map_err(gql)?;
    Ok(b.map(Into::into))
}

/// `Contract.bills(first, after)`: newest month first, 24 months back at most.
pub async fn bills_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<BillConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = super::common::load_page::<ListBills>(ctx, contract_id, page).await?;
    Ok(BillConnection::from_page(page, Bill::from))
}

/// `Tenant.usage(month)`: null when the caller may not see it.
pub async fn usage_of(
    ctx: &Context<'_>,
    tenant_id: &str,
    month: String,
) -> async_graphql::Result<Option<TenantUsage>> {
    RequestState::of(ctx).require_auth()?;
    let u = ctx
        .data_unchecked::<DataLoader<UsageLoader>>()
        .load_one((tenant_id.to_string(), month))
        .await
        .map_err(gql)?;
    Ok(u.map(Into::into))
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
                    currency: f.currency,
                    month: f.month,
                },
                page: PageArgs { first, after },
            })
            .await?;
        Ok(MenuConnection::from_page(page, Menu::from))
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
            unit: input.unit,
            pattern: input.pattern,
            rule: input.rule,
            rule_amount: input.rule_amount,
            rule_plan: input.rule_plan,
            currency: input.currency,
            resellable: input.resellable,
            resellable_condition: input.resellable_condition,
            sla_eligible: input.sla_eligible,
            effective_from: input.effective_from,
            plans: input.plans.into_iter().map(Into::into).collect(),
        };
        Ok(s.call(&UpsertMenu { menu }).await?.into())
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
                id: e.id,
                tenant_id: e.tenant_id,
                resource_id: e.resource_id,
                menu_code: e.menu_code,
                kind: e.kind.into(),
                at: e.at,
                plan: e.plan,
                status: e.status,
                quantity: e.quantity,
                resource_name: e.resource_name,
            })
            .collect();
        let results = s.call(&RecordUsage { events }).await?;
        Ok(results
            .into_iter()
            .map(|r: mproto::UsageResult| UsageResult {
                id: r.id,
                outcome: r.outcome.into(),
                code: r.code,
                message: r.message,
            })
            .collect())
    }

    /// Fixes every bill of a past month (operators). Idempotent.
    async fn close_month(
        &self,
        ctx: &Context<'_>,
        month: String,
    ) -> async_graphql::Result<CloseMonthResult> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let r = s.call(&CloseMonth { month }).await?;
        Ok(CloseMonthResult {
            month: r.month,
            bills: r.bills,
            already_closed: r.already_closed,
            closed_at: r.closed_at,
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
