//! Changing a contract's name, external id or customer information (SPEC §2): every given field
//! is checked before any is changed.

use crate::{
    ABOLISHED, Contracts, customer::customer_input, entity::contract,
    external_id::external_id_input, views::view,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Validation, validate};
use ecl_proto::contract::{ContractChange, ContractChanged, ContractView, UpdateContract};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};

impl Contracts {
    pub async fn update(&self, ctx: &CallCtx, req: UpdateContract) -> AppResult<ContractView> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let c = self.visible(&access, &req.id).await?;
        if !access.may_change(&c) {
            return Err(AppError::forbidden("not allowed to change this contract"));
        }
        if c.status == ABOLISHED {
            return Err(AppError::conflict("the contract is abolished"));
        }
        // Every given field is checked before any is changed.
        let mut v = Validation::new();
        let name = req
            .name
            .as_deref()
            .map(|n| v.value(validate::text("name", n, 200)));
        let ext = req
            .external_id
            .as_deref()
            .map(|e| v.value(external_id_input(c.kind, e)));
        let cust = match &req.customer {
            Some(_) if !access.sees_customer(&c) => {
                v.add(AppError::forbidden(
                    "only the owner changes customer information",
                ));
                None
            }
            Some(cust) => Some(v.value(customer_input(cust))),
            None => None,
        };
        v.finish()?;
        let mut am: contract::ActiveModel = c.clone().into();
        if let Some(name) = name {
            am.name_lower = Set(name.to_lowercase());
            am.name = Set(name);
        }
        if let Some(ext) = ext {
            // Unique among the partner's children, as on creation.
            if let (Some(p), Some(e)) = (&c.parent_id, &ext) {
                self.external_id_free(p, e, Some(&c.id)).await?;
            }
            am.external_id = Set(ext);
        }
        if let Some(cust) = cust {
            am.company = Set(cust.company);
            am.address = Set(cust.address);
            am.contact_name = Set(cust.contact_name);
            am.contact_email = Set(cust.contact_email);
        }
        let txn = self.db.begin().await?;
        let c = am.update(&txn).await?;
        let v = view(&c, &access);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &ContractChanged {
                    contract: v.clone(),
                    change: ContractChange::Updated,
                },
            )
            .await?;
        Ok(v)
    }
}
