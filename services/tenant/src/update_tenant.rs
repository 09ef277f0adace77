//! Changing a tenant (SPEC §3): its name and its workspace, by those who may create it — the
//! contract's owner and admins, or its partner's within their groups. Every given field is
//! checked before any is changed (all bad fields reported at once), and the change is announced
//! as creation is (`TenantChanged`, `TenantChange::Updated`).

use crate::{Tenants, entity::tenant, view};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Validation, validate};
use ecl_proto::{
    contract::ContractStatus,
    tenant::{TenantChange, TenantChanged, TenantView, UpdateTenant},
};
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};

impl Tenants {
    pub(crate) async fn update_tenant(
        &self,
        ctx: &CallCtx,
        req: UpdateTenant,
    ) -> AppResult<TenantView> {
        let id = ecl_kernel::ids::parse_id("id", "ten", &req.id)?;
        let not_found = || AppError::not_found(format!("tenant {id}"));
        let t = tenant::Entity::find_by_id(id.clone())
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let c = self
            .contract(ctx, &t.contract_id)
            .await
            .map_err(|e| e.hidden_as(not_found))?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) change tenants",
            ));
        }
        if c.status != ContractStatus::Active {
            return Err(AppError::conflict("the contract is abolished"));
        }
        let mut v = Validation::new();
        let name = req
            .name
            .as_deref()
            .map(|n| v.value(validate::text("name", n, 100)));
        let workspace_id = match req.workspace_id.as_deref() {
            Some(w) if w.trim().is_empty() => {
                v.add(AppError::invalid(
                    "workspaceId",
                    "workspaceId must name a workspace of the contract",
                ));
                None
            }
            Some(w) => Some(v.value(self.workspace_for(&c.id, Some(w)).await)),
            None => None,
        };
        v.finish()?;
        let changed = name.as_ref().is_some_and(|n| *n != t.name)
            || workspace_id.as_ref().is_some_and(|w| *w != t.workspace_id);
        if !changed {
            return Ok(view(&t));
        }
        let mut am: tenant::ActiveModel = t.into();
        if let Some(name) = name {
            am.name = Set(name);
        }
        if let Some(w) = workspace_id {
            am.workspace_id = Set(w);
        }
        let txn = self.db.begin().await?;
        let t = view(&am.update(&txn).await?);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &TenantChanged {
                    tenant: t.clone(),
                    change: TenantChange::Updated,
                },
            )
            .await?;
        Ok(t)
    }
}
