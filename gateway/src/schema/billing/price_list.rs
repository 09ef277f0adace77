//! The price list (SPEC §6, seed 003): menus, their plans and charge patterns, as in force in a
//! month; `menus` lists them, `upsertMenu` sets a menu's prices from a month on (operators).

use crate::errors::gql;
use crate::schema::{
    common::RequestState,
    scalars::{DateTime, Decimal, Month},
};
use async_graphql::{Context, Enum, ID, InputObject, SimpleObject};
use ecl_proto::{
    PageArgs,
    billing::{self as proto, ListMenus, MenuSpec, MenuView, PlanSpec, UpsertMenu},
};

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

/// `menus(filter, first, after, last, before)`.
pub(super) async fn menus(
    ctx: &Context<'_>,
    f: MenuFilter,
    page: PageArgs,
) -> async_graphql::Result<MenuConnection> {
    let s = RequestState::of(ctx);
    s.require_auth()?;
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
            page,
        })
        .await?;
    MenuConnection::try_from_page(page, Menu::try_from)
}

/// `upsertMenu(input)`.
pub(super) async fn upsert_menu(
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
