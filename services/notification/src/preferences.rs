//! Each user's choice per category (seed 000: everything is received at first; users check out
//! what they do not want; the contract owner cannot change the reception of failure notices; an
//! admin with user administration changes other users' choices). Who may see or change a user is
//! identity's and contract's call: `GetUsers` as the caller answers only the user themselves,
//! the managers of the user's contract (the partner's too, within contract groups) and the
//! operator. A child's users do not see, nor set, what their partner suppressed.

use crate::{
    Notifications,
    entity::{opt_out, suppression},
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal, Role};
use ecl_proto::{
    identity::{GetUsers, UserView},
    notification::{Category, PreferenceView, SetPreference},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use std::collections::{HashMap, HashSet};

impl Notifications {
    /// The users of `ids` the caller may see, as identity answers.
    async fn visible_users(&self, ctx: &CallCtx, ids: Vec<String>) -> AppResult<Vec<UserView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.bus
            .call(
                ctx,
                &GetUsers {
                    ids,
                    filter: Default::default(),
                },
            )
            .await
    }

    /// Choices of `users`: two statements for the whole batch.
    async fn choices(&self, users: &[UserView]) -> AppResult<HashMap<String, Vec<PreferenceView>>> {
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        let contracts: Vec<String> = users.iter().filter_map(|u| u.contract_id.clone()).collect();
        let outs: HashSet<(String, String)> = opt_out::Entity::find()
            .filter(opt_out::Column::UserId.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.user_id, o.category))
            .collect();
        let suppressed: HashSet<(String, String)> = suppression::Entity::find()
            .filter(suppression::Column::ContractId.is_in(contracts))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| (s.contract_id, s.category))
            .collect();
        Ok(users
            .iter()
            .map(|u| {
                let contract = u.contract_id.clone().unwrap_or_default();
                let list = Category::CHOOSABLE
                    .into_iter()
                    .filter(|c| !suppressed.contains(&(contract.clone(), c.as_str().to_string())))
                    .map(|c| {
                        let locked = u.role == Role::Owner && c == Category::Failure;
                        PreferenceView {
                            category: c,
                            receive: locked
                                || !outs.contains(&(u.id.clone(), c.as_str().to_string())),
                            locked,
                        }
                    })
                    .collect();
                (u.id.clone(), list)
            })
            .collect())
    }

    pub(crate) async fn preferences(
        &self,
        ctx: &CallCtx,
        ids: Vec<String>,
    ) -> AppResult<Vec<(String, Vec<PreferenceView>)>> {
        if ids.len() > 1_000 {
            return Err(AppError::invalid("userIds", "at most 1000 users at once"));
        }
        let users = self.visible_users(ctx, ids.clone()).await?;
        let mut choices = self.choices(&users).await?;
        // In the request's order; users the caller may not see get an empty list.
        Ok(ids
            .into_iter()
            .map(|id| {
                let list = choices.remove(&id).unwrap_or_default();
                (id, list)
            })
            .collect())
    }

    pub(crate) async fn set_preference(
        &self,
        ctx: &CallCtx,
        req: SetPreference,
    ) -> AppResult<Vec<PreferenceView>> {
        if !Category::CHOOSABLE.contains(&req.category) {
            return Err(AppError::invalid(
                "category",
                "contract and fee mails go to the contact person, not to users: there is nothing to choose",
            ));
        }
        let user = self
            .visible_users(ctx, vec![req.user_id.clone()])
            .await?
            .into_iter()
            .find(|u| u.id == req.user_id)
            .ok_or_else(|| AppError::not_found(format!("user {}", req.user_id)))?;
        // Identity shows someone else only to the managers of their contract (and the partner's,
        // within contract groups) and the operator: exactly who may change their choices.
        if user.role == Role::Owner && req.category == Category::Failure && !req.receive {
            return Err(AppError::invalid(
                "receive",
                "a contract owner always receives failure notices",
            ));
        }
        let contract = user.contract_id.clone().unwrap_or_default();
        let suppressed =
            suppression::Entity::find_by_id((contract, req.category.as_str().to_string()))
                .one(&self.db)
                .await?
                .is_some();
        if suppressed {
            return Err(AppError::invalid(
                "category",
                "the partner suppressed this category for the contract: there is nothing to choose",
            ));
        }
        if req.receive {
            opt_out::Entity::delete_by_id((user.id.clone(), req.category.as_str().to_string()))
                .exec(&self.db)
                .await?;
        } else {
            opt_out::Entity::insert(opt_out::ActiveModel {
                user_id: Set(user.id.clone()),
                category: Set(req.category.as_str().to_string()),
                changed_by: Set(ctx.principal.label()),
                changed_at: Set(self.clock.now().timestamp_micros()),
            })
            .on_conflict(
                OnConflict::columns([opt_out::Column::UserId, opt_out::Column::Category])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        }
        Ok(self
            .choices(std::slice::from_ref(&user))
            .await?
            .remove(&user.id)
            .unwrap_or_default())
    }
}
