//! Read cost independent of history (SPEC §6: 24 months of history are kept and readable): a
//! month's usage and bill read for a contract with months of usage before it, against one with
//! none.

use super::{
    contract_tree::{contract, known_to_metering},
    sys,
    usage_events::events,
};
use ecl_billing::rating::Month;
use ecl_bus::Bus;
use ecl_proto::{
    contract::ContractKind,
    metering::{RecordUsage, UsageOutcome},
    tenant::CreateTenant,
};
use std::time::Instant;

/// Read cost independent of history: the bill of `month` of a contract whose tenant has
/// `months` months of usage before it, against a contract whose tenant has none; the same
/// usage in `month` itself (`resources` resources × 10 events). Prints the median of
/// `GetUsage` (metering's month read) and of `GetBills` (the bill, rated from it).
pub async fn history(bus: &Bus, month: Month, months: u32, resources: usize) -> anyhow::Result<()> {
    use ecl_proto::billing::GetBills;
    use ecl_proto::metering::GetUsage;
    let old = contract(bus, ContractKind::Direct, None, "History Old Co").await?;
    let new = contract(bus, ContractKind::Direct, None, "History New Co").await?;
    let mut tenants = Vec::new();
    for c in [&old, &new] {
        let t = bus
            .call(
                &sys(),
                &CreateTenant {
                    contract_id: c.clone(),
                    name: "history".into(),
                    region: "jp1".into(),
                    workspace_id: None,
                },
            )
            .await?;
        tenants.push(t.id);
    }
    known_to_metering(bus, &tenants, month).await?;
    let mut months_of_old = vec![month];
    let mut m = month;
    for _ in 0..months {
        m = m.prev();
        months_of_old.push(m);
    }
    let record = |tenant: String, m: Month| async move {
        let run = format!("hist-{tenant}-{m}");
        let mut all = events(std::slice::from_ref(&tenant), (0, resources), m, &run);
        for e in &mut all {
            e.resource_id = format!("{tenant}-{}", e.resource_id);
        }
        for batch in all.chunks(1000) {
            let r = bus
                .call(
                    &sys(),
                    &RecordUsage {
                        events: batch.to_vec(),
                    },
                )
                .await?;
            anyhow::ensure!(
                r.iter().all(|r| r.outcome != UsageOutcome::Rejected),
                "usage of {m} rejected"
            );
        }
        anyhow::Ok(())
    };
    for m in &months_of_old {
        record(tenants[0].clone(), *m).await?;
    }
    record(tenants[1].clone(), month).await?;
    const READS: usize = 20;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut usage = [Vec::new(), Vec::new()];
    let mut bills = [Vec::new(), Vec::new()];
    for _ in 0..READS {
        for (i, (c, t)) in [(&old, &tenants[0]), (&new, &tenants[1])]
            .into_iter()
            .enumerate()
        {
            let started = Instant::now();
            let u = bus
                .call(
                    &sys(),
                    &GetUsage {
                        tenant_ids: vec![t.clone()],
                        month,
                    },
                )
                .await?;
            usage[i].push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(u);
            let started = Instant::now();
            let b = bus
                .call(
                    &sys(),
                    &GetBills {
                        contract_ids: vec![c.clone()],
                        month,
                        day: None,
                    },
                )
                .await?;
            bills[i].push(started.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(b.len() == 1, "the bill of {c} is missing");
        }
    }
    let [u_old, u_new] = usage.map(median);
    let [b_old, b_new] = bills.map(median);
    println!(
        "read cost independent of history ({resources} resources in {month}; median of {READS}): \
         GetUsage {u_old:.1} ms with {months} months before vs {u_new:.1} ms with none = {:.2}×; \
         bill {b_old:.1} ms vs {b_new:.1} ms = {:.2}×",
        u_old / u_new,
        b_old / b_new
    );
    Ok(())
}
