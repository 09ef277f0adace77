//! Reading notices back: what the caller received, a notice's delivery log (for the operator, and
//! a contract's managers for their recipients), and the log's counts.

use crate::{
    Notifications, denied,
    entity::{delivery, notice},
    publish::{FAILED, QUEUED, SENT},
    ts, view,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::{
    Page,
    contract::GetContracts,
    notification::{
        DeliveryCounts, DeliveryStats, DeliveryStatus, DeliveryView, ListDeliveries, ListNotices,
    },
};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Query,
};

fn delivery_view(d: &delivery::Model) -> DeliveryView {
    DeliveryView {
        id: d.id.clone(),
        notice_id: d.notice_id.clone(),
        user_id: d.user_id.clone(),
        contract_id: d.contract_id.clone(),
        address: d.address.clone(),
        channel: d.channel.clone(),
        cc: d.cc,
        status: match d.status.as_str() {
            SENT => DeliveryStatus::Sent,
            FAILED => DeliveryStatus::Failed,
            _ => DeliveryStatus::Queued,
        },
        attempts: d.attempts.max(0) as u32,
        last_error: d.last_error.clone(),
        sent_at: d.sent_at.map(ts),
        created_at: ts(d.created_at),
    }
}

impl Notifications {
    pub(crate) async fn list_notices(
        &self,
        ctx: &CallCtx,
        req: ListNotices,
    ) -> AppResult<Page<ecl_proto::notification::NoticeView>> {
        let received = |col: delivery::Column, v: &str| {
            notice::Column::Id.in_subquery(
                Query::select()
                    .column(delivery::Column::NoticeId)
                    .from(delivery::Entity)
                    .and_where(col.eq(v))
                    .to_owned(),
            )
        };
        let mut cond = match &ctx.principal {
            Principal::Anonymous => return Err(AppError::unauthenticated()),
            p if p.is_operator() => Condition::all(),
            Principal::User { user_id, .. } => {
                Condition::all().add(received(delivery::Column::UserId, user_id))
            }
            Principal::ApiKey { contract_id, .. } => {
                Condition::all().add(received(delivery::Column::ContractId, contract_id))
            }
            Principal::System { .. } => Condition::all(),
        };
        if let Some(c) = req.filter.category {
            cond = cond.add(notice::Column::Category.eq(c.as_str()));
        }
        ecl_store::paging::page::<notice::Entity, _, _>(
            &self.db,
            cond,
            &req.page,
            (notice::Column::CreatedAt, notice::Column::Id),
            |n| (n.created_at, n.id.clone()),
            view,
        )
        .await
    }

    pub(crate) async fn list_deliveries(
        &self,
        ctx: &CallCtx,
        req: ListDeliveries,
    ) -> AppResult<Vec<(String, Page<DeliveryView>)>> {
        req.page.limit()?;
        let scope = match &ctx.principal {
            Principal::Anonymous => return Err(AppError::unauthenticated()),
            p if p.is_operator() => Condition::all(),
            p if p.is_manager() => {
                // The recipients' contracts the caller manages — the contract service's call.
                let contracts: Vec<String> = delivery::Entity::find()
                    .select_only()
                    .column(delivery::Column::ContractId)
                    .distinct()
                    .filter(delivery::Column::NoticeId.is_in(req.notice_ids.clone()))
                    .into_tuple()
                    .all(&self.db)
                    .await?;
                let managed: Vec<String> = if contracts.is_empty() {
                    Vec::new()
                } else {
                    self.bus
                        .call(ctx, &GetContracts { ids: contracts })
                        .await?
                        .into_iter()
                        .filter(|c| c.managed)
                        .map(|c| c.id)
                        .collect()
                };
                Condition::all().add(delivery::Column::ContractId.is_in(managed))
            }
            // General users see no delivery log.
            _ => {
                return Ok(ecl_store::paging::in_order(
                    req.notice_ids,
                    Default::default(),
                ));
            }
        };
        let pages = ecl_store::paging::page_each::<delivery::Entity, _, _>(
            &self.db,
            (delivery::Column::NoticeId, &req.notice_ids),
            scope,
            &req.page,
            (delivery::Column::CreatedAt, delivery::Column::Id),
            |d| d.notice_id.clone(),
            |d| (d.created_at, d.id.clone()),
            delivery_view,
        )
        .await?;
        Ok(ecl_store::paging::in_order(req.notice_ids, pages))
    }

    pub(crate) async fn stats(
        &self,
        ctx: &CallCtx,
        req: DeliveryStats,
    ) -> AppResult<DeliveryCounts> {
        if !ctx.principal.is_operator() {
            return Err(denied(
                &ctx.principal,
                "only operators read the delivery counts",
            ));
        }
        let count = |status: &'static str| {
            let mut q = delivery::Entity::find().filter(delivery::Column::Status.eq(status));
            if let Some(n) = &req.notice_id {
                q = q.filter(delivery::Column::NoticeId.eq(n.clone()));
            }
            q.count(&self.db)
        };
        Ok(DeliveryCounts {
            queued: count(QUEUED).await?,
            sent: count(SENT).await?,
            failed: count(FAILED).await?,
        })
    }
}
