//! Recording a bare-metal part replacement (operator): the server (a tenant's resource of a
//! menu), the failed part, T1, T2, T3 and the actual start when known. Times in order: T2 and
//! T3 not before T1.

use crate::{Sla, access, entity::part_replacement, views};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Month, validate};
use ecl_proto::sla::{Affected, PartReplacementInput, PartReplacementView};
use sea_orm::EntityTrait;

impl Sla {
    pub(crate) async fn record_part_replacement(
        &self,
        ctx: &CallCtx,
        input: PartReplacementInput,
    ) -> AppResult<PartReplacementView> {
        access::operator(ctx, "record part replacements")?;
        let resource_id = validate::text("resourceId", &input.resource_id, 200)?;
        if input.proposed_at < input.detected_at {
            return Err(AppError::invalid(
                "proposedAt",
                "proposedAt (T2) must not be before detectedAt (T1)",
            ));
        }
        if input.agreed_start_at < input.detected_at {
            return Err(AppError::invalid(
                "agreedStartAt",
                "agreedStartAt (T3) must not be before detectedAt (T1)",
            ));
        }
        if let Some(s) = input.started_at
            && s < input.detected_at
        {
            return Err(AppError::invalid(
                "startedAt",
                "startedAt must not be before detectedAt (T1)",
            ));
        }
        let month = Month::containing(input.detected_at);
        let menu = self.menu(ctx, &input.menu_code, month).await?;
        let tenants = self
            .affected(
                ctx,
                &Affected {
                    tenant_ids: vec![input.tenant_id.clone()],
                    region: None,
                },
            )
            .await
            .map_err(|e| AppError {
                field: e.field.as_ref().map(|_| "tenantId".to_string()),
                ..e
            })?;
        let (tenant_id, contract_id) = tenants
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found(format!("tenant {}", input.tenant_id)))?;
        let now = self.clock.now();
        let row = part_replacement::Model {
            id: ecl_kernel::ids::new_id("prt"),
            contract_id,
            tenant_id,
            menu_code: menu.code,
            resource_id,
            part: input.part,
            detected_at: input.detected_at.timestamp_micros(),
            proposed_at: input.proposed_at.timestamp_micros(),
            agreed_start_at: input.agreed_start_at.timestamp_micros(),
            started_at: input.started_at.map(|t| t.timestamp_micros()),
            created_at: now.timestamp_micros(),
        };
        part_replacement::Entity::insert(part_replacement::ActiveModel::from(row.clone()))
            .exec_without_returning(&self.db)
            .await?;
        views::part(&row, now)
    }
}
