//! The public schema: per-domain roots merged into one Query and one Mutation.

pub(crate) mod api_keys;
pub(crate) mod billing;
pub(crate) mod commercial;
pub(crate) mod common;
pub(crate) mod contract;
pub(crate) mod groups;

pub(crate) mod identity;
pub mod live;
pub(crate) mod node;
pub(crate) mod notification;
pub mod scalars;
pub(crate) mod sla;
pub(crate) mod tenant;
pub(crate) mod users;

pub use common::RequestState;

use async_graphql::{MergedObject, MergedSubscription, Schema};

#[derive(MergedObject, Default)]
pub struct Query(
    identity::IdentityQuery,
    node::NodeQuery,
    contract::ContractQuery,
    tenant::TenantQuery,
    billing::BillingQuery,
    notification::NotificationQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    identity::IdentityMutation,
    contract::ContractMutation,
    tenant::TenantMutation,
    users::UserMutation,
    api_keys::ApiKeyMutation,
    groups::GroupMutation,
    billing::BillingMutation,
    commercial::CommercialMutation,
    notification::NotificationMutation,
    sla::SlaMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(
    live::LiveSubscription,
    notification::NotificationSubscription,
);

pub type EclSchema = Schema<Query, Mutation, Subscription>;

/// Deepest query accepted (the partner walk contract → children → tenants → users → … fits).
pub const MAX_DEPTH: usize = 16;
/// Largest accepted query complexity (each field counts 1, lists multiply by their page size;
/// introspection counts the values it answers, see `limits.rs`). The README's partner walk with
/// `children(first: 100)` costs about 71,000, the walk benchmark's (default pages of 20 tenants
/// × 20 users under 100 children) about 143,000: both fit.
pub const MAX_COMPLEXITY: usize = 200_000;
/// Most directives on one field (`@skip @skip @skip …` costs validation time for nothing).
pub const MAX_DIRECTIVES: usize = 8;

pub fn build() -> EclSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    // Not `limit_complexity`: its refusal says neither the cost nor the limit.
    .extension(crate::limits::ComplexityLimit {
        limit: MAX_COMPLEXITY,
    })
    .limit_directives(MAX_DIRECTIVES)
    .finish()
}
