//! Filing a claim (a contract's owner and admins; a partner's for its children): it names the
//! breached service level — an incident affecting one of the contract's tenants, or a part
//! replacement of one of its servers — within 30 days of the failure, for a contract without an
//! overdue payment (billing's answer). One claim per contract, month and breached level: a second
//! is a `CONFLICT`. Nothing is stored when refused.

use crate::{
    Sla,
    claims::may_file,
    entity::{affected, claim, incident, part_replacement},
    views,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, ContractId, Month, Principal};
use ecl_proto::sla::{BreachKind, ClaimInput, ClaimStatus, ClaimView, OverdueContracts};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

impl Sla {
    pub(crate) async fn file_claim(
        &self,
        ctx: &CallCtx,
        input: ClaimInput,
    ) -> AppResult<ClaimView> {
        let contract_id = ContractId::parse(input.contract_id.trim())
            .map_err(|e| AppError::invalid("contractId", e.message))?
            .to_string();
        let seen = self.visible(ctx, vec![contract_id.clone()]).await?;
        let Some(contract) = seen.get(&contract_id) else {
            return Err(AppError::not_found(format!("contract {contract_id}")));
        };
        if !contract.managed || (!ctx.principal.is_manager() && !ctx.principal.is_operator()) {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) file claims",
            ));
        }
        let note = match input.note.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => Some(ecl_kernel::validate::text("note", n, 5_000)?),
            _ => None,
        };
        let not_found = || AppError {
            field: Some("breachId".into()),
            ..AppError::not_found(format!(
                "{} {} of contract {contract_id}",
                input.breach_kind.as_str().to_lowercase(),
                input.breach_id
            ))
        };
        let breach_id = input.breach_id.trim().to_string();
        let (failure_at, menu_code, key_tail) = match input.breach_kind {
            BreachKind::Incident => {
                let inc = incident::Entity::find_by_id(&breach_id)
                    .one(&self.db)
                    .await?
                    .ok_or_else(not_found)?;
                let ours = affected::Entity::find()
                    .filter(affected::Column::EventId.eq(&inc.id))
                    .filter(affected::Column::ContractId.eq(&contract_id))
                    .one(&self.db)
                    .await?;
                if ours.is_none() {
                    return Err(not_found());
                }
                (inc.started_at, inc.menu_code.clone(), inc.menu_code)
            }
            BreachKind::PartReplacement => {
                let p = part_replacement::Entity::find_by_id(&breach_id)
                    .one(&self.db)
                    .await?
                    .filter(|p| p.contract_id == contract_id)
                    .ok_or_else(not_found)?;
                (
                    p.detected_at,
                    p.menu_code,
                    format!("part|{}", p.resource_id),
                )
            }
        };
        let failure = views::ts(failure_at);
        let month = Month::containing(failure);
        let now = self.clock.now();
        // Late is decided first: it needs no other service.
        may_file(failure, now, false)?;
        let system = ctx.as_principal(Principal::system(crate::NAME));
        let overdue = self
            .bus
            .call(
                &system,
                &OverdueContracts {
                    contract_ids: vec![contract_id.clone()],
                },
            )
            .await?
            .contains(&contract_id);
        may_file(failure, now, overdue)?;
        let row = claim::Model {
            id: ecl_kernel::ids::new_id("clm"),
            contract_id: contract_id.clone(),
            breach_kind: input.breach_kind,
            breach_id,
            breach_key: format!("{contract_id}|{month}|{key_tail}"),
            month,
            menu_code,
            note,
            status: ClaimStatus::Pending,
            amount: None,
            currency: None,
            reason: None,
            filed_by: ctx.principal.label(),
            filed_at: now.timestamp_micros(),
            decided_by: None,
            decided_at: None,
            bill_month: None,
        };
        let dup = claim::Entity::find()
            .filter(claim::Column::BreachKey.eq(&row.breach_key))
            .one(&self.db)
            .await?;
        if dup.is_some() {
            return Err(AppError::conflict(
                "this breach is claimed already (one claim per contract, month and service level)",
            ));
        }
        claim::Entity::insert(claim::ActiveModel::from(row.clone()))
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| match AppError::from(e) {
                // Filed at the same moment by someone else.
                e if e.code == ecl_kernel::ErrorCode::Conflict => {
                    AppError::conflict("this breach is claimed already")
                }
                e => e,
            })?;
        views::claim(&row)
    }
}
