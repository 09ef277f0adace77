//! What a child's own users see of its bills: the end-user bill (default), nothing, or the
//! wholesale bill. The partner's managers decide, per child; the partner and the operator see
//! the wholesale bill as `Contract.bill` and the end-user bill as `Contract.endUserBill`.

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use std::collections::HashMap;

use ecl_proto::{
    commercial::{ChildBillView, ChildBillVisibility, SetChildBillVisibility},
    contract::{ContractKind, ContractView},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};

use super::{decode, encode};
use crate::Billing;
use crate::commercial::store::child_bill_view;

/// What a caller is shown as a contract's bill (`Contract.bill`, `Contract.bills`, the CSV
/// exports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// The contract's own bill at the provider's prices: everyone but a child's own users, and
    /// those when their partner shows them the wholesale bill.
    Wholesale,
    /// A child's own users, by default: the bill at their partner's prices.
    EndUser,
    /// A child's own users when their partner shows them nothing: `bill` is null, `bills` empty,
    /// an export `FORBIDDEN`.
    Nothing,
}

impl Billing {
    /// What the caller is shown of each contract's bills: one read of the partners' choices.
    /// Only a child's own users (not its partner's, not the operator) are shown other than the
    /// wholesale bill.
    pub(crate) async fn shown_for(
        &self,
        ctx: &CallCtx,
        contracts: &[ContractView],
    ) -> AppResult<HashMap<String, Shown>> {
        let own: Vec<&str> = contracts
            .iter()
            .filter(|c| {
                c.kind == ContractKind::Child
                    && !ctx.principal.is_operator()
                    && ctx.principal.contract_id() == Some(c.id.as_str())
            })
            .map(|c| c.id.as_str())
            .collect();
        let mut views: HashMap<String, ChildBillView> = HashMap::new();
        if !own.is_empty() {
            for r in child_bill_view::Entity::find()
                .filter(child_bill_view::Column::Id.is_in(own.iter().copied()))
                .all(&self.db)
                .await?
            {
                views.insert(r.id.clone(), decode(&r.body)?);
            }
        }
        Ok(contracts
            .iter()
            .map(|c| {
                let shown = if own.contains(&c.id.as_str()) {
                    match views.get(&c.id).copied().unwrap_or_default() {
                        ChildBillView::EndUser => Shown::EndUser,
                        ChildBillView::None => Shown::Nothing,
                        ChildBillView::Wholesale => Shown::Wholesale,
                    }
                } else {
                    Shown::Wholesale
                };
                (c.id.clone(), shown)
            })
            .collect())
    }

    pub(crate) async fn set_child_bill_visibility(
        &self,
        ctx: &CallCtx,
        req: SetChildBillVisibility,
    ) -> AppResult<ChildBillVisibility> {
        let c = self.contract_for(ctx, &req.child_id).await?;
        if c.kind != ContractKind::Child {
            return Err(AppError::invalid(
                "childId",
                format!("{} is not a child contract", c.id),
            ));
        }
        // the partner's side only: a child's own owner does not choose what its users are shown
        let partner_side = ctx.principal.is_operator()
            || (ctx.principal.contract_id() == c.parent_id.as_deref()
                && ctx.principal.is_manager()
                && c.managed);
        if !partner_side {
            return Err(AppError::forbidden(
                "the partner's owner and admins choose what a child's users see",
            ));
        }
        child_bill_view::Entity::insert(child_bill_view::ActiveModel {
            id: Set(c.id.clone()),
            owner_id: Set(c.id.clone()),
            month: Set(String::new()),
            body: Set(encode(&req.view)?),
            created_at: Set(self.clock.now().timestamp_micros()),
        })
        .on_conflict(
            OnConflict::column(child_bill_view::Column::Id)
                .update_columns([
                    child_bill_view::Column::Body,
                    child_bill_view::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(ChildBillVisibility {
            child_id: c.id,
            view: req.view,
        })
    }
}
