//! Benchmarks that print figures (`ecl bench …`). Tests never time; these do.
//!
//! `ecl bench <which>`: [`Which`] lists the benchmarks and [`run`] dispatches to them; each has a
//! file of its own:
//!
//! | file | what it measures |
//! | --- | --- |
//! | `bench/harness.rs` | (shared) an embedded platform's settings, percentiles, peak RSS, a process's `/proc` figures, readiness |
//! | `bench/bus.rs`, `bench/bus/floor.rs` | `bus`: request/reply over the in-process and AMQP buses, against a bare lapin loop |
//! | `bench/idle.rs` | `idle`: the memory of idle service processes |
//! | `bench/sign_in.rs` | `sign-in`: argon2id sign-ins against the ceiling, and ordinary queries during a storm |
//! | `bench/ingest.rs`, `bench/ingest/` | `ingest`: usage ingestion, the month close, rating CPU, read cost against history |
//! | `bench_walk.rs`, `bench_walk/` | `walk`: the partner walk query against the floor (and a peer) |
//! | `bench_notify.rs` | `notify`: a maintenance notice on every tenant of a large partner |
//! | `bench_sla.rs` | `sla`: availability and credits of a large partner over a busy month |
//! | `bench_topology.rs`, `bench_peer.rs` | (shared) the distributed topology; the PostGraphile peer |

mod bus;
mod harness;
mod idle;
mod ingest;
mod sign_in;

pub use bus::{Echo, Figures};
pub use harness::print_rss;
pub(crate) use harness::{embedded_settings, percentile, proc_status_kb, ready};

use bus::bus;
use clap::Subcommand;
use idle::idle;
use ingest::ingest_bench;
use sign_in::sign_in;

#[derive(Subcommand, Clone)]
pub enum Which {
    /// Request/reply latency and throughput: in-process bus, AMQP bus, and a bare lapin loop.
    Bus {
        #[arg(
            long,
            env = "ECL_AMQP_URL",
            default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
        )]
        amqp_url: String,
        /// Sequential round-trips for the latency figures.
        #[arg(long, default_value_t = 3000)]
        sequential: usize,
        /// Seconds of the concurrent run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Requests in flight during the concurrent run.
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
    },
    /// Sign-in throughput with argon2id (OWASP parameters) against cores ÷ hash time, and the p99
    /// of ordinary queries before and during a sign-in storm. Embedded platform, over HTTP.
    SignIn {
        /// Seconds of each measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Concurrent sign-in clients in the storm.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// Memory of idle service processes: starts one `ecl serve --target X` per target with this
    /// process's environment (set ECL_DATABASE_URL, ECL_AMQP_URL, ECL_REDIS_URL for the distributed
    /// topology), waits until each is ready and idle, and prints its RSS.
    Idle {
        #[arg(
            long,
            default_value = "identity,contract,tenant,metering,billing,notification,sla,gateway",
            value_delimiter = ','
        )]
        targets: Vec<String>,
        /// Seconds to let the processes settle before reading their memory.
        #[arg(long, default_value_t = 3)]
        settle: u64,
    },
    /// The partner walk query (1,000 children × 3 tenants × 4 users) at 1 and 32 clients:
    /// embedded, distributed and the in-memory floor (see `bench/src/bench_walk.rs`).
    Walk(crate::bench_walk::WalkArgs),
    /// A MAINTENANCE notice on every tenant of a partner with 1,000 children × 3 tenants × 4
    /// users: recipients resolved (time, bus requests), mails/s to a local SMTP sink, peak RSS
    /// (see `bench/src/bench_notify.rs`).
    Notify(crate::bench_notify::NotifyArgs),
    /// Availability and credits of a partner with 1,000 children × 3 tenants over a month with
    /// 10,000 incidents: time, bus requests, peak RSS (see `bench/src/bench_sla.rs`).
    Sla(crate::bench_sla::SlaArgs),
    /// Usage ingestion (events/s, embedded and, with --distributed, over RabbitMQ + PostgreSQL),
    /// the month close of what was ingested, rating CPU against bare rust_decimal, peak RSS.
    Ingest {
        /// Events to ingest (10 per resource).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 100_000)]
        resources: usize,
        #[arg(long, default_value_t = 100)]
        tenants: usize,
        /// The tenants belong to this many children of one partner, whose price rules (20 %
        /// markup on everything, a fixed price for one plan of one child) price each child's
        /// end-user bill at the close; 0: one direct contract holds them all.
        #[arg(long, default_value_t = 10)]
        children: usize,
        /// Months of usage before the month a bill is read for, in the "read cost independent of
        /// history" figure (0: skip it).
        #[arg(long, default_value_t = 24)]
        history: u32,
        /// Events per published message.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Messages published concurrently.
        #[arg(long, default_value_t = 16)]
        in_flight: usize,
        /// Also run distributed: separate processes over PostgreSQL (this base URL, a fresh
        /// database per run), RabbitMQ and Redis.
        #[arg(long)]
        distributed: bool,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
        pg_url: String,
        #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
        amqp_url: String,
        #[arg(long, default_value = "redis://127.0.0.1:6379/0")]
        redis_url: String,
    },
}

pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Bus {
            amqp_url,
            sequential,
            seconds,
            in_flight,
        } => bus(&amqp_url, sequential, seconds, in_flight).await,
        Which::Idle { targets, settle } => idle(&targets, settle).await,
        Which::SignIn { seconds, clients } => sign_in(seconds, clients).await,
        Which::Walk(args) => crate::bench_walk::run(args).await,
        Which::Notify(args) => crate::bench_notify::run(args).await,
        Which::Sla(args) => crate::bench_sla::run(args).await,
        Which::Ingest {
            events,
            resources,
            tenants,
            children,
            history,
            batch,
            in_flight,
            distributed,
            pg_url,
            amqp_url,
            redis_url,
        } => {
            let d = distributed.then_some((pg_url, amqp_url, redis_url));
            let shape = ingest::Shape {
                tenants,
                children,
                history,
            };
            ingest_bench(events, resources, shape, batch, in_flight, d).await
        }
    }
}
