//! The integration suite as one test binary: every former `tests/<suite>.rs` is a module here,
//! because each binary links the whole platform (a multi-minute link on two cores, ~240 MB each).
//! Test names keep their function names, so `cargo test <name>` still finds them; a whole suite
//! is `cargo test --test e2e <suite>::`.

mod common;

mod api_keys;
mod authorization;
mod billing;
mod browser;
mod bus;
mod commercial;
mod contracts;
mod deploy_files;
mod errors_are_shaped_as_the_graphql_spec_says;
mod hardening;
mod hostile_queries_are_refused_before_they_cost;
mod identity;
mod metrics_are_there_from_the_first_scrape;
mod notifications;
mod portal_assets;
mod reliability;
mod sign_in_is_rate_limited_per_client;
mod sla;
mod subscriptions;
mod tenants;
mod topology;
mod users;
