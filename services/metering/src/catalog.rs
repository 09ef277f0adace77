//! The price list's codes as metering checks events against them: fetched from billing, trusted
//! for a few seconds, dropped at once by a `MenuChanged` event.

use crate::{Metering, NAME};
use ecl_bus::CallCtx;
use ecl_kernel::{AppResult, Principal};
use ecl_proto::billing::MenuCatalog;
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

/// How long the price list's codes are trusted before asking billing again (a `MenuChanged`
/// event drops them at once).
const CATALOG_TTL: Duration = Duration::from_secs(5);

/// A price-list code as metering checks it.
pub(crate) struct CatalogMenu {
    pub(crate) plans: HashSet<String>,
    pub(crate) resellable: bool,
}

pub(crate) type Catalog = Arc<HashMap<String, CatalogMenu>>;

impl Metering {
    /// The price list's codes, from cache or from billing.
    pub(crate) async fn catalog(&self, ctx: &CallCtx) -> AppResult<Catalog> {
        if let Some((at, c)) = &*self.catalog.read()
            && at.elapsed() < CATALOG_TTL
        {
            return Ok(c.clone());
        }
        let entries = self
            .bus
            .call(&ctx.as_principal(Principal::system(NAME)), &MenuCatalog {})
            .await?;
        let map: HashMap<String, CatalogMenu> = entries
            .into_iter()
            .map(|e| {
                (
                    e.code,
                    CatalogMenu {
                        plans: e.plans.into_iter().collect(),
                        resellable: e.resellable,
                    },
                )
            })
            .collect();
        let map = Arc::new(map);
        *self.catalog.write() = Some((Instant::now(), map.clone()));
        Ok(map)
    }

    /// Forgets the codes (the price list changed).
    pub(crate) fn forget_catalog(&self) {
        *self.catalog.write() = None;
    }
}
