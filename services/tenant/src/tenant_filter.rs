//! Which tenants a list shows (`Contract.tenants(filter:)`, `User.tenants(filter:)`): applied in
//! the query, before pagination, so pages and `totalCount` are those of the filtered list. Every
//! bad field is reported at once.

use crate::{create_tenant::region, entity::tenant};
use ecl_kernel::{AppResult, Validation};
use ecl_proto::tenant::TenantFilter;
use sea_orm::{
    ColumnTrait, Condition,
    sea_query::{Query, SelectStatement},
};

/// The condition on the tenants table that `f` names (all of it when empty).
pub(crate) fn condition(f: &TenantFilter) -> AppResult<Condition> {
    let mut v = Validation::new();
    let mut cond = Condition::all();
    if let Some(name) = f.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        v.check(
            "filter.name",
            name.chars().count() <= 100,
            "filter.name must be at most 100 characters",
        );
        cond = cond.add(ecl_store::contains_ignoring_case(
            (tenant::Entity, tenant::Column::Name),
            name,
        ));
    }
    if let Some(r) = f.region.as_deref()
        && let Ok(r) = v.note(region(r).map_err(|e| e.within("filter")))
    {
        cond = cond.add(tenant::Column::Region.eq(r));
    }
    if let Some(w) = f.workspace_id.as_deref().map(str::trim) {
        v.check(
            "filter.workspaceId",
            !w.is_empty(),
            "filter.workspaceId must not be empty",
        );
        cond = cond.add(tenant::Column::WorkspaceId.eq(w));
    }
    v.finish()?;
    Ok(cond)
}

/// The ids of the tenants `cond` selects, for lists paged over another table (grants).
pub(crate) fn ids_where(cond: Condition) -> SelectStatement {
    Query::select()
        .column(tenant::Column::Id)
        .from(tenant::Entity)
        .cond_where(cond)
        .to_owned()
}
