//! What every resolver shares: the per-request state (bus + caller context) and Relay connections.

use crate::errors::IntoGql;
use async_graphql::{Context, SimpleObject};
use ecl_bus::{Bus, CallCtx};
use ecl_kernel::{AppError, Principal};
use ecl_proto::Call;

/// Put into each request's data by the HTTP handler.
#[derive(Clone)]
pub struct RequestState {
    pub bus: Bus,
    pub call: CallCtx,
    /// The caller's bearer token, if any (signing out ends its session).
    pub bearer: Option<String>,
    pub cache: std::sync::Arc<dyn ecl_cache::Cache>,
}

impl RequestState {
    pub fn of<'a>(ctx: &Context<'a>) -> &'a RequestState {
        ctx.data_unchecked::<RequestState>()
    }

    pub async fn call<C: Call>(&self, req: &C) -> async_graphql::Result<C::Reply> {
        self.bus.call(&self.call, req).await.gql()
    }

    /// For operations that need a signed-in caller.
    pub fn require_auth(&self) -> async_graphql::Result<&Principal> {
        match &self.call.principal {
            Principal::Anonymous => Err(crate::errors::gql(AppError::new(
                ecl_kernel::ErrorCode::Unauthenticated,
                "sign in first",
            ))),
            p => Ok(p),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "PageInfo")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// Declares a Relay connection type (`XConnection { edges { cursor node } pageInfo totalCount }`)
/// for one node type. (A macro rather than a generic struct: async-graphql needs concrete types
/// for nested generic objects.)
#[macro_export]
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty) => {
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            pub edges: Vec<$edge>,
            pub page_info: $crate::schema::common::PageInfo,
            pub total_count: u64,
        }

        impl $conn {
            pub fn from_page<V>(page: ecl_proto::Page<V>, f: impl Fn(V) -> $node) -> Self {
                let page_info = $crate::schema::common::PageInfo {
                    has_next_page: page.has_next_page,
                    end_cursor: page.end_cursor().map(str::to_string),
                };
                $conn {
                    edges: page
                        .edges
                        .into_iter()
                        .map(|(cursor, v)| $edge { cursor, node: f(v) })
                        .collect(),
                    page_info,
                    total_count: page.total_count,
                }
            }
        }
    };
}
