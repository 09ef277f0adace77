//! ECL billing: the pure part of the billing service.
//!
//! * [`rating`] turns a month of usage of a tenant's resources into charge lines, applying the
//!   charge patterns and per-menu special rules of the billing guide (seed 003);
//! * [`bill`] assembles those lines into the bill tree (contract → tenant → service → category →
//!   resource → plan → usage line) with the rounding and tax rules of seed 002;
//! * [`csv_export`] renders a bill as the summary, detail and legacy tiered CSV files of seed 002.
//!
//! Everything here is deterministic and free of I/O so that the money rules can be pinned by unit
//! tests; the service/actor layer around it owns storage, time and messaging.

pub mod bill;
pub mod csv_export;
pub mod rating;

use ecl_runtime::{Module, Started};

pub const NAME: &str = "billing";

/// The billing target. The rating engine above is complete; the service around it (price list,
/// usage consumption, bills over the bus, exports) arrives with the metering and billing issue, so
/// for now the target registers and answers health checks only.
pub fn module() -> Module {
    Module {
        name: NAME,
        about: "price list, rating, bills, exports (service layer not built yet)",
        needs: &[],
        init: |_| Box::pin(async { Ok(Started::default()) }),
    }
}
