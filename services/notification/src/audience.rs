//! Gathers what a notice's recipients are computed from: at most three bus requests (tenant →
//! contract → identity) and two local queries, whatever the number of recipients.

use crate::{
    Notifications,
    entity::{opt_out, suppression},
    recipients::{Audience, Scope},
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::{
    contract::NoticeAudience, identity::ContractMembers, notification::Category,
    tenant::NoticeTenants,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashSet;

impl Notifications {
    /// The audience of `scope`, or `NOT_FOUND` naming the first unknown contract or tenant.
    pub(crate) async fn audience(
        &self,
        ctx: &CallCtx,
        category: Category,
        scope: &Scope,
    ) -> AppResult<Audience> {
        // The platform asks, whoever published: the audience spans contracts the publisher
        // (the operator, or a service reacting to an event) does not act in.
        let ctx = ctx.as_principal(Principal::system(crate::NAME));
        let mut a = Audience::default();
        let mut contract_ids: Vec<String> = scope.contract_ids.clone();
        if !scope.tenant_ids.is_empty() || category.by_tenant() {
            let by_tenant = category.by_tenant();
            a.tenants = self
                .bus
                .call(
                    &ctx,
                    &NoticeTenants {
                        tenant_ids: scope.tenant_ids.clone(),
                        // A failure of a whole contract concerns all its tenants.
                        contract_ids: if by_tenant {
                            scope.contract_ids.clone()
                        } else {
                            Vec::new()
                        },
                        all: by_tenant && scope.all,
                    },
                )
                .await?;
            let found: HashSet<&str> = a.tenants.iter().map(|t| t.tenant_id.as_str()).collect();
            if let Some(t) = scope
                .tenant_ids
                .iter()
                .find(|t| !found.contains(t.as_str()))
            {
                return Err(AppError::not_found(format!("tenant {t}")));
            }
            contract_ids.extend(a.tenants.iter().map(|t| t.contract_id.clone()));
            contract_ids.sort();
            contract_ids.dedup();
        }
        a.contracts = self
            .bus
            .call(
                &ctx,
                &NoticeAudience {
                    ids: contract_ids,
                    all: scope.all,
                },
            )
            .await?;
        let known: HashSet<&str> = a.contracts.iter().map(|c| c.id.as_str()).collect();
        if let Some(c) = scope
            .contract_ids
            .iter()
            .find(|c| !known.contains(c.as_str()))
        {
            return Err(AppError::not_found(format!("contract {c}")));
        }
        if category == Category::ContractFee {
            return Ok(a);
        }
        // Users of every contract fetched: the affected ones and their parents (for the CC).
        let ids: Vec<String> = a.contracts.iter().map(|c| c.id.clone()).collect();
        a.members = self
            .bus
            .call(
                &ctx,
                &ContractMembers {
                    contract_ids: ids.clone(),
                    all: scope.all,
                },
            )
            .await?;
        let user_ids: Vec<String> = a.members.iter().map(|u| u.id.clone()).collect();
        for chunk in user_ids.chunks(5_000) {
            for o in opt_out::Entity::find()
                .filter(opt_out::Column::UserId.is_in(chunk.to_vec()))
                .filter(opt_out::Column::Category.eq(category.as_str()))
                .all(&self.db)
                .await?
            {
                a.opt_outs.insert((o.user_id, category));
            }
        }
        for chunk in ids.chunks(5_000) {
            for s in suppression::Entity::find()
                .filter(suppression::Column::ContractId.is_in(chunk.to_vec()))
                .filter(suppression::Column::Category.eq(category.as_str()))
                .all(&self.db)
                .await?
            {
                a.suppressed.insert((s.contract_id, category));
            }
        }
        Ok(a)
    }
}
