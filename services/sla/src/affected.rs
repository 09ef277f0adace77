//! What an incident or a maintenance window is recorded for: a menu of the price list (billing's,
//! asked once) and tenants — named ones, checked with the tenant service (one request, so a
//! tenant created a moment ago counts), or every tenant of a region (this service's read model
//! of the tenant service's events).

use crate::{Sla, entity::tenant};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Month, Principal};
use ecl_proto::{
    billing::{ListMenus, MenuFilter},
    sla::Affected,
    tenant::NoticeTenants,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A menu as the SLA needs it (whether it has an SLA is billing's answer with the charges).
pub struct Menu {
    pub code: String,
}

/// (tenant, contract) pairs, tenant ids unique.
pub type Tenants = Vec<(String, String)>;

impl Sla {
    /// The menu `code` in force in `month` (`NOT_FOUND` on `menuCode` for an unknown one).
    pub(crate) async fn menu(&self, ctx: &CallCtx, code: &str, month: Month) -> AppResult<Menu> {
        let code = code.trim();
        if code.is_empty() {
            return Err(AppError::invalid("menuCode", "menuCode must not be empty"));
        }
        let system = ctx.as_principal(Principal::system(crate::NAME));
        let page = self
            .bus
            .call(
                &system,
                &ListMenus {
                    filter: MenuFilter {
                        code: Some(code.to_string()),
                        month: Some(month),
                        ..Default::default()
                    },
                    page: Default::default(),
                },
            )
            .await?;
        page.edges
            .into_iter()
            .map(|(_, m)| m.spec)
            .find(|m| m.code == code)
            .map(|m| Menu { code: m.code })
            .ok_or_else(|| AppError {
                field: Some("menuCode".into()),
                ..AppError::not_found(format!("menu {code:?}"))
            })
    }

    /// The tenants `a` names, each with its contract; refuses both or neither of tenants and
    /// region, a malformed or unknown tenant (`NOT_FOUND` on `tenantIds`), an empty region.
    pub(crate) async fn affected(&self, ctx: &CallCtx, a: &Affected) -> AppResult<Tenants> {
        let region = a.region.as_deref().map(str::trim).filter(|r| !r.is_empty());
        match (a.tenant_ids.is_empty(), region) {
            (true, None) | (false, Some(_)) => Err(AppError::invalid(
                "affected",
                "name either the affected tenants or a region",
            )),
            (true, Some(region)) => {
                let rows = tenant::Entity::find()
                    .filter(tenant::Column::Region.eq(region))
                    .filter(tenant::Column::Deleted.eq(false))
                    .all(&self.db)
                    .await?;
                if rows.is_empty() {
                    return Err(AppError {
                        field: Some("region".into()),
                        ..AppError::not_found(format!("tenants in region {region:?}"))
                    });
                }
                Ok(rows.into_iter().map(|t| (t.id, t.contract_id)).collect())
            }
            (false, None) => {
                let mut ids: Vec<String> = Vec::with_capacity(a.tenant_ids.len());
                for id in &a.tenant_ids {
                    let id = ecl_kernel::ids::parse_id("tenantIds", "ten", id.trim())?;
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                let system = ctx.as_principal(Principal::system(crate::NAME));
                let found = self
                    .bus
                    .call(
                        &system,
                        &NoticeTenants {
                            tenant_ids: ids.clone(),
                            contract_ids: vec![],
                            all: false,
                        },
                    )
                    .await?;
                ids.into_iter()
                    .map(|id| {
                        found
                            .iter()
                            .find(|t| t.tenant_id == id)
                            .map(|t| (id.clone(), t.contract_id.clone()))
                            .ok_or_else(|| AppError {
                                field: Some("tenantIds".into()),
                                ..AppError::not_found(format!("tenant {id}"))
                            })
                    })
                    .collect()
            }
        }
    }
}
