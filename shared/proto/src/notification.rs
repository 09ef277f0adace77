//! Notification service: notices (release information, failures, maintenance, contract and fee
//! mails), who receives them, their e-mail delivery log, preferences and the partner's suppression.

use crate::{Page, PageArgs, call, event};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const TARGET: &str = "notification";

/// What a notice is about (seeds 000/001 "Notification settings management").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    /// Notice / release information: new menus and functions, specification changes.
    Release,
    Failure,
    Maintenance,
    /// Contract and fee mails to a contract's contact person (not to users, so nobody opts out).
    ContractFee,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Release,
        Category::Failure,
        Category::Maintenance,
        Category::ContractFee,
    ];
    /// The categories users choose to receive (and a partner may suppress for a child).
    pub const CHOOSABLE: [Category; 3] =
        [Category::Release, Category::Failure, Category::Maintenance];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Release => "RELEASE",
            Category::Failure => "FAILURE",
            Category::Maintenance => "MAINTENANCE",
            Category::ContractFee => "CONTRACT_FEE",
        }
    }
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
    /// Failure and maintenance notices go to those concerned by the affected tenants.
    pub fn by_tenant(self) -> bool {
        matches!(self, Category::Failure | Category::Maintenance)
    }
}

/// A notice to publish. The scope is the union of `contract_ids` and `tenant_ids`; both empty =
/// every contract. For `FAILURE` / `MAINTENANCE` a contract in scope means all its tenants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeInput {
    pub category: Category,
    pub title: String,
    pub body: String,
    pub title_ja: Option<String>,
    pub body_ja: Option<String>,
    #[serde(default)]
    pub contract_ids: Vec<String>,
    #[serde(default)]
    pub tenant_ids: Vec<String>,
    /// Failure / maintenance: when it started (or starts).
    pub starts_at: Option<DateTime<Utc>>,
    /// Failure / maintenance: when it ended (or ends), if known.
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeView {
    pub id: String,
    pub category: Category,
    pub title: String,
    pub body: String,
    pub title_ja: Option<String>,
    pub body_ja: Option<String>,
    pub contract_ids: Vec<String>,
    pub tenant_ids: Vec<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Who asked for it: `operator`, or the publishing service (`sla`, `billing`).
    pub source: String,
    /// Mails queued for it (one per recipient).
    pub recipients: u64,
    pub created_at: DateTime<Utc>,
}

/// The operator publishes a notice; recipients are resolved and mails queued before the reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishNotice {
    pub input: NoticeInput,
}
call!(PublishNotice => NoticeView, "notification", "notification.publish.v1");

/// Any service asks for a notice (the SLA service for recorded incidents and maintenance windows),
/// handled by the same use case as [`PublishNotice`]. The event id makes it idempotent: the same
/// event delivered twice creates one notice and sends one mail per recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticeRequested {
    /// The publishing service (`sla`).
    pub source: String,
    pub input: NoticeInput,
}
event!(NoticeRequested, "notification.notice_requested");

/// A notice was published: who receives it (after preferences and suppression), so every
/// gateway's live `notices` subscriptions can pass it to exactly those users.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticePublished {
    pub notice: NoticeView,
    pub user_ids: Vec<String>,
    /// The contracts of `user_ids` (an API key with the notifications scope receives what its
    /// contract's users receive).
    pub contract_ids: Vec<String>,
}
event!(NoticePublished, "notification.notice_published");

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NoticeFilter {
    pub category: Option<Category>,
}

/// The notices the caller received (the operator: every notice; an API key: those its
/// contract's users received), oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListNotices {
    pub filter: NoticeFilter,
    pub page: PageArgs,
}
call!(ListNotices => Page<NoticeView>, "notification", "notification.notices.v1", key: Scope(Notifications, Read));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Failed,
}

/// One row of the delivery log: one per (notice, recipient).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: String,
    pub notice_id: String,
    /// `None` for a contract's contact person (contract and fee mails).
    pub user_id: Option<String>,
    pub contract_id: String,
    pub address: String,
    /// `EMAIL`.
    pub channel: String,
    /// A partner admin copied on a child's failure or maintenance notice.
    pub cc: bool,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The server's reply (or the connection error) of the last failed attempt.
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Delivery logs of several notices, one page each (DataLoader batch). The operator sees every
/// row; a contract's owner and admins the rows of their contract's recipients (and a partner's,
/// of its children within their contract groups).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListDeliveries {
    pub notice_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListDeliveries => Vec<(String, Page<DeliveryView>)>, "notification", "notification.deliveries.v1", key: Scope(Notifications, Read));

/// A user's choice for one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceView {
    pub category: Category,
    pub receive: bool,
    /// The user may not change it (a contract owner's `FAILURE`).
    pub locked: bool,
}

/// The choices of several users (DataLoader batch): for the users themselves, the managers of
/// their contract and the operator; others get nothing. A child's users do not see the
/// categories their partner suppressed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetPreferences {
    pub user_ids: Vec<String>,
}
call!(GetPreferences => Vec<(String, Vec<PreferenceView>)>, "notification", "notification.preferences.v1", key: Scope(Notifications, Read));

/// Sets one choice of a user: the user, or a manager of the user's contract (the partner's for a
/// child, within contract groups). Replies with the user's choices after the change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetPreference {
    pub user_id: String,
    pub category: Category,
    pub receive: bool,
}
call!(SetPreference => Vec<PreferenceView>, "notification", "notification.set_preference.v1", key: Scope(Notifications, Write));

/// Categories a partner suppressed for each of several children (DataLoader batch): for the
/// partner's managers, the child's members and the operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetSuppressions {
    pub contract_ids: Vec<String>,
}
call!(GetSuppressions => Vec<(String, Vec<Category>)>, "notification", "notification.suppressions.v1", key: Scope(Notifications, Read));

/// Replaces the categories suppressed for a child contract (its partner's owner and admins,
/// within their groups, or the operator). Replies with the categories now suppressed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuppressCategories {
    pub contract_id: String,
    pub categories: Vec<Category>,
}
call!(SuppressCategories => Vec<Category>, "notification", "notification.suppress.v1", key: Scope(Notifications, Write));

/// How the delivery log stands (tests and the benchmark wait on it; operator only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryStats {
    /// `None`: every notice.
    pub notice_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCounts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
}
call!(DeliveryStats => DeliveryCounts, "notification", "notification.stats.v1");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip_by_name() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Category::parse("SPAM"), None);
        assert!(!Category::CHOOSABLE.contains(&Category::ContractFee));
    }
}
