//! Each user's notification choices and the partner's suppression of categories per child
//! (SPEC §7), read for a whole page in one request each.

use super::NoticeCategory;
use crate::errors::gql;
use crate::schema::common::RequestState;
use async_graphql::{
    Context, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use ecl_kernel::AppError;
use ecl_proto::notification::{self as proto, GetPreferences, GetSuppressions, PreferenceView};
use std::collections::HashMap;

/// A user's choice for one category.
#[derive(SimpleObject, Clone)]
pub struct NotificationPreference {
    pub category: NoticeCategory,
    pub receive: bool,
    /// Not changeable (a contract owner's `FAILURE`).
    pub locked: bool,
}

impl From<PreferenceView> for NotificationPreference {
    fn from(p: PreferenceView) -> Self {
        NotificationPreference {
            category: p.category.into(),
            receive: p.receive,
            locked: p.locked,
        }
    }
}

/// `User.notificationPreferences` of a whole page in one `GetPreferences`.
pub struct PreferencesLoader(pub(super) RequestState);

impl Loader<String> for PreferencesLoader {
    type Value = Vec<PreferenceView>;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Self::Value>, AppError> {
        let req = GetPreferences {
            user_ids: ids.to_vec(),
        };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .collect())
    }
}

/// `Contract.suppressedCategories` of a whole page in one `GetSuppressions`.
pub struct SuppressionLoader(pub(super) RequestState);

impl Loader<String> for SuppressionLoader {
    type Value = Vec<proto::Category>;
    type Error = AppError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Self::Value>, AppError> {
        let req = GetSuppressions {
            contract_ids: ids.to_vec(),
        };
        Ok(self
            .0
            .bus
            .call(&self.0.call, &req)
            .await?
            .into_iter()
            .collect())
    }
}

/// `User.notificationPreferences`: empty unless the caller may see the user.
pub async fn preferences_of(
    ctx: &Context<'_>,
    user_id: &str,
) -> async_graphql::Result<Vec<NotificationPreference>> {
    RequestState::of(ctx).require_auth()?;
    let list = ctx
        .data_unchecked::<DataLoader<PreferencesLoader>>()
        .load_one(user_id.to_string())
        .await
        .map_err(gql)?;
    Ok(list
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect())
}

/// `Contract.suppressedCategories`.
pub async fn suppressed_of(
    ctx: &Context<'_>,
    contract_id: &str,
) -> async_graphql::Result<Vec<NoticeCategory>> {
    RequestState::of(ctx).require_auth()?;
    let list = ctx
        .data_unchecked::<DataLoader<SuppressionLoader>>()
        .load_one(contract_id.to_string())
        .await
        .map_err(gql)?;
    Ok(list
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect())
}
