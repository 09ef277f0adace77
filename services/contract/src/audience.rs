//! A notice's audience as the contract tree sees it: the contracts concerned, their parents, and
//! the contract groups that narrow which children a parent user is copied on — for the whole
//! notice in three statements, however many contracts (the notification service's recipients).

use crate::{
    ABOLISHED, Contracts,
    entity::{contract, group, group_child, group_user},
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::contract::{AudienceContract, ContractKind, ContractStatus, NoticeAudience};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, HashMap, HashSet};

impl Contracts {
    pub(crate) async fn notice_audience(
        &self,
        ctx: &CallCtx,
        req: NoticeAudience,
    ) -> AppResult<Vec<AudienceContract>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden(
                "a notice's audience is resolved by the platform",
            ));
        }
        let mut rows = if req.all {
            contract::Entity::find()
                .filter(contract::Column::Status.ne(ABOLISHED))
                .all(&self.db)
                .await?
        } else {
            contract::Entity::find()
                .filter(contract::Column::Id.is_in(req.ids))
                .all(&self.db)
                .await?
        };
        let have: HashSet<String> = rows.iter().map(|c| c.id.clone()).collect();
        let parents: HashSet<String> = rows
            .iter()
            .filter_map(|c| c.parent_id.clone())
            .filter(|p| !have.contains(p))
            .collect();
        if !parents.is_empty() {
            rows.extend(
                contract::Entity::find()
                    .filter(contract::Column::Id.is_in(parents))
                    .all(&self.db)
                    .await?,
            );
        }
        // Group assignments of every partner among them: group → children, user → groups.
        let partners: Vec<String> = rows
            .iter()
            .filter(|c| c.kind == ContractKind::Partner)
            .map(|c| c.id.clone())
            .collect();
        let groups = if partners.is_empty() {
            Vec::new()
        } else {
            group::Entity::find()
                .filter(group::Column::PartnerId.is_in(partners))
                .all(&self.db)
                .await?
        };
        let group_ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
        let (children, users) = if group_ids.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            (
                group_child::Entity::find()
                    .filter(group_child::Column::GroupId.is_in(group_ids.clone()))
                    .all(&self.db)
                    .await?,
                group_user::Entity::find()
                    .filter(group_user::Column::GroupId.is_in(group_ids))
                    .all(&self.db)
                    .await?,
            )
        };
        let partner_of: HashMap<&str, &str> = groups
            .iter()
            .map(|g| (g.id.as_str(), g.partner_id.as_str()))
            .collect();
        let mut children_of_group: HashMap<&str, Vec<String>> = HashMap::new();
        for c in &children {
            children_of_group
                .entry(c.group_id.as_str())
                .or_default()
                .push(c.contract_id.clone());
        }
        // partner → user → children (a user assigned to an empty group manages no child).
        let mut assigned: HashMap<&str, BTreeMap<String, Vec<String>>> = HashMap::new();
        for u in &users {
            let Some(partner) = partner_of.get(u.group_id.as_str()) else {
                continue;
            };
            let entry = assigned
                .entry(partner)
                .or_default()
                .entry(u.user_id.clone())
                .or_default();
            entry.extend(
                children_of_group
                    .get(u.group_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        Ok(rows
            .iter()
            .map(|c| AudienceContract {
                id: c.id.clone(),
                kind: c.kind,
                parent_id: c.parent_id.clone(),
                status: if c.status == ABOLISHED {
                    ContractStatus::Abolished
                } else {
                    ContractStatus::Active
                },
                name: c.name.clone(),
                owner_user_id: c.owner_user_id.clone(),
                contact_email: c.contact_email.clone(),
                group_children: assigned
                    .remove(c.id.as_str())
                    .map(|m| m.into_iter().collect())
                    .unwrap_or_default(),
            })
            .collect())
    }
}
