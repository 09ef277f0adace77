//! The operator's tax setting of a non-JPY contract, read when its bills are built.

use ecl_bus::CallCtx;
use ecl_kernel::AppResult;
use ecl_proto::commercial::{SetTaxSetting, TaxKind, TaxSettingView};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use std::collections::HashMap;

use super::{decimal, decode, encode, require_operator};
use crate::Billing;
use crate::commercial::store::tax_setting;
use crate::commercial::tax::TaxSetting;

impl Billing {
    /// Every contract's tax setting (few rows: only non-JPY contracts have one).
    pub(crate) async fn tax_settings(&self) -> AppResult<HashMap<String, TaxSetting>> {
        tax_setting::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| Ok((r.id, decode(&r.body)?)))
            .collect()
    }

    /// The tax settings of a batch of contracts: one read.
    pub(crate) async fn tax_settings_of(
        &self,
        contract_ids: &[&str],
    ) -> AppResult<HashMap<String, TaxSetting>> {
        if contract_ids.is_empty() {
            return Ok(HashMap::new());
        }
        tax_setting::Entity::find()
            .filter(tax_setting::Column::Id.is_in(contract_ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| Ok((r.id, decode(&r.body)?)))
            .collect()
    }

    pub(crate) async fn tax_setting_of(&self, contract_id: &str) -> AppResult<Option<TaxSetting>> {
        tax_setting::Entity::find_by_id(contract_id.to_string())
            .one(&self.db)
            .await?
            .map(|r| decode(&r.body))
            .transpose()
    }

    pub(crate) async fn set_tax_setting(
        &self,
        ctx: &CallCtx,
        req: SetTaxSetting,
    ) -> AppResult<TaxSettingView> {
        require_operator(ctx, "set tax settings")?;
        let currency = crate::menus::currency(req.currency);
        let setting = match req.kind {
            TaxKind::Rate => TaxSetting::Rate(decimal("percent", req.percent.as_deref())?),
            TaxKind::Exempt => TaxSetting::Exempt,
        }
        .validate(currency)?;
        // the contract must exist (as the operator sees it)
        let c = self.contract_for(ctx, &req.contract_id).await?;
        tax_setting::Entity::insert(tax_setting::ActiveModel {
            id: Set(c.id.clone()),
            owner_id: Set(c.id.clone()),
            month: Set(String::new()),
            body: Set(encode(&setting)?),
            created_at: Set(self.clock.now().timestamp_micros()),
        })
        .on_conflict(
            OnConflict::column(tax_setting::Column::Id)
                .update_columns([tax_setting::Column::Body, tax_setting::Column::CreatedAt])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(TaxSettingView {
            contract_id: c.id,
            kind: req.kind,
            percent: match setting {
                TaxSetting::Rate(p) => Some(p.normalize().to_string()),
                TaxSetting::Exempt => None,
            },
        })
    }
}
