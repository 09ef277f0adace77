//! The contracts the usage belongs to (SPEC §2, §3, §6: a partner is billed for its children, whose
//! end-user bills its price rules price): a direct contract, or a partner and its children, with
//! tenants known to metering; and the partner's price rules, effective in the benchmarked month.

use super::sys;
use chrono::{Duration as CDuration, Utc};
use ecl_billing::rating::Month;
use ecl_bus::Bus;
use ecl_kernel::ManualClock;
use ecl_proto::{
    commercial::{PriceRuleInput, PriceRuleKind, PriceRuleScope, SetPriceRule},
    contract::{ContractKind, CreateContract, Customer, OwnerInput},
    metering::{RecordUsage, UsageEvent, UsageKind, UsageOutcome},
    tenant::CreateTenant,
};
use std::time::{Duration, Instant};

/// The contract tree the usage belongs to.
pub struct Shape {
    pub tenants: usize,
    /// 0: one direct contract; otherwise a partner's children.
    pub children: usize,
    pub history: u32,
}

/// The tree: the contract ids (the partner first, then its children; or the direct
/// contract) and the tenants, each known to metering.
pub struct Tree {
    pub contracts: Vec<String>,
    pub tenants: Vec<String>,
}

pub(super) async fn contract(
    bus: &Bus,
    kind: ContractKind,
    parent_id: Option<String>,
    name: &str,
) -> anyhow::Result<String> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let c = bus
        .call(
            &sys(),
            &CreateContract {
                kind,
                parent_id,
                name: name.into(),
                external_id: None,
                customer: Customer {
                    company: name.into(),
                    address: String::new(),
                    contact_name: String::new(),
                    contact_email: "bench@example.com".into(),
                },
                owner: OwnerInput {
                    login_id: format!("bench-{}", &suffix[..12]),
                    email: "bench@example.com".into(),
                    password: "Bench-pass-123".into(),
                },
            },
        )
        .await?;
    Ok(c.id)
}

/// A direct contract with `n` tenants, or a partner whose `children` children hold them
/// (tenant i under child i mod children); each tenant known to metering (a probe event
/// accepted).
pub async fn tree(bus: &Bus, n: usize, children: usize, month: Month) -> anyhow::Result<Tree> {
    let mut contracts = Vec::new();
    if children == 0 {
        contracts.push(contract(bus, ContractKind::Direct, None, "Bench Co").await?);
    } else {
        let partner = contract(bus, ContractKind::Partner, None, "Bench Partner").await?;
        contracts.push(partner.clone());
        for i in 0..children {
            let child = format!("Bench Child {i}");
            contracts
                .push(contract(bus, ContractKind::Child, Some(partner.clone()), &child).await?);
        }
    }
    let owners = if children == 0 {
        &contracts[..]
    } else {
        &contracts[1..]
    };
    let mut out = Vec::new();
    for i in 0..n {
        let t = bus
            .call(
                &sys(),
                &CreateTenant {
                    contract_id: owners[i % owners.len()].clone(),
                    name: format!("bench-{i}"),
                    region: "jp1".into(),
                    workspace_id: None,
                },
            )
            .await?;
        out.push(t.id);
    }
    known_to_metering(bus, &out, month).await?;
    Ok(Tree {
        contracts,
        tenants: out,
    })
}

/// Metering learns tenants from the tenant service's events: waits until it knows them all.
pub(super) async fn known_to_metering(
    bus: &Bus,
    tenants: &[String],
    month: Month,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let probe: Vec<UsageEvent> = tenants
            .iter()
            .map(|t| UsageEvent {
                id: format!("probe-{t}-{month}"),
                tenant_id: t.clone(),
                resource_id: "probe".into(),
                menu_code: "volume".into(),
                kind: UsageKind::Start,
                at: month.start(),
                plan: Some("15GB".into()),
                status: None,
                quantity: None,
                resource_name: None,
            })
            .collect();
        let r = bus.call(&sys(), &RecordUsage { events: probe }).await?;
        if r.iter().all(|r| r.outcome != UsageOutcome::Rejected) {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "tenants unknown to metering"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The partner's price rules, effective in `month` (set while the clock is in it: a rule
/// starts in the current month or later): 20 % markup on everything for every child, and
/// for the first child a fixed unit price of the compute plan the benchmark uses.
pub async fn price_rules(
    bus: &Bus,
    clock: &ManualClock,
    tree: &Tree,
    month: Month,
) -> anyhow::Result<()> {
    let rule = |child_id: Option<String>, fixed: bool| SetPriceRule {
        partner_id: tree.contracts[0].clone(),
        input: PriceRuleInput {
            child_id,
            scope: if fixed {
                PriceRuleScope::Menu
            } else {
                PriceRuleScope::All
            },
            scope_value: fixed.then(|| "compute".into()),
            kind: if fixed {
                PriceRuleKind::Fixed
            } else {
                PriceRuleKind::Markup
            },
            percent: (!fixed).then(|| "20".into()),
            plan: fixed.then(|| "1CPU-4GB".into()),
            unit_price: fixed.then(|| "0.2".into()),
            cap: None,
            effective_from: month,
        },
    };
    clock.set(month.start() + CDuration::days(1));
    let set = async {
        bus.call(&sys(), &rule(None, false)).await?;
        bus.call(&sys(), &rule(Some(tree.contracts[1].clone()), true))
            .await?;
        anyhow::Ok(())
    }
    .await;
    clock.set(Utc::now());
    set
}
