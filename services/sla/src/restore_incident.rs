//! Restoring an incident (operator): its end is recorded once (a second restoration is a
//! `CONFLICT`, one before the start `INVALID_INPUT`) on the incident and its affected rows, and
//! the follow-up `FAILURE` notice is requested in the same transaction.

use crate::{
    Sla, access,
    entity::{affected, incident},
    notices::Notice,
    views,
};
use chrono::{DateTime, Utc};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{notification::Category, sla::IncidentView};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};

impl Sla {
    pub(crate) async fn restore_incident(
        &self,
        ctx: &CallCtx,
        id: &str,
        restored_at: DateTime<Utc>,
    ) -> AppResult<IncidentView> {
        access::operator(ctx, "restore incidents")?;
        let found = incident::Entity::find_by_id(id.trim())
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found(format!("incident {id}")))?;
        if found.restored_at.is_some() {
            return Err(AppError::conflict(format!(
                "incident {id} is restored already"
            )));
        }
        let at = restored_at.timestamp_micros();
        if at < found.started_at {
            return Err(AppError::invalid(
                "restoredAt",
                "restoredAt must not be before the incident's start",
            ));
        }
        let tenant_ids: Vec<String> = affected::Entity::find()
            .filter(affected::Column::EventId.eq(&found.id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| a.tenant_id)
            .collect();
        let notice = Notice {
            category: Category::Failure,
            what: "restored",
            title: &found.title,
            menu_code: &found.menu_code,
            description: found.description.as_deref(),
            tenant_ids: tenant_ids.clone(),
            starts_at: views::ts(found.started_at),
            ends_at: Some(restored_at),
        }
        .request();
        let txn = self.db.begin().await?;
        // Only if still open: two operators restoring at once, one wins.
        let done = incident::Entity::update_many()
            .col_expr(incident::Column::RestoredAt, Expr::value(at))
            .filter(incident::Column::Id.eq(&found.id))
            .filter(incident::Column::RestoredAt.is_null())
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(AppError::conflict(format!(
                "incident {id} is restored already"
            )));
        }
        affected::Entity::update_many()
            .col_expr(affected::Column::EndsAt, Expr::value(at))
            .filter(affected::Column::EventId.eq(&found.id))
            .exec(&txn)
            .await?;
        self.outbox.commit_with(txn, &ctx.trace_id, &notice).await?;
        let model = incident::Model {
            restored_at: Some(at),
            ..found
        };
        views::incident(&model, tenant_ids)
    }
}
