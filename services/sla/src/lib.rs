//! The sla service: incidents, uptime, service credits and claims.
//!
//! Not built yet: it registers as a target so deployments and the topology are complete, and its
//! process answers health checks. Its domain arrives with its own issue.

use ecl_runtime::{Module, Started};

pub const NAME: &str = "sla";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "incidents, uptime, service credits and claims (not built yet)",
        needs: &[],
        init: |_| Box::pin(async { Ok(Started::default()) }),
    }
}
