//! What every resolver shares: the per-request state (bus + caller context) and Relay connections.

use crate::errors::IntoGql;
use async_graphql::{Context, Object, SimpleObject};
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
    /// Makes each query level one DataLoader batch (see `batch.rs`).
    pub gate: crate::batch::PollGate,
    /// The caller's address (peer, or per `X-Forwarded-For` behind trusted proxies).
    pub client: Option<std::net::IpAddr>,
    /// Credential checks and the per-client sign-in limit.
    pub auth: std::sync::Arc<crate::auth::Auth>,
}

impl RequestState {
    pub fn of<'a>(ctx: &Context<'a>) -> &'a RequestState {
        ctx.data_unchecked::<RequestState>()
    }

    pub async fn call<C: Call>(&self, req: &C) -> async_graphql::Result<C::Reply> {
        self.bus.call(&self.call, req).await.gql()
    }

    /// One sign-in attempt from this request's client (`RATE_LIMITED` when over its rate).
    pub async fn limit_sign_in(&self) -> async_graphql::Result<()> {
        self.auth.limit_sign_in(self.client).await.gql()
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

/// What every delete answers (`deleteTenant`, `deleteUser`, `revokeTenantAccess`): the global id
/// of what is gone, so a client evicts it from its cache by id, whatever it deleted.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The global id of the deleted object (a `Tenant`, a `User`, a `TenantGrant`, …).
    pub id: async_graphql::ID,
}

impl DeletePayload {
    pub fn of(id: impl Into<String>) -> Self {
        DeletePayload {
            id: async_graphql::ID(id.into()),
        }
    }
}

/// A page's place in its list, its cursors encoded only when asked for (see
/// [`ecl_proto::page::Cursor`]).
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<ecl_proto::page::Cursor>,
    pub end_cursor: Option<ecl_proto::page::Cursor>,
}

/// Where a page is in its list (Relay's cursor connections).
#[Object(name = "PageInfo")]
impl PageInfo {
    /// Rows follow the last edge: pass `endCursor` as `after` with `first` for them.
    async fn has_next_page(&self) -> bool {
        self.has_next_page
    }
    /// Rows precede the first edge: pass `startCursor` as `before` with `last` for them.
    async fn has_previous_page(&self) -> bool {
        self.has_previous_page
    }
    /// The first edge's cursor (null on an empty page).
    async fn start_cursor(&self) -> Option<String> {
        self.start_cursor
            .as_ref()
            .map(ecl_proto::page::Cursor::encode)
    }
    /// The last edge's cursor (null on an empty page): pass it as `after` for the next page.
    async fn end_cursor(&self) -> Option<String> {
        self.end_cursor
            .as_ref()
            .map(ecl_proto::page::Cursor::encode)
    }
}

/// A connection field's page arguments as its list service takes them, with `skip_total` set
/// when the query does not select the connection's `totalCount` (through fragments too): the
/// service then spares the `COUNT` statement a total costs — on the walk, one grouped `COUNT`
/// per fan-out level.
pub fn page_args(
    ctx: &Context<'_>,
    first: Option<u32>,
    after: Option<String>,
    last: Option<u32>,
    before: Option<String>,
) -> ecl_proto::PageArgs {
    ecl_proto::PageArgs {
        first,
        after,
        last,
        before,
        skip_total: !ctx.look_ahead().field("totalCount").exists(),
    }
}

/// Declares a Relay connection type (`XConnection { edges { cursor node } pageInfo totalCount }`)
/// for one node type. (A macro rather than a generic struct: async-graphql needs concrete types
/// for nested generic objects.)
#[macro_export]
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty) => {
        pub struct $edge {
            pub cursor: ecl_proto::page::Cursor,
            pub node: $node,
        }

        #[async_graphql::Object]
        impl $edge {
            // The cursor is encoded only here, when a client asks for it.
            async fn cursor(&self) -> String {
                self.cursor.encode()
            }
            async fn node(&self) -> &$node {
                &self.node
            }
        }

        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            pub edges: Vec<$edge>,
            pub page_info: $crate::schema::common::PageInfo,
            pub total_count: u64,
        }

        impl $conn {
            #[allow(dead_code)]
            pub fn from_page<V>(page: ecl_proto::Page<V>, f: impl Fn(V) -> $node) -> Self {
                match Self::try_from_page(page, |v| Ok(f(v))) {
                    Ok(c) => c,
                    Err(_) => unreachable!("an infallible conversion failed"),
                }
            }

            /// As `from_page`, for nodes whose conversion can fail (a value the schema lacks).
            pub fn try_from_page<V>(
                page: ecl_proto::Page<V>,
                f: impl Fn(V) -> async_graphql::Result<$node>,
            ) -> async_graphql::Result<Self> {
                let page_info = $crate::schema::common::PageInfo {
                    has_next_page: page.has_next_page,
                    has_previous_page: page.has_previous_page,
                    start_cursor: page.edges.first().map(|(c, _)| c.clone()),
                    end_cursor: page.end_cursor().cloned(),
                };
                Ok($conn {
                    edges: page
                        .edges
                        .into_iter()
                        .map(|(cursor, v)| {
                            Ok($edge {
                                cursor,
                                node: f(v)?,
                            })
                        })
                        .collect::<async_graphql::Result<_>>()?,
                    page_info,
                    total_count: page.total_count,
                })
            }
        }
    };
}

/// A batch request "one page of X for each of these owners" (`ListTenants` per contract,
/// `ListTenantUsers` per tenant, …).
pub trait PagedBatch: Call<Reply = Vec<(String, ecl_proto::Page<Self::Item>)>> {
    type Item: Clone + Send + Sync + 'static;
    fn new(ids: Vec<String>, page: ecl_proto::PageArgs) -> Self;
}

/// A `PagedBatch` whose lists take a filter, which the owning service applies in its query
/// (before pagination, so pages and totals are those of the filtered list).
pub trait FilteredBatch: PagedBatch {
    type Filter: Clone + Default + Eq + std::hash::Hash + Send + Sync + 'static;
    fn filtered(self, filter: Self::Filter) -> Self;
}

macro_rules! filtered_batch {
    ($req:ty, $filter:ty) => {
        impl FilteredBatch for $req {
            type Filter = $filter;
            fn filtered(self, filter: $filter) -> Self {
                Self { filter, ..self }
            }
        }
    };
}

/// `PagedBatch` for a batch request type whose two fields are the ids and the page.
macro_rules! paged_batch {
    ($req:ty, $item:ty, $ids:ident) => {
        impl PagedBatch for $req {
            type Item = $item;
            fn new(ids: Vec<String>, page: ecl_proto::PageArgs) -> Self {
                Self { $ids: ids, page }
            }
        }
    };
    // A batch with a filter too: unfiltered unless `FilteredBatch::filtered` narrows it.
    ($req:ty, $item:ty, $ids:ident, filter) => {
        impl PagedBatch for $req {
            type Item = $item;
            fn new(ids: Vec<String>, page: ecl_proto::PageArgs) -> Self {
                Self {
                    $ids: ids,
                    page,
                    filter: Default::default(),
                }
            }
        }
    };
}

use ecl_proto::{contract as c, identity as i, tenant as t};
paged_batch!(t::ListTenants, t::TenantView, contract_ids, filter);
paged_batch!(i::ListUsers, i::UserView, contract_ids, filter);
paged_batch!(i::ListApiKeys, i::ApiKeyView, contract_ids);
paged_batch!(t::ListTenantUsers, i::UserView, tenant_ids, filter);
paged_batch!(t::ListUserTenants, t::TenantView, user_ids, filter);
paged_batch!(t::ListWorkspaces, t::WorkspaceView, contract_ids);
paged_batch!(c::ListContractGroups, c::ContractGroupView, partner_ids);
paged_batch!(c::ListChildren, c::ContractView, parent_ids, filter);
filtered_batch!(t::ListTenants, t::TenantFilter);
filtered_batch!(i::ListUsers, i::UserFilter);
filtered_batch!(t::ListUserTenants, t::TenantFilter);
filtered_batch!(t::ListTenantUsers, i::UserFilter);
filtered_batch!(c::ListChildren, c::ContractFilter);

/// Puts one batching loader per list field into a request: every list of one kind at one query
/// level becomes one bus request.
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    fn loader<C: PagedBatch>(
        state: &RequestState,
    ) -> async_graphql::dataloader::DataLoader<PagedLoader<C>> {
        async_graphql::dataloader::DataLoader::new(
            PagedLoader::<C>::new(state.clone()),
            state.gate.spawner(),
        )
        .delay(state.gate.delay())
    }
    let req = super::tenant::with_loaders(req, state);
    let req = super::identity::with_loaders(req, state);
    let req = super::notification::with_loaders(req, state)
        .data(loader::<ecl_proto::notification::ListDeliveries>(state));
    fn filtered<C: FilteredBatch>(
        state: &RequestState,
    ) -> async_graphql::dataloader::DataLoader<FilteredLoader<C>> {
        async_graphql::dataloader::DataLoader::new(
            FilteredLoader::<C>(state.clone(), std::marker::PhantomData),
            state.gate.spawner(),
        )
        .delay(state.gate.delay())
    }
    req.data(filtered::<c::ListChildren>(state))
        .data(filtered::<t::ListTenants>(state))
        .data(filtered::<i::ListUsers>(state))
        .data(loader::<i::ListApiKeys>(state))
        .data(filtered::<t::ListTenantUsers>(state))
        .data(filtered::<t::ListUserTenants>(state))
        .data(loader::<t::ListWorkspaces>(state))
        .data(loader::<c::ListContractGroups>(state))
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PagedKey<F = ()> {
    /// Whose list: a contract id, a tenant id, a user id.
    pub owner_id: String,
    pub page: ecl_proto::PageArgs,
    /// What narrows the list (`()` for lists without a filter).
    pub filter: F,
}

/// Batches one list field of every contract at one query level into one bus request per distinct
/// page argument — in practice one per level, however many contracts are on screen.
pub struct PagedLoader<C>(pub RequestState, std::marker::PhantomData<fn() -> C>);

impl<C> PagedLoader<C> {
    pub fn new(state: RequestState) -> Self {
        PagedLoader(state, std::marker::PhantomData)
    }
}

/// One bus request per distinct (page, filter) among `keys`, each for all their owners. Keys
/// that differ only in `skip_total` share a request, counted when any of them shows the total.
async fn load_grouped<C: PagedBatch, F: Clone + Eq + std::hash::Hash>(
    state: &RequestState,
    keys: &[PagedKey<F>],
    request: impl Fn(Vec<String>, ecl_proto::PageArgs, F) -> C,
) -> Result<std::collections::HashMap<PagedKey<F>, Shared<C::Item>>, AppError> {
    let groups = by_page(keys.iter().map(|k| ((&k.page, &k.filter), &k.owner_id)));
    let mut out = std::collections::HashMap::new();
    for ((page, filter), (ids, mixed)) in groups {
        let req = request(ids, page.clone(), filter.clone());
        for (owner_id, p) in state.bus.call(&state.call, &req).await? {
            let p = std::sync::Arc::new(p);
            let key = |skip_total| PagedKey {
                owner_id: owner_id.clone(),
                page: ecl_proto::PageArgs {
                    skip_total,
                    ..page.clone()
                },
                filter: filter.clone(),
            };
            if mixed {
                out.insert(key(true), p.clone());
            }
            out.insert(key(page.skip_total), p);
        }
    }
    Ok(out)
}

/// Owners grouped by (page, `extra`), pages that differ only in `skip_total` together: a group
/// skips the total only when every key of it does, and says whether its keys were `mixed` (some
/// skipping, some not: their answer is filed under both). One level of a query that shows a
/// list's total in one place and not in another then still makes one request for it.
#[allow(clippy::type_complexity)]
pub fn by_page<'a, X: Clone + Eq + std::hash::Hash + 'a>(
    keys: impl Iterator<Item = ((&'a ecl_proto::PageArgs, &'a X), &'a String)>,
) -> std::collections::HashMap<(ecl_proto::PageArgs, X), (Vec<String>, bool)> {
    // Per group: does any key skip, does any count, the owners.
    let mut groups: std::collections::HashMap<(ecl_proto::PageArgs, X), (bool, bool, Vec<String>)> =
        std::collections::HashMap::new();
    for ((page, extra), owner) in keys {
        let counted = ecl_proto::PageArgs {
            skip_total: false,
            ..page.clone()
        };
        let group = groups
            .entry((counted, extra.clone()))
            .or_insert((false, false, Vec::new()));
        group.0 |= page.skip_total;
        group.1 |= !page.skip_total;
        group.2.push(owner.clone());
    }
    groups
        .into_iter()
        .map(|((page, extra), (skips, counts, owners))| {
            let page = ecl_proto::PageArgs {
                skip_total: !counts,
                ..page
            };
            ((page, extra), (owners, skips && counts))
        })
        .collect()
}

/// A loaded page as the loaders hand it out: async-graphql's DataLoader clones a value for every
/// key that asked for it, which for a page meant copying every item (the walk's 200 tenant and
/// user pages per query); an `Arc` is cloned instead, and unwrapped without a copy once the
/// loader has let go of it ([`loaded`]).
pub type Shared<T> = std::sync::Arc<ecl_proto::Page<T>>;

/// The page out of a loader's answer, copied only if the loader still holds it.
pub fn loaded<T: Clone>(page: Option<Shared<T>>) -> ecl_proto::Page<T> {
    page.map_or_else(ecl_proto::Page::empty, std::sync::Arc::unwrap_or_clone)
}

impl<C: PagedBatch> async_graphql::dataloader::Loader<PagedKey> for PagedLoader<C> {
    type Value = Shared<C::Item>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PagedKey],
    ) -> Result<std::collections::HashMap<PagedKey, Self::Value>, AppError> {
        load_grouped(&self.0, keys, |ids, page, ()| C::new(ids, page)).await
    }
}

/// As [`PagedLoader`], for lists with a filter: one bus request per distinct (page, filter).
pub struct FilteredLoader<C>(pub RequestState, std::marker::PhantomData<fn() -> C>);

impl<C: FilteredBatch> async_graphql::dataloader::Loader<PagedKey<C::Filter>>
    for FilteredLoader<C>
{
    type Value = Shared<C::Item>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PagedKey<C::Filter>],
    ) -> Result<std::collections::HashMap<PagedKey<C::Filter>, Self::Value>, AppError> {
        load_grouped(&self.0, keys, |ids, page, filter| {
            C::new(ids, page).filtered(filter)
        })
        .await
    }
}

/// Loads one owner's page of `C`, narrowed by `filter`, through the request's loader.
pub async fn load_filtered_page<C: FilteredBatch>(
    ctx: &Context<'_>,
    owner_id: &str,
    page: ecl_proto::PageArgs,
    filter: C::Filter,
) -> async_graphql::Result<ecl_proto::Page<C::Item>> {
    let key = PagedKey {
        owner_id: owner_id.to_string(),
        page,
        filter,
    };
    let loader = ctx.data_unchecked::<async_graphql::dataloader::DataLoader<FilteredLoader<C>>>();
    Ok(loaded(
        loader.load_one(key).await.map_err(crate::errors::gql)?,
    ))
}

/// Loads one owner's page of `C` through the request's loader.
pub async fn load_page<C: PagedBatch>(
    ctx: &Context<'_>,
    owner_id: &str,
    page: ecl_proto::PageArgs,
) -> async_graphql::Result<ecl_proto::Page<C::Item>> {
    let key = PagedKey {
        owner_id: owner_id.to_string(),
        page,
        filter: (),
    };
    let loader = ctx.data_unchecked::<async_graphql::dataloader::DataLoader<PagedLoader<C>>>();
    Ok(loaded(
        loader.load_one(key).await.map_err(crate::errors::gql)?,
    ))
}
