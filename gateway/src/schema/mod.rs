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

/// The schema that runs operations over HTTP: async-graphql's own complexity limit and no
/// extension. With any extension installed, every field resolves through the extension chain
/// (two registry lookups by name and a boxed future per field): 8–10 % of the walk
/// benchmark's CPU per query, measured. Its refusal says neither the cost nor the limit, so a
/// refused operation is validated once more by [`build_checked`]'s schema, which says both.
pub fn build() -> EclSchema {
    builder().limit_complexity(MAX_COMPLEXITY).finish()
}

/// The same schema with the complexity limit as an extension (`limits::ComplexityLimit`): it
/// adds the price of introspection to the cost and names the cost and the limit in its
/// refusal. It runs what introspects, WebSocket operations (long-lived: the per-field price
/// does not matter there), and re-validates what [`build`]'s schema refused as too complex.
pub fn build_checked() -> EclSchema {
    builder()
        .extension(crate::limits::ComplexityLimit {
            limit: MAX_COMPLEXITY,
        })
        .finish()
}

fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_directives(MAX_DIRECTIVES)
}
