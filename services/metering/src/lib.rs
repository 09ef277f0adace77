//! The metering service: usage events, per-resource usage intervals.
//!
//! Not built yet: it registers as a target so deployments and the topology are complete, and its
//! process answers health checks. Its domain arrives with its own issue.

use ecl_runtime::{Module, Started};

pub const NAME: &str = "metering";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "usage events, per-resource usage intervals (not built yet)",
        needs: &[],
        init: |_| Box::pin(async { Ok(Started::default()) }),
    }
}
