//! Notices: publishing (operator), what the caller received, delivery logs, each user's choices,
//! the partner's suppression per child, and the live `notices` / `billEstimate` subscriptions.
//! Thin: every rule — who receives what, who may see or change what — is the notification
//! service's (and billing's); a live notice carries the users the service chose.

use super::{
    billing::Bill,
    common::{PagedBatch, RequestState, load_page},
    live::Hub,
};
use crate::errors::{IntoGql, gql};
use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject, Subscription,
    dataloader::{DataLoader, Loader},
};
use chrono::Utc;
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, Principal};
use ecl_proto::{
    PageArgs,
    billing::GetBills,
    notification::{
        self as proto, DeliveryView, GetPreferences, GetSuppressions, ListDeliveries, ListNotices,
        NoticeFilter as ProtoFilter, NoticeInput, NoticeView, PreferenceView, PublishNotice,
        SetPreference, SuppressCategories,
    },
};
use futures::Stream;
use std::collections::HashMap;
use tokio::sync::broadcast;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::notification::Category")]
pub enum NoticeCategory {
    /// Notice / release information: new menus and functions, specification changes.
    Release,
    Failure,
    Maintenance,
    /// Contract and fee mails to a contract's contact person.
    ContractFee,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::notification::DeliveryStatus")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Failed,
}

/// How a delivery reaches its recipient.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeliveryChannel {
    Email,
}

/// Who published a notice.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NoticeSource {
    /// The provider's operator (`publishNotice`).
    Operator,
    /// The SLA service: incidents and maintenance windows.
    Sla,
    /// Billing: a month's bill fixed.
    Billing,
}

pub struct Notice(pub NoticeView);

crate::connection!(NoticeConnection, NoticeEdge, Notice);
crate::connection!(DeliveryConnection, DeliveryEdge, Delivery);

#[Object]
impl Notice {
    async fn id(&self) -> ID {
        self.0.id.clone().into()
    }
    async fn category(&self) -> NoticeCategory {
        self.0.category.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn title_ja(&self) -> Option<&str> {
        self.0.title_ja.as_deref()
    }
    async fn body_ja(&self) -> Option<&str> {
        self.0.body_ja.as_deref()
    }
    /// The contracts in scope (with `tenantIds` empty too: every contract).
    async fn contract_ids(&self) -> Vec<ID> {
        self.0
            .contract_ids
            .iter()
            .cloned()
            .map(Into::into)
            .collect()
    }
    async fn tenant_ids(&self) -> Vec<ID> {
        self.0.tenant_ids.iter().cloned().map(Into::into).collect()
    }
    async fn starts_at(&self) -> Option<super::scalars::DateTime> {
        self.0.starts_at.map(Into::into)
    }
    async fn ends_at(&self) -> Option<super::scalars::DateTime> {
        self.0.ends_at.map(Into::into)
    }
    async fn source(&self) -> async_graphql::Result<NoticeSource> {
        super::scalars::from_wire("notice source", &self.0.source)
    }
    /// Mails queued for it, one per recipient.
    async fn recipient_count(&self) -> u64 {
        self.0.recipients
    }
    async fn created_at(&self) -> super::scalars::DateTime {
        self.0.created_at.into()
    }
    /// The delivery log: every row for the operator, a contract's owner and admins the rows of
    /// their contract's recipients (a partner's, of its children within their groups), nothing
    /// for general users. Loaded for every notice on the page in one bus request.
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
    ) -> async_graphql::Result<DeliveryConnection> {
        let page = load_page::<ListDeliveries>(
            ctx,
            &self.0.id,
            PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await?;
        DeliveryConnection::try_from_page(page, Delivery::try_from)
    }
}

impl PagedBatch for ListDeliveries {
    type Item = DeliveryView;
    fn new(notice_ids: Vec<String>, page: PageArgs) -> Self {
        Self { notice_ids, page }
    }
}

/// One mail of a notice: one per (notice, recipient).
#[derive(SimpleObject)]
pub struct Delivery {
    pub id: ID,
    pub notice_id: ID,
    /// Null for a contract's contact person (contract and fee mails).
    pub user_id: Option<ID>,
    /// The recipient's contract.
    pub contract_id: ID,
    pub address: String,
    pub channel: DeliveryChannel,
    /// A partner administrator copied on a child's failure or maintenance notice.
    pub cc: bool,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The server's reply (or the connection error) of the last failed attempt.
    pub last_error: Option<String>,
    pub sent_at: Option<super::scalars::DateTime>,
    pub created_at: super::scalars::DateTime,
}

impl Delivery {
    fn try_from(d: DeliveryView) -> async_graphql::Result<Delivery> {
        Ok(Delivery {
            id: d.id.into(),
            notice_id: d.notice_id.into(),
            user_id: d.user_id.map(Into::into),
            contract_id: d.contract_id.into(),
            address: d.address,
            channel: super::scalars::from_wire("delivery channel", &d.channel)?,
            cc: d.cc,
            status: d.status.into(),
            attempts: d.attempts,
            last_error: d.last_error,
            sent_at: d.sent_at.map(Into::into),
            created_at: d.created_at.into(),
        })
    }
}

/// A user's choice for one category.
#[derive(SimpleObject, Clone)]
pub struct NotificationPreference {
    pub category: NoticeCategory,
    pub receive: bool,
    /// Not changeable (a contract owner's `FAILURE`).
    pub locked: bool,
}

impl From<PreferenceView> for NotificationPreference {
    fn from(p: PreferenceView) -> Self {
        NotificationPreference {
            category: p.category.into(),
            receive: p.receive,
            locked: p.locked,
        }
    }
}

#[derive(InputObject)]
pub struct PublishNoticeInput {
    pub category: NoticeCategory,
    pub title: String,
    pub body: String,
    pub title_ja: Option<String>,
    pub body_ja: Option<String>,
    /// Contracts in scope; for `FAILURE` / `MAINTENANCE` all their tenants. With `tenantIds`
    /// empty too: every contract.
    #[graphql(default)]
    pub contract_ids: Vec<ID>,
    /// Tenants in scope (failure / maintenance: their contracts' owners and admins, users with
    /// access, the partner's admins in CC).
    #[graphql(default)]
    pub tenant_ids: Vec<ID>,
    pub starts_at: Option<super::scalars::DateTime>,
    pub ends_at: Option<super::scalars::DateTime>,
}

#[derive(InputObject, Default)]
pub struct NoticeFilter {
    pub category: Option<NoticeCategory>,
}

/// `User.notificationPreferences` of a whole page in one `GetPreferences`.
pub struct PreferencesLoader(RequestState);

impl Loader<String> for PreferencesLoader {
    type Value = Vec<PreferenceView>;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Self::Value>, AppError> {
        let req = GetPreferences {
            user_ids: ids.to_vec(),
        };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .collect())
    }
}

/// `Contract.suppressedCategories` of a whole page in one `GetSuppressions`.
pub struct SuppressionLoader(RequestState);

impl Loader<String> for SuppressionLoader {
    type Value = Vec<proto::Category>;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Self::Value>, AppError> {
        let req = GetSuppressions {
            contract_ids: ids.to_vec(),
        };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .collect())
    }
}

/// Adds this domain's loaders to a request.
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    let d = state.gate.delay();
    req.data(DataLoader::new(PreferencesLoader(state.clone()), state.gate.spawner()).delay(d))
        .data(DataLoader::new(SuppressionLoader(state.clone()), state.gate.spawner()).delay(d))
}

/// `User.notificationPreferences`: empty unless the caller may see the user.
pub async fn preferences_of(
    ctx: &Context<'_>,
    user_id: &str,
) -> async_graphql::Result<Vec<NotificationPreference>> {
    RequestState::of(ctx).require_auth()?;
    let list = ctx
        .data_unchecked::<DataLoader<PreferencesLoader>>()
        .load_one(user_id.to_string())
        .await
        .map_err(gql)?;
    Ok(list
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect())
}

/// `Contract.suppressedCategories`.
pub async fn suppressed_of(
    ctx: &Context<'_>,
    contract_id: &str,
) -> async_graphql::Result<Vec<NoticeCategory>> {
    RequestState::of(ctx).require_auth()?;
    let list = ctx
        .data_unchecked::<DataLoader<SuppressionLoader>>()
        .load_one(contract_id.to_string())
        .await
        .map_err(gql)?;
    Ok(list
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect())
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The notices the caller received, oldest first (the operator: every notice; an API key
    /// with the notifications scope: those its contract's users received).
    #[graphql(complexity = "first.or(last).unwrap_or(20) as usize * child_complexity")]
    async fn notices(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
        last: Option<u32>,
        before: Option<String>,
        filter: Option<NoticeFilter>,
    ) -> async_graphql::Result<NoticeConnection> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = ListNotices {
            filter: ProtoFilter {
                category: filter.and_then(|f| f.category).map(Into::into),
            },
            page: PageArgs {
                first,
                after,
                last,
                before,
            },
        };
        Ok(NoticeConnection::from_page(s.call(&req).await?, Notice))
    }
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Publishes a notice (operator): its recipients are resolved by the seeds' table, their
    /// choices and the partner's suppression, and one mail per recipient is queued at once.
    /// Unknown contracts or tenants: `NOT_FOUND`, nothing stored.
    async fn publish_notice(
        &self,
        ctx: &Context<'_>,
        input: PublishNoticeInput,
    ) -> async_graphql::Result<Notice> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = PublishNotice {
            input: NoticeInput {
                category: input.category.into(),
                title: input.title,
                body: input.body,
                title_ja: input.title_ja,
                body_ja: input.body_ja,
                contract_ids: input.contract_ids.into_iter().map(|i| i.0).collect(),
                tenant_ids: input.tenant_ids.into_iter().map(|i| i.0).collect(),
                starts_at: input.starts_at.map(Into::into),
                ends_at: input.ends_at.map(Into::into),
            },
        };
        Ok(Notice(s.call(&req).await?))
    }

    /// Whether a user receives a category: the user, or the managers of their contract (the
    /// partner's for a child, within contract groups). A contract owner cannot opt out of
    /// `FAILURE`; a category the partner suppressed cannot be set. Returns the user's choices.
    async fn set_notification_preference(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        category: NoticeCategory,
        receive: bool,
    ) -> async_graphql::Result<Vec<NotificationPreference>> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SetPreference {
            user_id: user_id.0,
            category: category.into(),
            receive,
        };
        Ok(s.call(&req).await?.into_iter().map(Into::into).collect())
    }

    /// Replaces the categories a partner suppresses for one of its children (the partner's owner
    /// and admins, or the operator): the child's users neither receive them nor see the choice.
    async fn suppress_notification_categories(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        categories: Vec<NoticeCategory>,
    ) -> async_graphql::Result<Vec<NoticeCategory>> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let req = SuppressCategories {
            contract_id: contract_id.0,
            categories: categories.into_iter().map(Into::into).collect(),
        };
        Ok(s.call(&req).await?.into_iter().map(Into::into).collect())
    }
}

fn hub(ctx: &Context<'_>) -> async_graphql::Result<Hub> {
    ctx.data_opt::<Hub>().cloned().ok_or_else(|| {
        gql(AppError::invalid(
            "subscription",
            "subscriptions are served over WebSocket at /graphql/ws",
        ))
    })
}

fn lagged(n: u64) -> async_graphql::Error {
    metrics::counter!("ecl_gateway_live_lagged_total").increment(1);
    gql(AppError::unavailable(format!(
        "missed {n} events (too slow): subscribe again"
    )))
}

/// Whether `who` is among a published notice's receivers (the notification service's list).
fn receives(who: &Principal, ev: &proto::NoticePublished) -> bool {
    match who {
        Principal::User { user_id, .. } => ev.user_ids.binary_search(user_id).is_ok(),
        Principal::ApiKey { contract_id, .. } => ev.contract_ids.binary_search(contract_id).is_ok(),
        _ => false,
    }
}

#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// Every notice the caller receives by mail, with the same choices and suppression, the
    /// moment it is published (an API key: what its contract's users receive; it needs the
    /// notifications scope). Over WebSocket only. A subscriber more than 1,024 notices behind
    /// gets an `UNAVAILABLE` error and its subscription ends.
    async fn notices(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Notice>>> {
        let s = RequestState::of(ctx);
        let principal = s.require_auth()?.clone();
        let hub = hub(ctx)?;
        let rx = hub.notices.subscribe();
        // The service's own check of the caller (an API key's scope) before anything streams.
        s.call(&ListNotices {
            filter: ProtoFilter::default(),
            page: PageArgs::forward(Some(1), None),
        })
        .await?;
        Ok(futures::stream::unfold(Some(rx), move |rx| {
            let principal = principal.clone();
            async move {
                let mut rx = rx?;
                loop {
                    match rx.recv().await {
                        Ok(ev) if receives(&principal, &ev) => {
                            return Some((Ok(Notice(ev.notice.clone())), Some(rx)));
                        }
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            return Some((Err(lagged(n)), None));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        }))
    }

    /// The contract's estimated bill of the current month: first as it stands, then again each
    /// time its usage changes (a partner's includes its children's). For those who may see the
    /// contract's bills (`NOT_FOUND` otherwise). Over WebSocket only.
    async fn bill_estimate(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Bill>>> {
        let s = RequestState::of(ctx);
        let principal = s.require_auth()?.clone();
        let hub = hub(ctx)?;
        let rx = hub.estimates.subscribe();
        let id = contract_id.0;
        let month = Utc::now().format("%Y-%m").to_string();
        let first = estimate(&hub, &principal, &id, &month)
            .await?
            .ok_or_else(|| gql(AppError::not_found(format!("bill of contract {id}"))))?;
        let state = Some((rx, hub, principal, id));
        let updates = futures::stream::unfold(state, |state| async move {
            let (mut rx, hub, principal, id) = state?;
            loop {
                let month = match rx.recv().await {
                    Ok(ev) if ev.contract_ids.contains(&id) => ev.month.clone(),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        return Some((Err(lagged(n)), None));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                // A burst of usage is one new estimate: skip hints already queued for it.
                while rx.try_recv().is_ok() {}
                match estimate(&hub, &principal, &id, &month).await {
                    Ok(Some(b)) => return Some((Ok(b), Some((rx, hub, principal, id)))),
                    Ok(None) => continue,
                    Err(e) => return Some((Err(e), Some((rx, hub, principal, id)))),
                }
            }
        });
        Ok(futures::stream::StreamExt::chain(
            futures::stream::once(async move { Ok(first) }),
            updates,
        ))
    }
}

/// The estimate as billing answers the subscriber (a fresh deadline per request: a subscription
/// outlives any one request's).
async fn estimate(
    hub: &Hub,
    principal: &Principal,
    contract_id: &str,
    month: &str,
) -> async_graphql::Result<Option<Bill>> {
    let ctx = CallCtx::new(principal.clone(), hub.timeout);
    let req = GetBills {
        contract_ids: vec![contract_id.to_string()],
        month: month.to_string(),
        day: None,
    };
    hub.bus
        .call(&ctx, &req)
        .await
        .gql()?
        .into_iter()
        .find(|b| b.contract_id == contract_id)
        .map(Bill::try_from)
        .transpose()
}
