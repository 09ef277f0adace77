//! What a child's own users see of its bills: the end-user bill (default), nothing, or the
//! wholesale bill. The partner's managers decide, per child.

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    commercial::{ChildBillView, ChildBillVisibility, SetChildBillVisibility},
    contract::ContractKind,
};
use sea_orm::{EntityTrait, Set, sea_query::OnConflict};

use super::{decode, encode};
use crate::Billing;
use crate::commercial::store::child_bill_view;

impl Billing {
    pub(crate) async fn child_bill_view(&self, child_id: &str) -> AppResult<ChildBillView> {
        match child_bill_view::Entity::find_by_id(child_id.to_string())
            .one(&self.db)
            .await?
        {
            Some(r) => decode(&r.body),
            None => Ok(ChildBillView::default()),
        }
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
