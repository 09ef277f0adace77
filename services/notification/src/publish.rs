//! Publishing a notice — one use case for the operator's `publishNotice` and for any service's
//! `NoticeRequested` event: validate, resolve the recipients, then store the notice, one delivery
//! row per recipient and the `NoticePublished` announcement in one transaction. The sender mails
//! the rows afterwards, so publishing never waits for SMTP and a server that is down loses nothing.
//!
//! Idempotent for events: the notice remembers the event id (unique), so the same event handled
//! twice — redelivered, or by two replicas at once — finds the first notice and queues nothing.

use crate::{
    Notifications,
    entity::{delivery, notice},
    recipients::{self, Recipient, Scope},
    view,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, ContractId, Validation, validate};
use ecl_proto::notification::{Category, NoticeInput, NoticePublished, NoticeView};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait, sea_query::OnConflict,
};

pub const QUEUED: &str = "QUEUED";
pub const SENT: &str = "SENT";
pub const FAILED: &str = "FAILED";

/// A notice's input, checked: the texts trimmed and bounded, ids well-formed, dates in order.
struct Valid {
    category: Category,
    title: String,
    body: String,
    title_ja: Option<String>,
    body_ja: Option<String>,
    scope: Scope,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
}

fn optional(field: &str, v: Option<String>, max: usize) -> AppResult<Option<String>> {
    match v {
        Some(v) if !v.trim().is_empty() => Ok(Some(validate::text(field, &v, max)?)),
        _ => Ok(None),
    }
}

fn ids(
    field: &str,
    v: Vec<String>,
    parse: impl Fn(&str) -> AppResult<String>,
) -> AppResult<Vec<String>> {
    let mut out = Vec::with_capacity(v.len());
    for id in v {
        let id = parse(id.trim()).map_err(|e| AppError::invalid(field, e.message))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Every field of the notice, all bad ones reported at once.
fn validate(input: NoticeInput) -> AppResult<Valid> {
    let mut v = Validation::new();
    let title = v.value(validate::text("title", &input.title, 200));
    let body = v.value(validate::text("body", &input.body, 20_000));
    let title_ja = v.value(optional("titleJa", input.title_ja, 200));
    let body_ja = v.value(optional("bodyJa", input.body_ja, 20_000));
    let contract_ids = v.value(ids("contractIds", input.contract_ids, |s| {
        ContractId::parse(s).map(|c| c.as_str().to_string())
    }));
    let tenant_ids = v.value(ids("tenantIds", input.tenant_ids, |s| {
        ecl_kernel::ids::parse_id("tenantIds", "ten", s)
    }));
    v.check(
        "endsAt",
        !matches!((input.starts_at, input.ends_at), (Some(s), Some(e)) if e < s),
        "endsAt must not be before startsAt",
    );
    v.finish()?;
    Ok(Valid {
        category: input.category,
        title,
        body,
        title_ja,
        body_ja,
        scope: Scope {
            all: contract_ids.is_empty() && tenant_ids.is_empty(),
            contract_ids,
            tenant_ids,
        },
        starts_at: input.starts_at.map(|t| t.timestamp_micros()),
        ends_at: input.ends_at.map(|t| t.timestamp_micros()),
    })
}

impl Notifications {
    /// Publishes a notice for `source` (`operator`, `sla`, …). With `event_id`, at most once per
    /// event: a second call answers the first notice.
    pub(crate) async fn publish(
        &self,
        ctx: &CallCtx,
        source: &str,
        event_id: Option<&str>,
        input: NoticeInput,
    ) -> AppResult<NoticeView> {
        if let Some(id) = event_id
            && let Some(done) = self.by_event(id).await?
        {
            return Ok(view(&done));
        }
        let v = validate(input)?;
        // Resolving is measured and its bus requests counted (the benchmark reads both from
        // /metrics): a number that must not grow with the recipients.
        let resolving = std::time::Instant::now();
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = CallCtx {
            counter: Some(counter.clone()),
            ..ctx.clone()
        };
        let audience = self.audience(&counted, v.category, &v.scope).await?;
        let recipients = recipients::resolve(v.category, &v.scope, &audience);
        let resolve_secs = resolving.elapsed().as_secs_f64();
        let bus_requests = counter.load(std::sync::atomic::Ordering::Relaxed);
        metrics::gauge!("ecl_notice_last_resolve_seconds").set(resolve_secs);
        metrics::gauge!("ecl_notice_last_resolve_bus_requests").set(bus_requests as f64);
        metrics::gauge!("ecl_notice_last_recipients").set(recipients.len() as f64);
        let now = self.clock.now().timestamp_micros();
        let row = notice::Model {
            id: ecl_kernel::ids::new_id("ntc"),
            category: v.category.as_str().to_string(),
            title: v.title,
            body: v.body,
            title_ja: v.title_ja,
            body_ja: v.body_ja,
            contract_ids: serde_json::to_string(&v.scope.contract_ids)
                .map_err(AppError::internal)?,
            tenant_ids: serde_json::to_string(&v.scope.tenant_ids).map_err(AppError::internal)?,
            starts_at: v.starts_at,
            ends_at: v.ends_at,
            source: source.to_string(),
            source_event_id: event_id.map(str::to_string),
            recipients: recipients.len() as i64,
            created_at: now,
        };
        let txn = self.db.begin().await?;
        let inserted = notice::Entity::insert(notice::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await;
        if let Err(e) = inserted {
            drop(txn);
            // Another replica handled the same event a moment ago: its notice stands.
            if let Some(id) = event_id
                && let Some(done) = self.by_event(id).await?
            {
                return Ok(view(&done));
            }
            return Err(e.into());
        }
        let rows: Vec<delivery::ActiveModel> =
            recipients.iter().map(|r| queued(&row.id, r, now)).collect();
        for chunk in rows.chunks(500) {
            delivery::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(delivery::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        let notice = view(&row);
        let mut user_ids: Vec<String> = recipients
            .iter()
            .filter_map(|r| r.user_id.clone())
            .collect();
        user_ids.sort();
        let mut contract_ids: Vec<String> = recipients
            .iter()
            .filter(|r| r.user_id.is_some())
            .map(|r| r.contract_id.clone())
            .collect();
        contract_ids.sort();
        contract_ids.dedup();
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &NoticePublished {
                    notice: notice.clone(),
                    user_ids,
                    contract_ids,
                },
            )
            .await?;
        metrics::counter!("ecl_notices_published_total", "category" => v.category.as_str())
            .increment(1);
        tracing::info!(
            notice = %notice.id,
            category = v.category.as_str(),
            recipients = recipients.len(),
            resolve_secs,
            bus_requests,
            "notice published"
        );
        self.sender.wake();
        Ok(notice)
    }

    async fn by_event(&self, event_id: &str) -> AppResult<Option<notice::Model>> {
        Ok(notice::Entity::find()
            .filter(notice::Column::SourceEventId.eq(event_id))
            .one(&self.db)
            .await?)
    }
}

fn queued(notice_id: &str, r: &Recipient, now: i64) -> delivery::ActiveModel {
    delivery::ActiveModel {
        id: Set(format!("{notice_id}|{}", r.key)),
        notice_id: Set(notice_id.to_string()),
        user_id: Set(r.user_id.clone()),
        contract_id: Set(r.contract_id.clone()),
        address: Set(r.address.clone()),
        channel: Set("EMAIL".into()),
        cc: Set(r.cc),
        status: Set(QUEUED.into()),
        attempts: Set(0),
        last_error: Set(None),
        sent_at: Set(None),
        next_attempt_at: Set(now),
        lease_until: Set(0),
        lease_owner: Set(String::new()),
        created_at: Set(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NoticeInput {
        NoticeInput {
            category: Category::Failure,
            title: " Network outage ".into(),
            body: "jp1 is unreachable".into(),
            title_ja: Some("ネットワーク障害".into()),
            body_ja: None,
            contract_ids: vec![],
            tenant_ids: vec![],
            starts_at: None,
            ends_at: None,
        }
    }

    #[test]
    fn input_is_checked_before_anything_happens() {
        let v = validate(input()).unwrap();
        assert_eq!(v.title, "Network outage");
        assert_eq!(v.title_ja.as_deref(), Some("ネットワーク障害"));
        assert!(v.scope.all);
        let mut bad = input();
        bad.title = "  ".into();
        assert_eq!(validate(bad).err().unwrap().field.as_deref(), Some("title"));
        let mut bad = input();
        bad.tenant_ids = vec!["econ0000000001".into()];
        assert_eq!(
            validate(bad).err().unwrap().field.as_deref(),
            Some("tenantIds")
        );
        let mut bad = input();
        bad.contract_ids = vec!["nope".into()];
        assert_eq!(
            validate(bad).err().unwrap().field.as_deref(),
            Some("contractIds")
        );
        let mut bad = input();
        bad.starts_at = Some(chrono::Utc::now());
        bad.ends_at = Some(chrono::Utc::now() - chrono::Duration::hours(1));
        assert_eq!(
            validate(bad).err().unwrap().field.as_deref(),
            Some("endsAt")
        );
        let mut bad = input();
        bad.title = "".into();
        bad.body = "".into();
        bad.contract_ids = vec!["nope".into()];
        let fields: Vec<_> = validate(bad)
            .err()
            .unwrap()
            .fields
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(fields, ["title", "body", "contractIds"], "all at once");
    }
}
