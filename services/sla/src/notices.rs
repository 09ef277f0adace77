//! The notices an incident or a maintenance window asks the notification service for
//! (`NoticeRequested`, through this service's outbox in the same transaction as the record): the
//! seeds' `FAILURE` / `MAINTENANCE` recipients of the affected tenants get a mail in English and
//! Japanese.

use chrono::{DateTime, Utc};
use ecl_proto::notification::{Category, NoticeInput, NoticeRequested};

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "not yet".into(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

pub(crate) struct Notice<'a> {
    pub category: Category,
    /// `failure`, `restored`, `maintenance`.
    pub what: &'a str,
    pub title: &'a str,
    pub menu_code: &'a str,
    pub description: Option<&'a str>,
    pub tenant_ids: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

impl Notice<'_> {
    pub(crate) fn request(self) -> NoticeRequested {
        let (en, ja) = match self.what {
            "restored" => ("Restored", "復旧"),
            "maintenance" => ("Maintenance", "メンテナンス"),
            _ => ("Failure", "障害"),
        };
        let extra = self
            .description
            .map(|d| format!("\n\n{d}"))
            .unwrap_or_default();
        NoticeRequested {
            source: crate::NAME.into(),
            input: NoticeInput {
                category: self.category,
                title: format!("[{en}] {}", self.title),
                body: format!(
                    "Menu: {}\nFrom: {}\nUntil: {}{extra}",
                    self.menu_code,
                    when(Some(self.starts_at)),
                    when(self.ends_at)
                ),
                title_ja: Some(format!("【{ja}】{}", self.title)),
                body_ja: Some(format!(
                    "メニュー: {}\n開始: {}\n終了: {}{extra}",
                    self.menu_code,
                    when(Some(self.starts_at)),
                    when(self.ends_at)
                )),
                contract_ids: vec![],
                tenant_ids: self.tenant_ids,
                starts_at: Some(self.starts_at),
                ends_at: self.ends_at,
            },
        }
    }
}
