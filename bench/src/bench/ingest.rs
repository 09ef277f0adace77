//! `ecl bench ingest`: usage ingestion and month close (issue 5; SPEC §5, metering: usage arrives as
//! events about resources, the same event twice counts once; SPEC §6: past months are fixed when
//! the operator closes the month). Usage travels as `metering.usage_reported` events of `batch`
//! events each, the way internal producers publish it; "ingested" means stored by metering
//! (counted with `CountEvents`: events sent = events counted).
//!
//! | file | what it holds |
//! | --- | --- |
//! | `ingest/usage_events.rs` | the events each resource reports over the month |
//! | `ingest/contract_tree.rs` | the contracts and tenants the usage belongs to, and the partner's price rules |
//! | `ingest/ingestion.rs` | publishing the events in batches and waiting until metering stored them all |
//! | `ingest/month_close.rs` | closing the month, and its phases from billing's metrics |
//! | `ingest/rating_floor.rs` | rating CPU against bare rust_decimal arithmetic |
//! | `ingest/history.rs` | a bill's read cost against months of history |
//! | `ingest/processes.rs` | the distributed run's `ecl serve` processes |

mod contract_tree;
mod history;
mod ingestion;
mod month_close;
mod processes;
mod rating_floor;
mod usage_events;

pub(super) use contract_tree::Shape;
use usage_events::PER_RESOURCE;

use super::print_rss;
use ecl_bus::CallCtx;
use ecl_kernel::Principal;
use std::{sync::Arc, time::Duration};

fn sys() -> CallCtx {
    CallCtx::new(Principal::system("bench"), Duration::from_secs(600))
}

pub fn report(what: &str, rate: f64, aim: f64) {
    println!(
        "{what}: {rate:.0} events/s (aim ≥ {aim:.0}/s: {})",
        if rate >= aim { "met" } else { "not met" }
    );
}

/// Starts a new peak-RSS measurement of this process (Linux: `VmHWM` back to the current
/// RSS), so a phase's peak is its own.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn print_rss_here() {
    print_rss("bench driver (embedded: the whole platform)");
}

pub(super) async fn ingest_bench(
    events_n: usize,
    resources: usize,
    shape: Shape,
    batch: usize,
    in_flight: usize,
    distributed: Option<(String, String, String)>,
) -> anyhow::Result<()> {
    use ecl_billing::rating::Month;
    let month = Month::containing(chrono::Utc::now()).prev();
    let resources = resources.min(events_n / PER_RESOURCE).max(1);
    let n = resources * PER_RESOURCE;
    let tenants_n = shape.tenants;
    let tree_of = if shape.children == 0 {
        "one direct contract".to_string()
    } else {
        format!(
            "{} children of one partner with price rules (end-user bills at close)",
            shape.children
        )
    };
    println!(
        "usage ingestion: {n} events ({resources} resources × {} events) in batches of {batch}, month {month}, {tenants_n} tenants of {tree_of}",
        PER_RESOURCE
    );

    // Embedded: every target in this process, SQLite file, in-process bus; a clock the
    // benchmark can put back into the month it closes, to set price rules effective then.
    let dir = std::env::temp_dir().join(format!("ecl-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let settings = crate::bench::embedded_settings(dir.clone(), "Bench-pass-123")?;
    let clock = ecl_kernel::ManualClock::default();
    clock.set(chrono::Utc::now());
    let app = crate::App::start_with_clock(settings, &["all".to_string()], Arc::new(clock.clone()))
        .await?;
    // The clock follows the real time, except while price rules are set.
    let held = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticking = {
        let (clock, held) = (clock.clone(), held.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if !held.load(std::sync::atomic::Ordering::SeqCst) {
                    clock.set(chrono::Utc::now());
                }
            }
        })
    };
    let outcome = async {
        let tree = contract_tree::tree(&app.bus, tenants_n, shape.children, month).await?;
        if shape.children > 0 {
            held.store(true, std::sync::atomic::Ordering::SeqCst);
            let set = contract_tree::price_rules(&app.bus, &clock, &tree, month).await;
            held.store(false, std::sync::atomic::Ordering::SeqCst);
            set?;
        }
        let (rate, _) = ingestion::run(
            &app.bus,
            &tree.tenants,
            resources,
            month,
            "emb",
            batch,
            in_flight,
        )
        .await?;
        report("embedded (SQLite file, in-process bus)", rate, 100_000.0);
        print_rss("bench driver after ingestion (embedded: the whole platform)");
        let reset = reset_peak_rss();
        let (secs, bills) = month_close::close(&app.bus, month).await?;
        println!(
            "embedded month close: {secs:.2} s for {resources} resources, {n} events ({bills} bills; aim < 10 s)"
        );
        if reset {
            print_rss("month close alone (embedded: the whole platform; aim < 300 MB)");
        }
        month_close::print_close_phases("embedded", &ecl_kernel::telemetry::render_metrics());
        if shape.history > 0 {
            history::history(&app.bus, month.prev(), shape.history, 1000).await?;
        }
        anyhow::Ok(())
    }
    .await;
    ticking.abort();
    app.stop().await;
    print_rss_here();
    let _ = std::fs::remove_dir_all(&dir);
    outcome?;

    let (engine, end_user, floor) = rating_floor::rating_vs_floor(resources, month)?;
    println!(
        "rating CPU for {resources} resources: engine {:.3} s, bare rust_decimal floor {:.3} s = {:.1}× (aim ≤ 3×); at end-user prices {:.3} s = {:.2}× the wholesale rating",
        engine,
        floor,
        engine / floor,
        end_user,
        end_user / engine
    );

    if let Some((pg, amqp, redis)) = distributed {
        let ns = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let db = format!("ecl_{ns}");
        let admin = sea_orm::Database::connect(format!("{pg}/postgres")).await?;
        use sea_orm::ConnectionTrait;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db}"))
            .await?;
        let db_url = format!("{pg}/{db}");
        let mut procs = processes::spawn(
            &["identity,contract,tenant", "billing", "metering"],
            &db_url,
            &amqp,
            &redis,
            &ns,
        )
        .await?;
        let outcome = async {
            let bus = ecl_bus::Bus::new(ecl_bus::connect(&amqp, &ns).await?);
            let tree = contract_tree::tree(&bus, tenants_n, shape.children, month).await?;
            let (rate, _) = ingestion::run(
                &bus,
                &tree.tenants,
                resources,
                month,
                "dist",
                batch,
                in_flight,
            )
            .await?;
            report("distributed (RabbitMQ + PostgreSQL, durable)", rate, 50_000.0);
            let (secs, bills) = month_close::close(&bus, month).await?;
            println!("distributed month close: {secs:.2} s for {resources} resources, {n} events ({bills} bills; aim < 10 s)");
            // The processes keep real time, so no price rule is in force in the closed month:
            // end-user bills are re-priced at the wholesale prices.
            let billing = &procs[1].addr;
            let metrics = reqwest::get(format!("http://{billing}/metrics"))
                .await?
                .text()
                .await?;
            month_close::print_close_phases("distributed (no price rule in force)", &metrics);
            bus.transport().shutdown().await;
            anyhow::Ok(())
        }
        .await;
        processes::print_procs(&mut procs);
        processes::stop(&mut procs);
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await;
        outcome?;
    }
    Ok(())
}
