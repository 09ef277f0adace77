//! Recording an incident (operator): a menu of the price list, the affected tenants (named, or
//! every tenant of a region), a cause, a start and maybe already a restoration. The incident,
//! one `affected` row per tenant and the `FAILURE` notice request are one transaction.

use crate::{
    Sla, access,
    entity::{affected, incident},
    notices::Notice,
    views,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Month, validate};
use ecl_proto::{
    notification::Category,
    sla::{IncidentInput, IncidentView},
};
use sea_orm::{EntityTrait, Set, TransactionTrait};

/// What an incident or a maintenance window affects, as stored: one row per tenant.
pub(crate) struct Window<'a> {
    pub event_id: &'a str,
    pub menu_code: &'a str,
    /// `INCIDENT` or `MAINTENANCE`.
    pub kind: &'a str,
    pub cause: &'a str,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
}

/// Stores `w` for `tenants` (tenant, contract), in chunks the databases accept.
pub(crate) async fn insert_affected<C: sea_orm::ConnectionTrait>(
    db: &C,
    w: Window<'_>,
    tenants: &[(String, String)],
    now: i64,
) -> AppResult<()> {
    let rows: Vec<affected::ActiveModel> = tenants
        .iter()
        .map(|(t, c)| affected::ActiveModel {
            event_id: Set(w.event_id.to_string()),
            tenant_id: Set(t.clone()),
            contract_id: Set(c.clone()),
            menu_code: Set(w.menu_code.to_string()),
            kind: Set(w.kind.to_string()),
            cause: Set(w.cause.to_string()),
            starts_at: Set(w.starts_at),
            ends_at: Set(w.ends_at),
            created_at: Set(now),
        })
        .collect();
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
        let month = Month::containing(input.started_at);
        let menu = self.menu(ctx, &input.menu_code, month).await?;
        let tenants = self.affected(ctx, &input.affected).await?;
        let now = self.clock.now().timestamp_micros();
        let row = incident::Model {
            id: ecl_kernel::ids::new_id("inc"),
            menu_code: menu.code.clone(),
            cause: input.cause,
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
        let tenant_ids: Vec<String> = tenants.iter().map(|(t, _)| t.clone()).collect();
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
        let window = Window {
            event_id: &row.id,
            menu_code: &row.menu_code,
            kind: "INCIDENT",
            cause: row.cause.as_str(),
            starts_at: row.started_at,
            ends_at: row.restored_at,
        };
        insert_affected(&txn, window, &tenants, now).await?;
        self.outbox.commit_with(txn, &ctx.trace_id, &notice).await?;
        metrics::counter!("ecl_sla_incidents_total", "cause" => input.cause.as_str()).increment(1);
        views::incident(&row, tenant_ids)
    }
}
