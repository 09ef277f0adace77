//! Which users a list shows (`Contract.users(filter:)`): applied in the query, before
//! pagination, so pages and `totalCount` are those of the filtered list. Every bad field is
//! reported at once.

use crate::entity::user;
use ecl_kernel::{AppResult, Role, Validation};
use ecl_proto::identity::{UserFilter, UserStatus};
use ecl_store::contains_ignoring_case;
use sea_orm::{ColumnTrait, Condition};

/// The condition on the users table that `f` names; `now` (unix seconds) tells who is locked.
pub(crate) fn condition(f: &UserFilter, now: i64) -> AppResult<Condition> {
    let mut v = Validation::new();
    let mut cond = Condition::all();
    if let Some(role) = f.role {
        // Operators belong to no contract: they are never in a contract's list.
        v.check(
            "filter.role",
            role != Role::Operator,
            "filter.role: contracts have owners, admins and users",
        );
        cond = cond.add(user::Column::Role.eq(role.as_str()));
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        v.check(
            "filter.search",
            s.chars().count() <= 254,
            "filter.search must be at most 254 characters",
        );
        cond = cond.add(
            Condition::any()
                .add(contains_ignoring_case(
                    (user::Entity, user::Column::LoginId),
                    s,
                ))
                .add(contains_ignoring_case(
                    (user::Entity, user::Column::Email),
                    s,
                )),
        );
    }
    match f.status {
        Some(UserStatus::Locked) => cond = cond.add(user::Column::LockedUntil.gt(now)),
        Some(UserStatus::Active) => cond = cond.add(user::Column::LockedUntil.lte(now)),
        None => {}
    }
    v.finish()?;
    Ok(cond)
}
