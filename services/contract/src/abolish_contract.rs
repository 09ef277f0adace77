//! Abolishing a contract (SPEC §2): never while it has active children; with tenants only when
//! forced. Tenant and identity services react to the event (delete tenants, revoke users).

use crate::{ABOLISHED, ACTIVE, Contracts, entity::contract, views::view};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    contract::{AbolishContract, ContractChange, ContractChanged, ContractView},
    tenant::CountTenants,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};

impl Contracts {
    pub async fn abolish(&self, ctx: &CallCtx, req: AbolishContract) -> AppResult<ContractView> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let c = self.visible(&access, &req.id).await?;
        let allowed = match &c.parent_id {
            Some(_) => who.is_operator() || access.manages_child(&c),
            None => who.is_operator(),
        };
        if !allowed {
            return Err(AppError::forbidden("not allowed to abolish this contract"));
        }
        if c.status == ABOLISHED {
            return Ok(view(&c, &access)); // idempotent
        }
        let active_children = contract::Entity::find()
            .filter(contract::Column::ParentId.eq(c.id.clone()))
            .filter(contract::Column::Status.eq(ACTIVE))
            .count(&self.db)
            .await?;
        if active_children > 0 {
            return Err(AppError::conflict(format!(
                "the contract still has {active_children} active child contracts"
            )));
        }
        let counts = self
            .bus
            .call(
                ctx,
                &CountTenants {
                    contract_ids: vec![c.id.clone()],
                },
            )
            .await?;
        let tenants: u64 = counts.iter().map(|(_, n)| n).sum();
        if tenants > 0 && !req.force {
            return Err(AppError::conflict(format!(
                "the contract still has {tenants} tenants; abolish with force to delete them"
            )));
        }
        let mut am: contract::ActiveModel = c.into();
        am.status = Set(ABOLISHED.into());
        am.abolished_at = Set(Some(self.clock.now().timestamp_micros()));
        let txn = self.db.begin().await?;
        let c = am.update(&txn).await?;
        let v = view(&c, &access);
        // Tenant and identity services react to this event (delete tenants, revoke users).
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &ContractChanged {
                    contract: v.clone(),
                    change: ContractChange::Abolished,
                },
            )
            .await?;
        Ok(v)
    }
}
