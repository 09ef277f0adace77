//! The benchmarks behind `ecl bench …` (they print figures; tests never time). A crate of its own,
//! so the launcher's library carries none of their code or of what only they use (the walk's floor
//! schema, the PostGraphile peer's database, the bare-lapin loop).
//!
//! The launcher calls this crate, so this crate cannot name the launcher back (a dependency
//! cycle): [`run`] takes a [`Launcher`] — how to start targets in this process, and which modules
//! exist — and the benchmarks reach it through [`App`] and [`targets`], shaped like the
//! launcher's own.

pub mod bench;
pub mod bench_notify;
pub mod bench_peer;
pub mod bench_sla;
pub mod bench_topology;
pub mod bench_walk;

use ecl_bus::Bus;
use ecl_kernel::{Settings, SharedClock, SystemClock};
use futures::future::LocalBoxFuture;
use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
};

/// What the launcher hands the benchmarks.
#[derive(Clone, Copy)]
pub struct Launcher {
    /// Starts these targets in this process with these settings and clock (the launcher's
    /// `App::start_with_clock`).
    pub start:
        fn(Settings, Vec<String>, SharedClock) -> LocalBoxFuture<'static, anyhow::Result<App>>,
    /// Every module's name, in start order (the launcher's target table).
    pub module_names: fn() -> Vec<&'static str>,
}

static LAUNCHER: OnceLock<Launcher> = OnceLock::new();

/// Runs one benchmark; `launcher` starts the platform wherever the benchmark runs it in-process.
pub async fn run(which: bench::Which, launcher: Launcher) -> anyhow::Result<()> {
    let _ = LAUNCHER.set(launcher);
    bench::run(which).await
}

fn launcher() -> &'static Launcher {
    LAUNCHER.get().expect("ecl_bench::run sets the launcher")
}

/// Targets running in this process, as the benchmarks use them.
pub struct App {
    pub addr: SocketAddr,
    pub bus: Bus,
    stop: Box<dyn FnOnce() -> LocalBoxFuture<'static, ()> + Send + Sync>,
}

impl App {
    /// What the launcher's start gives back: where it listens, its bus, and how it stops.
    pub fn new(
        addr: SocketAddr,
        bus: Bus,
        stop: impl FnOnce() -> LocalBoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> App {
        App {
            addr,
            bus,
            stop: Box::new(stop),
        }
    }

    pub async fn start(settings: Settings, targets: &[String]) -> anyhow::Result<App> {
        Self::start_with_clock(settings, targets, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(
        settings: Settings,
        targets: &[String],
        clock: SharedClock,
    ) -> anyhow::Result<App> {
        (launcher().start)(settings, targets.to_vec(), clock).await
    }

    /// Graceful stop, as the launcher's.
    pub async fn stop(self) {
        (self.stop)().await
    }
}

/// The launcher's target table, as far as the benchmarks need it (names, to clean a broker's
/// namespace).
pub mod targets {
    pub struct Module {
        pub name: &'static str,
    }

    pub fn modules() -> Vec<Module> {
        (crate::launcher().module_names)()
            .into_iter()
            .map(|name| Module { name })
            .collect()
    }
}
