//! Ingestion (SPEC §5: usage arrives as events; the same event twice counts once): the events
//! published in batches, `in_flight` at a time, until metering has stored every one of them.

use super::{PER_RESOURCE, sys, usage_events::events};
use ecl_billing::rating::Month;
use ecl_bus::Bus;
use ecl_proto::metering::{CountEvents, UsageReported};
use futures::{StreamExt, stream};
use std::time::{Duration, Instant};

/// Publishes the events of `resources` resources in batches (`in_flight` publishes at a time,
/// each batch generated just before it is sent, so the driver holds only what is in flight)
/// and waits until metering has stored them all. Returns (events/s, seconds).
pub async fn run(
    bus: &Bus,
    tenants: &[String],
    resources: usize,
    month: Month,
    run: &str,
    batch: usize,
    in_flight: usize,
) -> anyhow::Result<(f64, f64)> {
    let before = bus.call(&sys(), &CountEvents {}).await?;
    let n = (resources * PER_RESOURCE) as u64;
    let per_batch = (batch / PER_RESOURCE).max(1);
    let started = Instant::now();
    let results: Vec<_> = stream::iter((0..resources).step_by(per_batch))
        .map(|from| {
            let events = events(
                tenants,
                (from, (from + per_batch).min(resources)),
                month,
                run,
            );
            async move { bus.publish("bench", &UsageReported { events }).await }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for r in results {
        r?;
    }
    let published = started.elapsed().as_secs_f64();
    loop {
        let count = bus.call(&sys(), &CountEvents {}).await? - before;
        if count >= n {
            anyhow::ensure!(count == n, "stored {count} events, sent {n}");
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "only {count} of {n} events stored"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("  published {n} events in {published:.2} s, all stored after {secs:.2} s");
    Ok((n as f64 / secs, secs))
}
