//! What a service needs to run, whatever process it lands in: its [`Module`] descriptor (name,
//! needs, init), the [`Ctx`] the composition root hands it, and the [`ServiceActor`] that owns its
//! state while the bus consumer — in process or from AMQP alike — runs its handlers.

mod actor;

pub use actor::{ServiceActor, serve};

use ecl_bus::Bus;
use ecl_cache::Cache;
use ecl_kernel::{Settings, SharedClock};
use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;
use std::{fmt, sync::Arc};

/// A shared resource a module needs from the composition root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Its own database (schema / file).
    Store,
    /// The message bus.
    Bus,
    /// The cache (Redis when distributed).
    Cache,
    /// The public HTTP listener (GraphQL); every process has health and metrics regardless.
    Http,
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Need::Store => "store",
            Need::Bus => "bus",
            Need::Cache => "cache",
            Need::Http => "http",
        })
    }
}

/// Readiness probe of one started module.
pub type ReadyCheck = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// What a module hands back once started.
#[derive(Default)]
pub struct Started {
    /// Routes to merge into this process's HTTP server (the gateway's GraphQL, exports…).
    pub http: Option<axum::Router>,
    pub ready: Vec<ReadyCheck>,
}

pub type InitFn = fn(Ctx) -> BoxFuture<'static, anyhow::Result<Started>>;

/// A service's descriptor: one per crate (`ecl_contract::module()`), wired by the launcher's table.
#[derive(Clone, Copy)]
pub struct Module {
    pub name: &'static str,
    pub about: &'static str,
    pub needs: &'static [Need],
    pub init: InitFn,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name)
            .field("needs", &self.needs)
            .finish()
    }
}

/// What the composition root gives every module.
#[derive(Clone)]
pub struct Ctx {
    pub settings: Arc<Settings>,
    pub bus: Bus,
    pub cache: Arc<dyn Cache>,
    pub clock: SharedClock,
}

impl Ctx {
    /// Opens this service's own database; the service then runs its migrations.
    pub async fn store(&self, service: &str) -> anyhow::Result<DatabaseConnection> {
        ecl_store::connect(&self.settings, service).await
    }
}

/// A readiness check for a database.
pub fn db_ready(db: DatabaseConnection) -> ReadyCheck {
    Arc::new(move || {
        let db = db.clone();
        Box::pin(async move { ecl_store::ping(&db).await })
    })
}
