//! Recording an incident (operator): a menu of the price list, the affected tenants (named, or
//! every tenant of a region), a cause, a start and maybe already a restoration. The incident,
//! one `affected` row per tenant and the `FAILURE` notice request are one transaction.

use crate::{
    Sla, access,
    entity::{affected, incident},
    notices::Notice,
    uptime::{month_label, month_of},
    views,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, validate};
use ecl_proto::{
    notification::Category,
    sla::{IncidentInput, IncidentView},
};
use sea_orm::{EntityTrait, Set, TransactionTrait};

/// Rows for `tenants` of an incident or a maintenance window, in chunks the databases accept.
pub(crate) async fn insert_affected<C: sea_orm::ConnectionTrait>(
    db: &C,
    rows: Vec<affected::ActiveModel>,
) -> AppResult<()> {
    for chunk in rows.chunks(1_000) {
        affected::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

impl Sla {
    pub(crate) async fn record_incident(
        &self,
        ctx: &CallCtx,
        input: IncidentInput,
    ) -> AppResult<IncidentView> {
        access::operator(ctx, "record incidents")?;
        let title = validate::text("title", &input.title, 200)?;
        let description = match input.description.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => Some(validate::text("description", d, 20_000)?),
            _ => None,
        };
        if let Some(r) = input.restored_at
            && r < input.started_at
        {
            return Err(AppError::invalid(
                "restoredAt",
                "restoredAt must not be before startedAt",
            ));
        }
        let month = month_label(month_of(input.started_at));
        let menu = self.menu(ctx, &input.menu_code, &month).await?;
        let tenants = self.affected(ctx, &input.affected).await?;
        let now = self.clock.now().timestamp_micros();
        let row = incident::Model {
            id: ecl_kernel::ids::new_id("inc"),
            menu_code: menu.code.clone(),
            cause: input.cause.as_str().into(),
            title,
            description,
            region: input
                .affected
                .region
                .as_deref()
                .map(|r| r.trim().to_string()),
            started_at: input.started_at.timestamp_micros(),
            restored_at: input.restored_at.map(|t| t.timestamp_micros()),
            created_by: ctx.principal.label(),
            created_at: now,
        };
        let rows = tenants
            .iter()
            .map(|(t, c)| affected::ActiveModel {
                event_id: Set(row.id.clone()),
                tenant_id: Set(t.clone()),
                contract_id: Set(c.clone()),
                menu_code: Set(row.menu_code.clone()),
                kind: Set("INCIDENT".into()),
                cause: Set(row.cause.clone()),
                starts_at: Set(row.started_at),
                ends_at: Set(row.restored_at),
                created_at: Set(now),
            })
            .collect();
        let tenant_ids: Vec<String> = tenants.into_iter().map(|(t, _)| t).collect();
        let notice = Notice {
            category: Category::Failure,
            what: if input.restored_at.is_some() {
                "restored"
            } else {
                "failure"
            },
            title: &row.title,
            menu_code: &row.menu_code,
            description: row.description.as_deref(),
            tenant_ids: tenant_ids.clone(),
            starts_at: input.started_at,
            ends_at: input.restored_at,
        }
        .request();
        let txn = self.db.begin().await?;
        incident::Entity::insert(incident::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await?;
        insert_affected(&txn, rows).await?;
        self.outbox.commit_with(txn, &ctx.trace_id, &notice).await?;
        metrics::counter!("ecl_sla_incidents_total", "cause" => input.cause.as_str()).increment(1);
        views::incident(&row, tenant_ids)
    }
}
