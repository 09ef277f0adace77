//! The partner's suppression (seed 000: "The partner can also set up not to receive e-mails for
//! child contracts to be managed … the mail selection for that category will not be displayed on
//! the user's screen of child subscription"). Set by the partner's managers of the child (its
//! owner and admins, within contract groups) or the operator — never by the child itself; it
//! silences the child's users only, never the partner's own copies.

use crate::{Notifications, category, entity::suppression};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::{
    contract::{ContractKind, GetContract, GetContracts},
    notification::{Category, SuppressCategories},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use std::collections::HashMap;

impl Notifications {
    pub(crate) async fn suppressions(
        &self,
        ctx: &CallCtx,
        ids: Vec<String>,
    ) -> AppResult<Vec<(String, Vec<Category>)>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        let visible: Vec<String> = self
            .bus
            .call(ctx, &GetContracts { ids: ids.clone() })
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut by_contract: HashMap<String, Vec<Category>> = HashMap::new();
        for s in suppression::Entity::find()
            .filter(suppression::Column::ContractId.is_in(visible))
            .all(&self.db)
            .await?
        {
            by_contract
                .entry(s.contract_id)
                .or_default()
                .push(category(&s.category)?);
        }
        Ok(ids
            .into_iter()
            .map(|id| {
                let mut list = by_contract.remove(&id).unwrap_or_default();
                list.sort();
                (id, list)
            })
            .collect())
    }

    pub(crate) async fn suppress(
        &self,
        ctx: &CallCtx,
        req: SuppressCategories,
    ) -> AppResult<Vec<Category>> {
        let mut categories = req.categories;
        categories.sort();
        categories.dedup();
        if let Some(c) = categories.iter().find(|c| !Category::CHOOSABLE.contains(c)) {
            return Err(AppError::invalid(
                "categories",
                format!(
                    "{} mails go to the contact person and cannot be suppressed",
                    c.as_str()
                ),
            ));
        }
        let c = self
            .bus
            .call(
                ctx,
                &GetContract {
                    id: req.contract_id.clone(),
                },
            )
            .await?;
        if c.kind != ContractKind::Child {
            return Err(AppError::invalid(
                "contractId",
                "a partner suppresses categories for its child contracts only",
            ));
        }
        // The child's own managers "manage" it too; only the partner's side (and the operator)
        // decides what the child's users hear.
        let partner_side = ctx.principal.is_operator()
            || (c.managed && ctx.principal.contract_id() == c.parent_id.as_deref());
        if !partner_side {
            return Err(AppError::forbidden(
                "only the partner's owner and admins suppress categories for a child",
            ));
        }
        let now = self.clock.now().timestamp_micros();
        let txn = self.db.begin().await?;
        suppression::Entity::delete_many()
            .filter(suppression::Column::ContractId.eq(c.id.clone()))
            .exec(&txn)
            .await?;
        if !categories.is_empty() {
            suppression::Entity::insert_many(categories.iter().map(|cat| {
                suppression::ActiveModel {
                    contract_id: Set(c.id.clone()),
                    category: Set(cat.as_str().to_string()),
                    changed_at: Set(now),
                }
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(categories)
    }
}
