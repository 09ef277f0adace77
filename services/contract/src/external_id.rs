//! The external id rules of SPEC §2: its shape per contract kind, and its uniqueness among a
//! partner's children.

use crate::{Contracts, entity::contract};
use ecl_kernel::{AppError, AppResult};
use ecl_proto::contract::ContractKind;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// SPEC §2: a child's external id is the partner's own management number (free form, up to 64
/// characters); the provider's own contracts (direct, partner) carry a 15-digit number.
pub(crate) fn external_id_input(kind: ContractKind, v: &str) -> AppResult<Option<String>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if kind != ContractKind::Child {
        if v.len() != 15 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid(
                "externalId",
                "the external id of a direct or partner contract is a 15-digit number",
            ));
        }
        return Ok(Some(v.to_string()));
    }
    if v.chars().count() > 64
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return Err(AppError::invalid(
            "externalId",
            "external id must be up to 64 letters, digits or - _ . /",
        ));
    }
    Ok(Some(v.to_string()))
}

impl Contracts {
    /// `CONFLICT` when another child of `parent_id` (than `except`) has the external id `ext`.
    pub(crate) async fn external_id_free(
        &self,
        parent_id: &str,
        ext: &str,
        except: Option<&str>,
    ) -> AppResult<()> {
        let mut q = contract::Entity::find()
            .filter(contract::Column::ParentId.eq(parent_id.to_string()))
            .filter(contract::Column::ExternalId.eq(ext.to_string()));
        if let Some(id) = except {
            q = q.filter(contract::Column::Id.ne(id.to_string()));
        }
        if q.count(&self.db).await? > 0 {
            return Err(AppError::conflict(format!(
                "external id {ext} is already used by another child"
            )));
        }
        Ok(())
    }
}
