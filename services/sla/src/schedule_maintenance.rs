//! Scheduling a maintenance window (operator), announced in advance or urgent: neither is
//! downtime. The window, its affected rows and the `MAINTENANCE` notice request are one
//! transaction.

use crate::{
    Sla, access,
    entity::maintenance,
    notices::Notice,
    record_incident::{Window, insert_affected},
    views,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Month, validate};
use ecl_proto::{
    notification::Category,
    sla::{MaintenanceInput, MaintenanceView},
};
use sea_orm::{EntityTrait, TransactionTrait};

impl Sla {
    pub(crate) async fn schedule_maintenance(
        &self,
        ctx: &CallCtx,
        input: MaintenanceInput,
    ) -> AppResult<MaintenanceView> {
        access::operator(ctx, "schedule maintenance")?;
        let title = validate::text("title", &input.title, 200)?;
        let description = match input.description.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => Some(validate::text("description", d, 20_000)?),
            _ => None,
        };
        if input.ends_at <= input.starts_at {
            return Err(AppError::invalid("endsAt", "endsAt must be after startsAt"));
        }
        let month = Month::containing(input.starts_at);
        let menu = self.menu(ctx, &input.menu_code, month).await?;
        let tenants = self.affected(ctx, &input.affected).await?;
        let now = self.clock.now().timestamp_micros();
        let row = maintenance::Model {
            id: ecl_kernel::ids::new_id("mnt"),
            kind: input.kind,
            menu_code: menu.code,
            title,
            description,
            region: input
                .affected
                .region
                .as_deref()
                .map(|r| r.trim().to_string()),
            starts_at: input.starts_at.timestamp_micros(),
            ends_at: input.ends_at.timestamp_micros(),
            created_by: ctx.principal.label(),
            created_at: now,
        };
        let tenant_ids: Vec<String> = tenants.iter().map(|(t, _)| t.clone()).collect();
        let notice = Notice {
            category: Category::Maintenance,
            what: "maintenance",
            title: &row.title,
            menu_code: &row.menu_code,
            description: row.description.as_deref(),
            tenant_ids: tenant_ids.clone(),
            starts_at: input.starts_at,
            ends_at: Some(input.ends_at),
        }
        .request();
        let txn = self.db.begin().await?;
        maintenance::Entity::insert(maintenance::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await?;
        let window = Window {
            event_id: &row.id,
            menu_code: &row.menu_code,
            kind: "MAINTENANCE",
            cause: "MAINTENANCE",
            starts_at: row.starts_at,
            ends_at: Some(row.ends_at),
        };
        insert_affected(&txn, window, &tenants, now).await?;
        self.outbox.commit_with(txn, &ctx.trace_id, &notice).await?;
        views::maintenance(&row, tenant_ids)
    }
}
