//! The GraphQL gateway: one schema merged from per-domain roots, served by axum. It authenticates
//! the caller once per request, then every resolver is a thin call over the bus carrying that
//! principal; fields that fan out go through DataLoaders whose batch is one bus request.

mod assets;
mod auth;
mod batch;
mod cors;
mod errors;
mod http;
pub mod limits;
pub mod nulls;
pub mod schema;
pub mod schema_diff;
mod ws;

use ecl_runtime::{Ctx, Module, Need, Started};

pub const NAME: &str = "gateway";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "GraphQL API (POST /graphql, WebSocket /graphql/ws, GraphiQL at /, portal at /portal/), authentication, DataLoaders",
        needs: &[Need::Bus, Need::Cache, Need::Http],
        init: |ctx| Box::pin(init(ctx)),
    }
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let timeout = std::time::Duration::from_millis(ctx.settings.request_timeout_ms);
    let hub = schema::live::Hub::start(&ctx.bus, timeout).await?;
    let schema = schema::build();
    let shared = http::Shared {
        limits: limits::QueryLimits {
            sizes: limits::IntrospectionSizes::measure(&schema).await,
            max_complexity: schema::MAX_COMPLEXITY,
        },
        types: std::sync::Arc::new(nulls::Types::from_sdl(&sdl_of(&schema))),
        schema,
        checked: schema::build_checked(),
    };
    let mut router = http::router(ctx.clone(), shared.clone())
        .merge(ws::router(&ctx, hub, shared))
        .merge(assets::router());
    if let Some(cors) = cors::layer(&ctx.settings.cors_origin_list()) {
        router = router.layer(cors);
    }
    Ok(Started {
        http: Some(router),
        ready: vec![],
    })
}

/// The SDL of the public schema (`ecl schema`).
pub fn sdl() -> String {
    sdl_of(&schema::build())
}

/// With `@specifiedBy` on the scalars that have a specification (`DateTime`, `Month`, `Decimal`).
fn sdl_of(schema: &schema::EclSchema) -> String {
    schema.sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
