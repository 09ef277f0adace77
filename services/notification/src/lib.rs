//! The notification service: notices by e-mail and subscription, opt-outs.
//!
//! Not built yet: it registers as a target so deployments and the topology are complete, and its
//! process answers health checks. Its domain arrives with its own issue.

use ecl_runtime::{Module, Started};

pub const NAME: &str = "notification";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "notices by e-mail and subscription, opt-outs (not built yet)",
        needs: &[],
        init: |_| Box::pin(async { Ok(Started::default()) }),
    }
}
