//! Workspaces (SPEC §3): every contract has a default one; tenants can be placed in others. The
//! summary bill is per workspace.

use crate::{Tenants, entity::workspace};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal, validate};
use ecl_proto::{
    Page,
    contract::{ContractStatus, GetContracts},
    tenant::{CreateWorkspace, GetWorkspaces, ListWorkspaces, UpdateWorkspace, WorkspaceView},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

/// The default workspace's id: fixed per contract, so concurrent first uses agree.
fn default_id(contract_id: &str) -> String {
    format!("wsp{contract_id}")
}

fn view(w: &workspace::Model) -> WorkspaceView {
    WorkspaceView {
        id: w.id.clone(),
        contract_id: w.contract_id.clone(),
        name: w.name.clone(),
        is_default: w.is_default,
        created_at: chrono::DateTime::from_timestamp_micros(w.created_at).unwrap_or_default(),
    }
}

impl Tenants {
    /// Makes sure `contract_id`'s default workspace exists (idempotent, race-free).
    async fn ensure_default(&self, contract_id: &str) -> AppResult<String> {
        self.ensure_defaults(&[contract_id.to_string()]).await?;
        Ok(default_id(contract_id))
    }

    /// The same for several contracts in one statement.
    async fn ensure_defaults(&self, contract_ids: &[String]) -> AppResult<()> {
        if contract_ids.is_empty() {
            return Ok(());
        }
        workspace::Entity::insert_many(contract_ids.iter().map(|cid| workspace::ActiveModel {
            id: Set(default_id(cid)),
            contract_id: Set(cid.clone()),
            name: Set("default".into()),
            is_default: Set(true),
            // Sorts first in the contract's list.
            created_at: Set(0),
        }))
        .on_conflict_do_nothing_on([workspace::Column::Id])
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// The workspace a new tenant of `contract_id` goes into: the named one (which must belong to
    /// the contract) or the default.
    pub(crate) async fn workspace_for(
        &self,
        contract_id: &str,
        requested: Option<&str>,
    ) -> AppResult<String> {
        match requested.map(str::trim).filter(|w| !w.is_empty()) {
            None => self.ensure_default(contract_id).await,
            Some(w) if w == default_id(contract_id) => self.ensure_default(contract_id).await,
            Some(w) => workspace::Entity::find_by_id(w.to_string())
                .one(&self.db)
                .await?
                .filter(|ws| ws.contract_id == contract_id)
                .map(|ws| ws.id)
                .ok_or_else(|| {
                    AppError::invalid("workspaceId", "no such workspace in this contract")
                }),
        }
    }

    pub(crate) async fn create_workspace(
        &self,
        ctx: &CallCtx,
        req: CreateWorkspace,
    ) -> AppResult<WorkspaceView> {
        let name = validate::text("name", &req.name, 100)?;
        let c = self.contract(ctx, &req.contract_id).await?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) create workspaces",
            ));
        }
        if c.status != ContractStatus::Active {
            return Err(AppError::conflict("the contract is abolished"));
        }
        self.ensure_default(&c.id).await?;
        self.name_free(&c.id, &name, None).await?;
        let w = workspace::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("wsp")),
            contract_id: Set(c.id),
            name: Set(name),
            is_default: Set(false),
            created_at: Set(self.clock.now().timestamp_micros()),
        }
        .insert(&self.db)
        .await?;
        Ok(view(&w))
    }

    /// `CONFLICT` when another workspace of `contract_id` (than `except`) is called `name`.
    async fn name_free(
        &self,
        contract_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> AppResult<()> {
        let mut q = workspace::Entity::find()
            .filter(workspace::Column::ContractId.eq(contract_id))
            .filter(workspace::Column::Name.eq(name));
        if let Some(id) = except {
            q = q.filter(workspace::Column::Id.ne(id));
        }
        if q.count(&self.db).await? > 0 {
            return Err(AppError::conflict(format!(
                "the contract already has a workspace named {name:?}"
            )));
        }
        Ok(())
    }

    /// Renaming a workspace: by those who may create one, the name checked as on creation and
    /// unique within the contract. (Workspaces announce no events: billing reads them when it
    /// renders a bill.)
    pub(crate) async fn update_workspace(
        &self,
        ctx: &CallCtx,
        req: UpdateWorkspace,
    ) -> AppResult<WorkspaceView> {
        let id = req.id.trim();
        let not_found = || AppError::not_found(format!("workspace {id}"));
        let w = workspace::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let c = self
            .contract(ctx, &w.contract_id)
            .await
            .map_err(|e| e.hidden_as(not_found))?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) change workspaces",
            ));
        }
        if c.status != ContractStatus::Active {
            return Err(AppError::conflict("the contract is abolished"));
        }
        let Some(name) = req.name.as_deref() else {
            return Ok(view(&w));
        };
        let name = validate::text("name", name, 100)?;
        if name == w.name {
            return Ok(view(&w));
        }
        self.name_free(&c.id, &name, Some(&w.id)).await?;
        let mut am: workspace::ActiveModel = w.into();
        am.name = Set(name);
        Ok(view(&am.update(&self.db).await?))
    }

    /// Workspaces by id, for those who manage their contract (`Tenant.workspace`).
    pub(crate) async fn get_workspaces(
        &self,
        ctx: &CallCtx,
        req: GetWorkspaces,
    ) -> AppResult<Vec<WorkspaceView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        if req.ids.len() > 1000 {
            return Err(AppError::invalid("ids", "at most 1000 ids at once"));
        }
        // A default workspace exists once its contract's first tenant or list needed it.
        let rows = workspace::Entity::find()
            .filter(workspace::Column::Id.is_in(req.ids))
            .all(&self.db)
            .await?;
        let mut contract_ids: Vec<String> = rows.iter().map(|w| w.contract_id.clone()).collect();
        contract_ids.sort();
        contract_ids.dedup();
        if contract_ids.is_empty() {
            return Ok(Vec::new());
        }
        let managed: std::collections::HashSet<String> = self
            .bus
            .call(ctx, &GetContracts { ids: contract_ids })
            .await?
            .into_iter()
            .filter(|c| c.managed)
            .map(|c| c.id)
            .collect();
        Ok(rows
            .iter()
            .filter(|w| managed.contains(&w.contract_id))
            .map(view)
            .collect())
    }

    /// Workspaces of the contracts whose tenants the caller manages (the default one first).
    pub(crate) async fn list_workspaces(
        &self,
        ctx: &CallCtx,
        req: ListWorkspaces,
    ) -> AppResult<Vec<(String, Page<WorkspaceView>)>> {
        req.page.limit()?;
        let visible = self
            .bus
            .call(
                ctx,
                &GetContracts {
                    ids: req.contract_ids.clone(),
                },
            )
            .await?;
        let managed: Vec<String> = visible
            .iter()
            .filter(|c| c.managed && req.contract_ids.contains(&c.id))
            .map(|c| c.id.clone())
            .collect();
        self.ensure_defaults(&managed).await?;
        let pages = ecl_store::paging::page_each::<workspace::Entity, _, _>(
            &self.db,
            (workspace::Column::ContractId, &managed),
            Condition::all(),
            &req.page,
            (workspace::Column::CreatedAt, workspace::Column::Id),
            |w| w.contract_id.clone(),
            |w| (w.created_at, w.id.clone()),
            view,
        )
        .await?;
        Ok(ecl_store::paging::in_order(req.contract_ids, pages))
    }
}
