//! Creating a tenant (SPEC §3): a tenant belongs to one contract and one region (`jp1`, `jp2`,
//! `us1`, …) and is created by the contract's owner and admins, or by its partner's for a child
//! (within their contract groups), while the contract is active; it is placed in the given
//! workspace or the contract's default one, and announced (`TenantChanged`, `Created`).

use crate::{Tenants, entity::tenant, view};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Validation, validate};
use ecl_proto::{
    contract::ContractStatus,
    tenant::{CreateTenant, TenantChanged, TenantView},
};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};

/// Regions look like `jp1`, `jp2`, `us1`: two to four letters and a number.
pub(crate) fn region(r: &str) -> AppResult<String> {
    let r = r.trim().to_ascii_lowercase();
    let letters = r.chars().take_while(|c| c.is_ascii_lowercase()).count();
    let digits = &r[letters..];
    if (2..=4).contains(&letters)
        && !digits.is_empty()
        && digits.len() <= 2
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(r)
    } else {
        Err(AppError::invalid(
            "region",
            format!("unknown region {r:?} (e.g. jp1, jp2, us1)"),
        ))
    }
}

impl Tenants {
    pub(crate) async fn create(&self, ctx: &CallCtx, req: CreateTenant) -> AppResult<TenantView> {
        let mut v = Validation::new();
        let name = v.value(validate::text("name", &req.name, 100));
        let region = v.value(region(&req.region));
        v.finish()?;
        let c = self.contract(ctx, &req.contract_id).await?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) create tenants",
            ));
        }
        if c.status != ContractStatus::Active {
            return Err(AppError::conflict("the contract is abolished"));
        }
        let workspace_id = self
            .workspace_for(&c.id, req.workspace_id.as_deref())
            .await?;
        let row = tenant::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("ten")),
            contract_id: Set(c.id),
            name: Set(name),
            region: Set(region),
            workspace_id: Set(workspace_id),
            created_at: Set(self.clock.now().timestamp_micros()),
        };
        let txn = self.db.begin().await?;
        let t = view(&row.insert(&txn).await?);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &TenantChanged {
                    tenant: t.clone(),
                    change: ecl_proto::tenant::TenantChange::Created,
                },
            )
            .await?;
        Ok(t)
    }
}
