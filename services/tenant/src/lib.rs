//! Tenant-access service (SPEC §3): tenants of a contract and users' access rights to them.
//! Tenants are created and deleted by the contract's owner/admins and, for a child, by the
//! partner's; an abolished contract's tenants are deleted. Access rights come with the tenants issue.

use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult, Principal, SharedClock, validate};
use ecl_proto::{
    Page,
    contract::{ContractChanged, ContractStatus, ContractView, GetContract, GetContracts},
    tenant::{CountTenants, CreateTenant, DeleteTenant, ListTenants, TenantChanged, TenantView},
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::Outbox;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use sea_orm_migration::prelude::*;
use std::sync::Arc;

pub const NAME: &str = "tenant";
/// Every contract has this workspace; tenants go there unless placed elsewhere.
pub const DEFAULT_WORKSPACE: &str = "default";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "tenants, workspaces and access rights",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

pub mod entity {
    pub mod tenant {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "tenants")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: String,
            #[sea_orm(indexed)]
            pub contract_id: String,
            pub name: String,
            pub region: String,
            pub workspace_id: String,
            pub created_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}
use entity::tenant;

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Tenants),
        ]
    }
    fn migration_table_name() -> DynIden {
        "tenant_migrations".into_iden()
    }
}

struct M0001Tenants;

impl MigrationName for M0001Tenants {
    fn name(&self) -> &str {
        "m0001_tenants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Tenants {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, tenant::Entity).await
    }
}

pub struct Tenants {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    Migrator::up(&db, None).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let svc = Arc::new(Tenants {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
    });
    let router = Router::default()
        .route(|s: Arc<Tenants>, ctx, req: CreateTenant| async move { s.create(&ctx, req).await })
        .route(
            |s: Arc<Tenants>, ctx, req: DeleteTenant| async move { s.delete(&ctx, &req.id).await },
        )
        .route(|s: Arc<Tenants>, ctx, req: ListTenants| async move { s.list(&ctx, req).await })
        .route(|s: Arc<Tenants>, ctx, req: CountTenants| async move { s.count(&ctx, req).await });
    // An abolished contract loses its tenants (abolish refuses while tenants exist unless forced).
    let events = EventRouter::default().on(
        |s: Arc<Tenants>, ctx, _id, ev: ContractChanged| async move {
            if ev.change == "abolished" {
                s.purge(&ctx, &ev.contract.id).await
            } else {
                Ok(())
            }
        },
    );
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

fn view(t: &tenant::Model) -> TenantView {
    TenantView {
        id: t.id.clone(),
        contract_id: t.contract_id.clone(),
        name: t.name.clone(),
        region: t.region.clone(),
        workspace_id: t.workspace_id.clone(),
        created_at: chrono::DateTime::from_timestamp_micros(t.created_at).unwrap_or_default(),
    }
}

/// Regions look like `jp1`, `jp2`, `us1`: two to four letters and a number.
fn region(r: &str) -> AppResult<String> {
    let r = r.trim().to_ascii_lowercase();
    let letters = r.chars().take_while(|c| c.is_ascii_lowercase()).count();
    let digits = &r[letters..];
    if (2..=4).contains(&letters)
        && !digits.is_empty()
        && digits.len() <= 2
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(r)
    } else {
        Err(AppError::invalid(
            "region",
            format!("unknown region {r:?} (e.g. jp1, jp2, us1)"),
        ))
    }
}

impl Tenants {
    /// The contract as the caller may see it (the contract service decides visibility).
    async fn contract(&self, ctx: &CallCtx, id: &str) -> AppResult<ContractView> {
        self.bus
            .call(ctx, &GetContract { id: id.to_string() })
            .await
    }

    async fn create(&self, ctx: &CallCtx, req: CreateTenant) -> AppResult<TenantView> {
        let name = validate::text("name", &req.name, 100)?;
        let region = region(&req.region)?;
        let workspace_id = match req.workspace_id.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_WORKSPACE.to_string(),
            Some(w) => validate::text("workspaceId", w, 64)?,
        };
        let c = self.contract(ctx, &req.contract_id).await?;
        if !c.managed_by(&ctx.principal) {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) create tenants",
            ));
        }
        if c.status != ContractStatus::Active {
            return Err(AppError::conflict("the contract is abolished"));
        }
        let row = tenant::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("ten")),
            contract_id: Set(c.id),
            name: Set(name),
            region: Set(region),
            workspace_id: Set(workspace_id),
            created_at: Set(self.clock.now().timestamp_micros()),
        };
        let txn = self.db.begin().await?;
        let t = view(&row.insert(&txn).await?);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &TenantChanged {
                    tenant: t.clone(),
                    change: "created".into(),
                },
            )
            .await?;
        Ok(t)
    }

    async fn delete(&self, ctx: &CallCtx, id: &str) -> AppResult<TenantView> {
        let id = ecl_kernel::ids::parse_id("id", "ten", id)?;
        let t = tenant::Entity::find_by_id(id.clone())
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found(format!("tenant {id}")))?;
        let c = self
            .contract(ctx, &t.contract_id)
            .await
            .map_err(|_| AppError::not_found(format!("tenant {id}")))?;
        if !c.managed_by(&ctx.principal) {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) delete tenants",
            ));
        }
        let txn = self.db.begin().await?;
        tenant::Entity::delete_by_id(id).exec(&txn).await?;
        let v = view(&t);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &TenantChanged {
                    tenant: v.clone(),
                    change: "deleted".into(),
                },
            )
            .await?;
        Ok(v)
    }

    /// Tenants of the contracts the caller may see. Owners and admins (and the partner's for a
    /// child) see all of a contract's tenants; general users will see the tenants they are granted
    /// once access rights exist — until then, none.
    async fn list(
        &self,
        ctx: &CallCtx,
        req: ListTenants,
    ) -> AppResult<Vec<(String, Page<TenantView>)>> {
        let visible = self
            .bus
            .call(
                ctx,
                &GetContracts {
                    ids: req.contract_ids.clone(),
                },
            )
            .await?;
        req.page.limit()?;
        let managed: Vec<String> = req
            .contract_ids
            .iter()
            .filter(|cid| {
                visible
                    .iter()
                    .any(|c| &c.id == *cid && c.managed_by(&ctx.principal))
            })
            .cloned()
            .collect();
        // One grouped statement pair for the whole batch, not two statements per contract.
        let mut pages = ecl_store::paging::page_each::<tenant::Entity, _, _>(
            &self.db,
            (tenant::Column::ContractId, &managed),
            Condition::all(),
            &req.page,
            (tenant::Column::CreatedAt, tenant::Column::Id),
            |t| t.contract_id.clone(),
            |t| (t.created_at, t.id.clone()),
            view,
        )
        .await?;
        Ok(req
            .contract_ids
            .into_iter()
            .map(|cid| {
                let page = pages.remove(&cid).unwrap_or_else(Page::empty);
                (cid, page)
            })
            .collect())
    }

    async fn count(&self, ctx: &CallCtx, req: CountTenants) -> AppResult<Vec<(String, u64)>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        let mut out = Vec::with_capacity(req.contract_ids.len());
        for id in req.contract_ids {
            let n = tenant::Entity::find()
                .filter(tenant::Column::ContractId.eq(id.clone()))
                .count(&self.db)
                .await?;
            out.push((id, n));
        }
        Ok(out)
    }

    /// Deletes every tenant of an abolished contract, announcing each (idempotent: a redelivered
    /// event finds nothing left).
    async fn purge(&self, ctx: &CallCtx, contract_id: &str) -> AppResult<()> {
        let rows = tenant::Entity::find()
            .filter(tenant::Column::ContractId.eq(contract_id))
            .all(&self.db)
            .await?;
        let txn = self.db.begin().await?;
        for t in &rows {
            tenant::Entity::delete_by_id(t.id.clone())
                .exec(&txn)
                .await?;
            self.outbox
                .add(
                    &txn,
                    &ctx.trace_id,
                    &TenantChanged {
                        tenant: view(t),
                        change: "deleted".into(),
                    },
                )
                .await?;
        }
        txn.commit().await?;
        self.outbox.wake();
        Ok(())
    }
}
