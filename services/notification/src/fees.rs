//! Contract and fee mails: billing's month close fixes the bills, and each contract's contact
//! person gets "your bill for YYYY-MM is fixed" (`CONTRACT_FEE`, not subject to opt-outs). One
//! notice per contract (its amount differs), all in one transaction and one bus request for the
//! contact addresses; each notice remembers `<event id>:<contract>`, so a redelivered event
//! queues nothing twice.

use crate::{
    Notifications,
    entity::{delivery, notice},
    publish::QUEUED,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppResult, Principal};
use ecl_proto::{billing::MonthClosed, contract::NoticeAudience, notification::Category};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait, sea_query::OnConflict,
};
use std::collections::{HashMap, HashSet};

impl Notifications {
    pub(crate) async fn on_month_closed(
        &self,
        ctx: &CallCtx,
        event_id: &str,
        ev: MonthClosed,
    ) -> AppResult<()> {
        let key = |c: &str| format!("{event_id}:{c}");
        let keys: Vec<String> = ev.bills.iter().map(|b| key(&b.contract_id)).collect();
        let mut done: HashSet<String> = HashSet::new();
        for chunk in keys.chunks(5_000) {
            done.extend(
                notice::Entity::find()
                    .filter(notice::Column::SourceEventId.is_in(chunk.to_vec()))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .filter_map(|n| n.source_event_id),
            );
        }
        let todo: Vec<_> = ev
            .bills
            .iter()
            .filter(|b| !done.contains(&key(&b.contract_id)))
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let system = ctx.as_principal(Principal::system(crate::NAME));
        let contacts: HashMap<String, String> = self
            .bus
            .call(
                &system,
                &NoticeAudience {
                    ids: todo.iter().map(|b| b.contract_id.clone()).collect(),
                    all: false,
                },
            )
            .await?
            .into_iter()
            .map(|c| (c.id, c.contact_email))
            .collect();
        let now = self.clock.now().timestamp_micros();
        let txn = self.db.begin().await?;
        for b in todo {
            let Some(address) = contacts.get(&b.contract_id) else {
                continue;
            };
            let id = ecl_kernel::ids::new_id("ntc");
            let row = notice::ActiveModel {
                id: Set(id.clone()),
                category: Set(Category::ContractFee.as_str().into()),
                title: Set(format!("Your bill for {} is fixed", ev.month)),
                body: Set(format!(
                    "The bill of contract {} for {} is fixed: {} {} (tax included).",
                    b.contract_id, ev.month, b.total, b.currency
                )),
                title_ja: Set(Some(format!("{} 分のご請求額が確定しました", ev.month))),
                body_ja: Set(Some(format!(
                    "ご契約 {} の {} 分のご請求額が確定しました: {} {}(税込)",
                    b.contract_id, ev.month, b.total, b.currency
                ))),
                contract_ids: Set(serde_json::to_string(&[&b.contract_id]).unwrap_or_default()),
                tenant_ids: Set("[]".into()),
                starts_at: Set(None),
                ends_at: Set(None),
                source: Set("billing".into()),
                source_event_id: Set(Some(key(&b.contract_id))),
                recipients: Set(1),
                created_at: Set(now),
            };
            let inserted = notice::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(notice::Column::SourceEventId)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
            if inserted == 0 {
                continue; // handled meanwhile by another replica
            }
            delivery::Entity::insert(delivery::ActiveModel {
                id: Set(format!("{id}|contact:{}", b.contract_id)),
                notice_id: Set(id),
                user_id: Set(None),
                contract_id: Set(b.contract_id.clone()),
                address: Set(address.clone()),
                channel: Set("EMAIL".into()),
                cc: Set(false),
                status: Set(QUEUED.into()),
                attempts: Set(0),
                last_error: Set(None),
                sent_at: Set(None),
                next_attempt_at: Set(now),
                lease_until: Set(0),
                lease_owner: Set(String::new()),
                created_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        self.sender.wake();
        Ok(())
    }
}
