//! Tenant-access service (SPEC §3): tenants of a contract and users' access rights to them.
//! Tenants are created and deleted by the contract's owner/admins and, for a child, by the
//! partner's (within their contract groups); an abolished contract's tenants are deleted. Users
//! work in a tenant when granted access (`grants.rs`); tenants sit in workspaces (`workspaces.rs`).

use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult, Principal, SharedClock, Validation, validate};
use ecl_proto::{
    Event, Page,
    contract::{ContractChanged, ContractStatus, ContractView, GetContract, GetContracts},
    identity::UserDeleted,
    tenant::{
        CountTenants, CreateTenant, CreateWorkspace, DeleteTenant, GetTenants, GetWorkspaces,
        ListTenantUsers, ListTenants, ListUserTenants, ListWorkspaces, NoticeTenants,
        SetTenantAccess, TenantChanged, TenantView, UpdateTenant, UpdateWorkspace,
    },
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect, Set, TransactionTrait,
};
use sea_orm_migration::prelude::*;
use std::sync::Arc;

mod audience;
mod grants;
mod lookup;
mod tenant_filter;
mod update_tenant;
mod workspaces;

pub const NAME: &str = "tenant";

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

    pub mod workspace {
        use sea_orm::entity::prelude::*;

        /// Groups a contract's tenants for the summary bill. The default one's id is `wsp` + the
        /// contract id, so every replica agrees on it without coordination.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "workspaces")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: String,
            #[sea_orm(indexed)]
            pub contract_id: String,
            pub name: String,
            pub is_default: bool,
            pub created_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod grant {
        use sea_orm::entity::prelude::*;

        /// A user's access right to a tenant.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "tenant_grants")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub tenant_id: String,
            #[sea_orm(primary_key, auto_increment = false)]
            #[sea_orm(indexed)]
            pub user_id: String,
            /// The tenant's contract (grants of an abolished contract go with its tenants).
            #[sea_orm(indexed)]
            pub contract_id: String,
            pub created_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}
use entity::{grant, tenant};

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Tenants),
            Box::new(M0002AccessAndWorkspaces),
            Box::new(ecl_store::inbox::CreateInbox),
        ]
    }
    fn migration_table_name() -> DynIden {
        "tenant_migrations".into_iden()
    }
}

/// Frozen, like every migration: states its own DDL (a change to a table is a new migration;
/// `migrations_build_what_the_entities_expect` checks the sum against the entities).
struct M0001Tenants;

impl MigrationName for M0001Tenants {
    fn name(&self) -> &str {
        "m0001_tenants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Tenants {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string};
        manager
            .create_table(
                Table::create()
                    .table("tenants")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("contract_id"))
                    .col(string("name"))
                    .col(string("region"))
                    .col(string("workspace_id"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("tenants", "contract_id"))
            .await
    }
}

struct M0002AccessAndWorkspaces;

impl MigrationName for M0002AccessAndWorkspaces {
    fn name(&self) -> &str {
        "m0002_grants_workspaces"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002AccessAndWorkspaces {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, boolean, string};
        manager
            .create_table(
                Table::create()
                    .table("workspaces")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("contract_id"))
                    .col(string("name"))
                    .col(boolean("is_default"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("workspaces", "contract_id"))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tenant_grants")
                    .if_not_exists()
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string("contract_id"))
                    .col(big_integer("created_at"))
                    .primary_key(
                        Index::create()
                            .name("pk-tenant_grants")
                            .col("tenant_id")
                            .col("user_id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("tenant_grants", "user_id"))
            .await?;
        manager
            .create_index(ecl_store::index("tenant_grants", "contract_id"))
            .await
    }
}

pub struct Tenants {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Tenants {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
    });
    let router =
        Router::default()
            .route(
                |s: Arc<Tenants>, ctx, req: CreateTenant| async move { s.create(&ctx, req).await },
            )
            .route(|s: Arc<Tenants>, ctx, req: DeleteTenant| async move {
                s.delete(&ctx, &req.id).await
            })
            .route(|s: Arc<Tenants>, ctx, req: UpdateTenant| async move {
                s.update_tenant(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: GetTenants| async move {
                s.get_tenants(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListTenants| async move { s.list(&ctx, req).await })
            .route(
                |s: Arc<Tenants>, ctx, req: CountTenants| async move { s.count(&ctx, req).await },
            )
            .route(|s: Arc<Tenants>, ctx, req: CreateWorkspace| async move {
                s.create_workspace(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListWorkspaces| async move {
                s.list_workspaces(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: UpdateWorkspace| async move {
                s.update_workspace(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: GetWorkspaces| async move {
                s.get_workspaces(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: SetTenantAccess| async move {
                s.set_access(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListTenantUsers| async move {
                s.tenant_users(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListUserTenants| async move {
                s.user_tenants(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: NoticeTenants| async move {
                s.notice_tenants(&ctx, req).await
            });
    // An abolished contract loses its tenants (abolish refuses while tenants exist unless forced),
    // and a deleted user their access rights.
    // Each handler's writes share the inbox's transaction: a redelivered event has no effect.
    let events = EventRouter::default()
        .on(|s: Arc<Tenants>, ctx, id, ev: ContractChanged| async move {
            if ev.change != ecl_proto::contract::ContractChange::Abolished {
                return Ok(());
            }
            let svc = s.clone();
            let handled = s
                .inbox
                .handle(&id, ContractChanged::TOPIC, |txn| {
                    Box::pin(async move { svc.purge(txn, &ctx, &ev.contract.id).await })
                })
                .await?;
            if handled.is_some() {
                s.outbox.wake();
            }
            Ok(())
        })
        .on(|s: Arc<Tenants>, _ctx, id, ev: UserDeleted| async move {
            let svc = s.clone();
            s.inbox
                .handle(&id, UserDeleted::TOPIC, |txn| {
                    Box::pin(async move { svc.forget_user(txn, &ev.user_id).await })
                })
                .await?;
            Ok(())
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
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
        let mut v = Validation::new();
        let name = v.value(validate::text("name", &req.name, 100));
        let region = v.value(region(&req.region));
        v.finish()?;
        let c = self.contract(ctx, &req.contract_id).await?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) create tenants",
            ));
        }
        if c.status != ContractStatus::Active {
            return Err(AppError::conflict("the contract is abolished"));
        }
        let workspace_id = self
            .workspace_for(&c.id, req.workspace_id.as_deref())
            .await?;
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
                    change: ecl_proto::tenant::TenantChange::Created,
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
            .map_err(|e| e.hidden_as(|| AppError::not_found(format!("tenant {id}"))))?;
        if !c.managed {
            return Err(AppError::forbidden(
                "only the contract's owner and admins (or its partner's) delete tenants",
            ));
        }
        let txn = self.db.begin().await?;
        grant::Entity::delete_many()
            .filter(grant::Column::TenantId.eq(id.clone()))
            .exec(&txn)
            .await?;
        tenant::Entity::delete_by_id(id).exec(&txn).await?;
        let v = view(&t);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &TenantChanged {
                    tenant: v.clone(),
                    change: ecl_proto::tenant::TenantChange::Deleted,
                },
            )
            .await?;
        Ok(v)
    }

    /// Tenants of the contracts the caller may see, narrowed by the filter. Owners and admins (and
    /// the partner's for a child, within their groups) see all of a contract's tenants; general
    /// users the tenants they are granted.
    async fn list(
        &self,
        ctx: &CallCtx,
        req: ListTenants,
    ) -> AppResult<Vec<(String, Page<TenantView>)>> {
        // Bad arguments are refused before anything is asked of another service.
        req.page.limit()?;
        let filter = tenant_filter::condition(&req.filter)?;
        let visible = self
            .bus
            .call(
                ctx,
                &GetContracts {
                    ids: req.contract_ids.clone(),
                },
            )
            .await?;
        let (mut managed, mut granted) = (Vec::new(), Vec::new());
        for c in visible.iter().filter(|c| req.contract_ids.contains(&c.id)) {
            if c.managed {
                managed.push(c.id.clone());
            } else {
                granted.push(c.id.clone());
            }
        }
        // One grouped statement pair per kind of caller for the whole batch, not two statements
        // per contract: managers see every tenant, general users the ones they are granted.
        let mut pages = self
            .tenant_pages(&managed, filter.clone(), &req.page)
            .await?;
        if let Some(me) = ctx.principal.user_id()
            && !granted.is_empty()
        {
            let only_granted = filter.add(
                tenant::Column::Id.in_subquery(
                    Query::select()
                        .column(grant::Column::TenantId)
                        .from(grant::Entity)
                        .and_where(grant::Column::UserId.eq(me))
                        .to_owned(),
                ),
            );
            pages.extend(self.tenant_pages(&granted, only_granted, &req.page).await?);
        }
        Ok(ecl_store::paging::in_order(req.contract_ids, pages))
    }

    /// A page of tenants per contract of `contract_ids` within `cond`, in two statements.
    async fn tenant_pages(
        &self,
        contract_ids: &[String],
        cond: Condition,
        page: &ecl_proto::PageArgs,
    ) -> AppResult<std::collections::HashMap<String, Page<TenantView>>> {
        ecl_store::paging::page_each::<tenant::Entity, _, _>(
            &self.db,
            (tenant::Column::ContractId, contract_ids),
            cond,
            page,
            (tenant::Column::CreatedAt, tenant::Column::Id),
            |t| t.contract_id.clone(),
            |t| (t.created_at, t.id.clone()),
            view,
        )
        .await
    }

    /// How many tenants each contract has — only for contracts the caller sees (the others are
    /// absent), in one grouped statement for the batch.
    async fn count(&self, ctx: &CallCtx, req: CountTenants) -> AppResult<Vec<(String, u64)>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        let visible: Vec<String> = self
            .bus
            .call(
                ctx,
                &GetContracts {
                    ids: req.contract_ids.clone(),
                },
            )
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let counts: std::collections::HashMap<String, i64> = if visible.is_empty() {
            Default::default()
        } else {
            tenant::Entity::find()
                .select_only()
                .column(tenant::Column::ContractId)
                .column_as(tenant::Column::Id.count(), "n")
                .filter(tenant::Column::ContractId.is_in(visible.clone()))
                .group_by(tenant::Column::ContractId)
                .into_tuple::<(String, i64)>()
                .all(&self.db)
                .await?
                .into_iter()
                .collect()
        };
        Ok(req
            .contract_ids
            .into_iter()
            .filter(|id| visible.contains(id))
            .map(|id| {
                let n: i64 = counts.get(&id).copied().unwrap_or(0);
                (id, n as u64)
            })
            .collect())
    }

    /// Deletes every tenant of an abolished contract, announcing each (idempotent: a redelivered
    /// event finds nothing left).
    async fn purge<C: ConnectionTrait>(
        &self,
        txn: &C,
        ctx: &CallCtx,
        contract_id: &str,
    ) -> AppResult<()> {
        let rows = tenant::Entity::find()
            .filter(tenant::Column::ContractId.eq(contract_id))
            .all(txn)
            .await?;
        grant::Entity::delete_many()
            .filter(grant::Column::ContractId.eq(contract_id))
            .exec(txn)
            .await?;
        for t in &rows {
            tenant::Entity::delete_by_id(t.id.clone()).exec(txn).await?;
            self.outbox
                .add(
                    txn,
                    &ctx.trace_id,
                    &TenantChanged {
                        tenant: view(t),
                        change: ecl_proto::tenant::TenantChange::Deleted,
                    },
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{grant, tenant, workspace};
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(crate::NAME, "tenant_migrations", |backend| {
            vec![
                entity_ddl(backend, tenant::Entity),
                entity_ddl(backend, workspace::Entity),
                entity_ddl(backend, grant::Entity),
            ]
        })
        .await;
    }
}
