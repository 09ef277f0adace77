//! What a partner earns per child in a month (wholesale, end-user, margin; before tax), for a
//! batch of partners at once.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::{
    commercial::{GetMargins, MarginView},
    contract::{ContractKind, ContractView},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Billing;
use crate::commercial::end_user_bill::margin;
use crate::entity::contract;

impl Billing {
    /// What each partner of a batch earns per child in a month. A contract that is not a
    /// partner the caller manages has no margins (an empty list). One contract request for the
    /// partners, one read of their children, one for the children's visibility, and the
    /// children's end-user bills in one batch.
    pub(crate) async fn margins(
        &self,
        ctx: &CallCtx,
        req: GetMargins,
    ) -> AppResult<Vec<(String, Vec<MarginView>)>> {
        let m = req.month;
        let partners: Vec<ContractView> = self
            .visible(ctx, req.partner_ids)
            .await?
            .into_iter()
            .filter(|p| p.kind == ContractKind::Partner && p.managed)
            .collect();
        if partners.is_empty() {
            return Ok(Vec::new());
        }
        let children: Vec<String> = contract::Entity::find()
            .filter(contract::Column::ParentId.is_in(partners.iter().map(|p| p.id.clone())))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        // the contract service narrows the children to the caller's contract groups
        let children = self.visible(ctx, children).await?;
        let refs: Vec<&ContractView> = children.iter().collect();
        let rows = self.end_user_bills_for(ctx, &refs, m).await?;
        let mut by_partner: HashMap<String, Vec<MarginView>> = HashMap::new();
        for (c, row) in children.iter().zip(&rows) {
            let mg = margin(row.wholesale.subtotal, &row.end_user);
            by_partner
                .entry(row.partner_id.clone())
                .or_default()
                .push(MarginView {
                    partner_id: row.partner_id.clone(),
                    child_id: c.id.clone(),
                    month: m,
                    currency: row.end_user.header.currency.into(),
                    wholesale: mg.wholesale.to_string(),
                    end_user: mg.end_user.to_string(),
                    margin: mg.margin.to_string(),
                });
        }
        Ok(partners
            .into_iter()
            .map(|p| {
                let list = by_partner.remove(&p.id).unwrap_or_default();
                (p.id, list)
            })
            .collect())
    }
}
