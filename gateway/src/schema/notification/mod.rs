//! Notices: publishing (operator), what the caller received, delivery logs, each user's choices,
//! the partner's suppression per child, and the live `notices` / `billEstimate` subscriptions.
//! Thin: every rule — who receives what, who may see or change what — is the notification
//! service's (and billing's); a live notice carries the users the service chose.//!
//! [`notices`] holds what a notice is, [`preferences`] the users' choices and the partners'
//! suppression, [`live`] the subscriptions; the roots below route to the service.

mod live;
mod notices;
mod preferences;

pub use live::*;
pub use notices::*;
pub use preferences::*;

use crate::schema::common::RequestState;
use async_graphql::{Context, ID, Object, dataloader::DataLoader};
use ecl_proto::notification::{
    ListNotices, NoticeFilter as ProtoFilter, NoticeInput, PublishNotice, SetPreference,
    SuppressCategories,
};
/// Adds this domain's loaders to a request.
pub fn with_loaders(req: async_graphql::Request, state: &RequestState) -> async_graphql::Request {
    let d = state.gate.delay();
    req.data(DataLoader::new(PreferencesLoader(state.clone()), state.gate.spawner()).delay(d))
        .data(DataLoader::new(SuppressionLoader(state.clone()), state.gate.spawner()).delay(d))
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
            page: crate::schema::common::page_args(ctx, first, after, last, before),
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
