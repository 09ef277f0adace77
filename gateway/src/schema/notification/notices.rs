//! Notices (SPEC §7): what a notice is as the schema shows it, the caller's received notices and
//! each notice's delivery log (one mail per recipient), batched per page.

use crate::schema::common::{PagedBatch, load_page};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use ecl_proto::{
    PageArgs,
    notification::{DeliveryView, ListDeliveries, NoticeView},
};

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
    async fn starts_at(&self) -> Option<crate::schema::scalars::DateTime> {
        self.0.starts_at.map(Into::into)
    }
    async fn ends_at(&self) -> Option<crate::schema::scalars::DateTime> {
        self.0.ends_at.map(Into::into)
    }
    async fn source(&self) -> async_graphql::Result<NoticeSource> {
        crate::schema::scalars::from_wire("notice source", &self.0.source)
    }
    /// Mails queued for it, one per recipient.
    async fn recipient_count(&self) -> u64 {
        self.0.recipients
    }
    async fn created_at(&self) -> crate::schema::scalars::DateTime {
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
            crate::schema::common::page_args(ctx, first, after, last, before),
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
    pub sent_at: Option<crate::schema::scalars::DateTime>,
    pub created_at: crate::schema::scalars::DateTime,
}

impl Delivery {
    fn try_from(d: DeliveryView) -> async_graphql::Result<Delivery> {
        Ok(Delivery {
            id: d.id.into(),
            notice_id: d.notice_id.into(),
            user_id: d.user_id.map(Into::into),
            contract_id: d.contract_id.into(),
            address: d.address,
            channel: crate::schema::scalars::from_wire("delivery channel", &d.channel)?,
            cc: d.cc,
            status: d.status.into(),
            attempts: d.attempts,
            last_error: d.last_error,
            sent_at: d.sent_at.map(Into::into),
            created_at: d.created_at.into(),
        })
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
    pub starts_at: Option<crate::schema::scalars::DateTime>,
    pub ends_at: Option<crate::schema::scalars::DateTime>,
}

#[derive(InputObject, Default)]
pub struct NoticeFilter {
    pub category: Option<NoticeCategory>,
}
