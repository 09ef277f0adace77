//! Who may do what here. The operator records incidents, maintenance and part replacements and
//! decides claims; everything about a contract (its availability, claims, credits, incidents) is
//! for those the contract service lets see it — asked once per batch, however many contracts —
//! and, being money, for those who may see its bills.

use crate::Sla;
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::contract::{ContractView, GetContracts};
use std::collections::HashMap;

/// Operator users (and the platform itself); others are refused.
pub fn operator(ctx: &CallCtx, what: &str) -> AppResult<()> {
    match &ctx.principal {
        Principal::Anonymous => Err(AppError::unauthenticated()),
        p if p.is_operator() => Ok(()),
        _ => Err(AppError::forbidden(format!("only operators {what}"))),
    }
}

impl Sla {
    /// The contracts of `ids` the caller may see (one `GetContracts`), by id.
    pub(crate) async fn visible(
        &self,
        ctx: &CallCtx,
        ids: Vec<String>,
    ) -> AppResult<HashMap<String, ContractView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .bus
            .call(ctx, &GetContracts { ids })
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect())
    }

    /// As [`Sla::visible`], for money (availability with credits, claims, credits): nothing for
    /// a caller who may not see bills.
    pub(crate) async fn visible_money(
        &self,
        ctx: &CallCtx,
        ids: Vec<String>,
    ) -> AppResult<HashMap<String, ContractView>> {
        if !matches!(ctx.principal, Principal::Anonymous) && !ctx.principal.may_see_usage() {
            return Ok(HashMap::new());
        }
        self.visible(ctx, ids).await
    }
}
