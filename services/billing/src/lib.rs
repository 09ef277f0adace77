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
pub mod commercial;
pub mod csv_export;
mod entity;
pub mod menus;
pub mod rating;
pub mod service;

use ecl_runtime::{Module, Need};

pub const NAME: &str = "billing";

/// The billing target: [`service`] around the pure code above.
pub fn module() -> Module {
    Module {
        name: NAME,
        about: "price list, rating, bills, exports",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(service::init(ctx)),
    }
}
