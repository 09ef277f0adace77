//! The walk's printed figures (SPEC §9: one query walks a partner's tree with a bounded number of
//! service round-trips however wide the tree): a table per topology, CPU per query, and each aim
//! — bus requests independent of the page size, throughput against the floor, latency per level,
//! and the peer — then peak RSS per process.

use super::{NARROW, PAGE, Row, WalkArgs};
use crate::bench::print_rss;

pub(super) fn report(args: &WalkArgs, rows: &[Row], rss: &[(String, Option<u64>)]) {
    println!(
        "\nwalk query: contract → children(first: {PAGE}) → tenants, users; partner with {} children × 3 tenants × 4 users; {}s per phase",
        args.children, args.seconds
    );
    println!(
        "{:<42} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "",
        "1: p50 ms",
        "p99 ms",
        "q/s",
        format!("{}: p50", args.clients),
        "p99 ms",
        "q/s",
        "bus req/query"
    );
    for r in rows {
        println!(
            "{:<42} {:>9.2} {:>9.2} {:>9.1} {:>9.2} {:>9.2} {:>9.1} {:>12}",
            r.name,
            r.one.p50_ms,
            r.one.p99_ms,
            r.one.qps,
            r.many.p50_ms,
            r.many.p99_ms,
            r.many.qps,
            r.bus_requests
                .map(|n| n.to_string())
                .unwrap_or_else(|| "—".into()),
        );
    }
    println!(
        "CPU per query, ms: this process (the client, and the server where it runs in process) + the server's processes (PostgreSQL backends included)"
    );
    for r in rows {
        println!(
            "  {:<40} 1 client: {:>6.2} + {:>6.2}   {} clients: {:>6.2} + {:>6.2}",
            r.name,
            r.one.cpu_self_ms,
            r.one.cpu_server_ms.max(0.0).abs(),
            args.clients,
            r.many.cpu_self_ms,
            r.many.cpu_server_ms.max(0.0).abs(),
        );
    }
    println!(
        "(queries measured: {})",
        rows.iter()
            .map(|r| format!(
                "{} {}+{}",
                r.name.split(' ').next().unwrap_or(""),
                r.one.n,
                r.many.n
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let floor = &rows[0];
    let row = |prefix: &str| rows.iter().find(|r| r.name.starts_with(prefix));
    // Levels resolved through the bus: contract, children, and tenants + users (siblings).
    let levels = 3.0;
    if let Some(e) = row("embedded") {
        for r in rows.iter().filter(|r| r.bus_requests.is_some()) {
            println!(
                "aim: bus requests per walk (all services counted) independent of the children: {} {} with {PAGE} children, {} with {NARROW}",
                r.name.split(' ').next().unwrap_or(""),
                r.bus_requests.map(|n| n.to_string()).unwrap_or_default(),
                r.narrow.map(|n| n.to_string()).unwrap_or_default()
            );
        }
        println!(
            "aim: embedded throughput at {} clients ≥ 50 % of the floor's: {:.0} %",
            args.clients,
            e.many.qps / floor.many.qps * 100.0
        );
    }
    if let Some(d) = row("distributed") {
        println!(
            "aim: distributed p50 at 1 client ≤ floor p50 + 1 ms per level ({levels} levels: ≤ {:.2} ms): {:.2} ms (bus requests {})",
            floor.one.p50_ms + levels,
            d.one.p50_ms,
            d.bus_requests.map(|n| n.to_string()).unwrap_or_default()
        );
    }
    if let Some(p) = row("peer") {
        for r in rows.iter().filter(|r| r.bus_requests.is_some()) {
            println!(
                "aim: {} ≥ 1.5× the peer's q/s: {:.2}× at 1 client, {:.2}× at {}",
                r.name.split(' ').next().unwrap_or(""),
                r.one.qps / p.one.qps,
                r.many.qps / p.many.qps,
                args.clients
            );
        }
    }
    println!("peak RSS per process:");
    for (what, kb) in rss {
        println!(
            "  {what:<48} {}",
            kb.map(|k| format!("{:.1} MB", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    print_rss("bench process at the end");
}
