//! Contract groups (SPEC §1): a partner's owner and unrestricted admins put children into groups
//! and assign parent users to them; a parent admin or user assigned to groups then sees and manages
//! only those groups' children — here, and through `ContractView::managed` in every other service.

use crate::{
    Contracts,
    access::Access,
    entity::{contract, group, group_child, group_user},
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Role, validate};
use ecl_proto::{
    Page,
    contract::{
        ContractGroupView, ContractKind, CreateContractGroup, ListContractGroups, SetGroupChild,
        SetGroupUser,
    },
    identity::GetUsers,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use std::collections::HashSet;

impl Contracts {
    /// The children of the groups `user_id` is assigned to; `None` when assigned to none.
    pub(crate) async fn group_children_of(
        &self,
        user_id: &str,
    ) -> AppResult<Option<HashSet<String>>> {
        let groups: Vec<String> = group_user::Entity::find()
            .filter(group_user::Column::UserId.eq(user_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|g| g.group_id)
            .collect();
        if groups.is_empty() {
            return Ok(None);
        }
        let children = group_child::Entity::find()
            .filter(group_child::Column::GroupId.is_in(groups))
            .all(&self.db)
            .await?;
        Ok(Some(children.into_iter().map(|c| c.contract_id).collect()))
    }

    /// Views of `groups` with their members (two queries for the whole list).
    async fn group_views(&self, groups: Vec<group::Model>) -> AppResult<Vec<ContractGroupView>> {
        let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
        let children = group_child::Entity::find()
            .filter(group_child::Column::GroupId.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        let users = group_user::Entity::find()
            .filter(group_user::Column::GroupId.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(groups
            .into_iter()
            .map(|g| {
                let mut child_ids: Vec<String> = children
                    .iter()
                    .filter(|c| c.group_id == g.id)
                    .map(|c| c.contract_id.clone())
                    .collect();
                let mut user_ids: Vec<String> = users
                    .iter()
                    .filter(|u| u.group_id == g.id)
                    .map(|u| u.user_id.clone())
                    .collect();
                child_ids.sort();
                user_ids.sort();
                ContractGroupView {
                    id: g.id,
                    partner_id: g.partner_id,
                    name: g.name,
                    child_ids,
                    user_ids,
                    created_at: crate::views::ts(g.created_at),
                }
            })
            .collect())
    }

    /// The group and its partner, if the caller may manage the partner's groups.
    async fn managed_group(
        &self,
        access: &Access<'_>,
        group_id: &str,
    ) -> AppResult<(group::Model, contract::Model)> {
        let id = ecl_kernel::ids::parse_id("groupId", "grp", group_id)?;
        let not_found = || AppError::not_found(format!("contract group {id}"));
        let g = group::Entity::find_by_id(id.clone())
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let partner = self
            .visible(access, &g.partner_id)
            .await
            .map_err(|e| e.hidden_as(not_found))?;
        if !access.manages_children_of(&partner) {
            return Err(AppError::forbidden(
                "only the partner's owner and admins not restricted to groups manage groups",
            ));
        }
        Ok((g, partner))
    }

    async fn one_view(&self, g: group::Model) -> AppResult<ContractGroupView> {
        self.group_views(vec![g])
            .await?
            .pop()
            .ok_or_else(|| AppError::internal("group view vanished"))
    }

    pub async fn create_group(
        &self,
        ctx: &CallCtx,
        req: CreateContractGroup,
    ) -> AppResult<ContractGroupView> {
        let access = self.access(&ctx.principal).await?;
        let partner = self.visible(&access, &req.partner_id).await?;
        if partner.kind != ContractKind::Partner {
            return Err(AppError::invalid(
                "partnerId",
                "contract groups belong to a partner contract",
            ));
        }
        if !access.manages_children_of(&partner) {
            return Err(AppError::forbidden(
                "only the partner's owner and admins not restricted to groups manage groups",
            ));
        }
        let name = validate::text("name", &req.name, 100)?;
        let taken = group::Entity::find()
            .filter(group::Column::PartnerId.eq(partner.id.clone()))
            .filter(group::Column::Name.eq(name.clone()))
            .count(&self.db)
            .await?;
        if taken > 0 {
            return Err(AppError::conflict(format!(
                "the partner already has a group named {name:?}"
            )));
        }
        let g = group::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("grp")),
            partner_id: Set(partner.id),
            name: Set(name),
            created_at: Set(self.clock.now().timestamp_micros()),
        }
        .insert(&self.db)
        .await?;
        self.one_view(g).await
    }

    pub async fn set_group_child(
        &self,
        ctx: &CallCtx,
        req: SetGroupChild,
    ) -> AppResult<ContractGroupView> {
        let access = self.access(&ctx.principal).await?;
        let (g, partner) = self.managed_group(&access, &req.group_id).await?;
        let child = self.visible(&access, &req.contract_id).await?;
        if child.parent_id.as_deref() != Some(partner.id.as_str()) {
            return Err(AppError::invalid(
                "contractId",
                "only children of the group's partner go into its groups",
            ));
        }
        let key = (g.id.clone(), child.id.clone());
        let existing = group_child::Entity::find_by_id(key.clone())
            .one(&self.db)
            .await?;
        match (req.member, existing) {
            (true, None) => {
                group_child::ActiveModel {
                    group_id: Set(key.0),
                    contract_id: Set(key.1),
                }
                .insert(&self.db)
                .await?;
            }
            (false, Some(_)) => {
                group_child::Entity::delete_by_id(key)
                    .exec(&self.db)
                    .await?;
            }
            _ => {} // already as asked: idempotent
        }
        self.one_view(g).await
    }

    pub async fn set_group_user(
        &self,
        ctx: &CallCtx,
        req: SetGroupUser,
    ) -> AppResult<ContractGroupView> {
        let access = self.access(&ctx.principal).await?;
        let (g, partner) = self.managed_group(&access, &req.group_id).await?;
        let user_id = ecl_kernel::ids::parse_id("userId", "usr", &req.user_id)?;
        if req.member {
            // Asked with the caller's principal: identity shows only users the caller may see.
            let user = self
                .bus
                .call(
                    ctx,
                    &GetUsers {
                        ids: vec![user_id.clone()],
                        filter: Default::default(),
                    },
                )
                .await?
                .pop()
                .ok_or_else(|| AppError::not_found(format!("user {user_id}")))?;
            if user.contract_id.as_deref() != Some(partner.id.as_str()) {
                return Err(AppError::invalid(
                    "userId",
                    "only users of the group's partner contract are assigned to its groups",
                ));
            }
            if user.role == Role::Owner {
                return Err(AppError::invalid(
                    "userId",
                    "the owner always manages every child; groups are for admins and users",
                ));
            }
        }
        let key = (g.id.clone(), user_id.clone());
        let existing = group_user::Entity::find_by_id(key.clone())
            .one(&self.db)
            .await?;
        match (req.member, existing) {
            (true, None) => {
                group_user::ActiveModel {
                    group_id: Set(key.0),
                    user_id: Set(key.1),
                }
                .insert(&self.db)
                .await?;
            }
            (false, Some(_)) => {
                group_user::Entity::delete_by_id(key).exec(&self.db).await?;
            }
            _ => {}
        }
        self.one_view(g).await
    }

    pub async fn list_groups(
        &self,
        ctx: &CallCtx,
        req: ListContractGroups,
    ) -> AppResult<Vec<(String, Page<ContractGroupView>)>> {
        req.page.limit()?;
        let access = self.access(&ctx.principal).await?;
        let partners = contract::Entity::find()
            .filter(contract::Column::Id.is_in(req.partner_ids.clone()))
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(req.partner_ids.len());
        for pid in req.partner_ids {
            let allowed = partners
                .iter()
                .find(|p| p.id == pid)
                .is_some_and(|p| access.sees(p) && access.manages_children_of(p));
            let page = if allowed {
                let page = ecl_store::paging::page::<group::Entity, _, _>(
                    &self.db,
                    Condition::all().add(group::Column::PartnerId.eq(pid.clone())),
                    &req.page,
                    (group::Column::CreatedAt, group::Column::Id),
                    |g| (g.created_at, g.id.clone()),
                    Clone::clone,
                )
                .await?;
                let (cursors, rows): (Vec<ecl_proto::page::Cursor>, Vec<group::Model>) =
                    page.edges.into_iter().unzip();
                Page {
                    edges: cursors
                        .into_iter()
                        .zip(self.group_views(rows).await?)
                        .collect(),
                    has_next_page: page.has_next_page,
                    has_previous_page: page.has_previous_page,
                    total_count: page.total_count,
                }
            } else {
                Page::empty()
            };
            out.push((pid, page));
        }
        Ok(out)
    }

    /// A deleted user leaves their groups.
    pub(crate) async fn forget_user<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        user_id: &str,
    ) -> AppResult<()> {
        group_user::Entity::delete_many()
            .filter(group_user::Column::UserId.eq(user_id))
            .exec(db)
            .await?;
        Ok(())
    }
}
