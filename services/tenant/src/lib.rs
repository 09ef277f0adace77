//! Tenant-access service (SPEC §3): tenants of a contract and users' access rights to them.
//! So far it owns the tenant table and answers how many tenants contracts have (asked before a
//! contract is abolished); creating tenants and access rights come with the tenants issue.

use ecl_bus::{CallCtx, EventRouter, Router};
use ecl_kernel::{AppError, AppResult};
use ecl_proto::tenant::CountTenants;
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Schema};
use sea_orm_migration::prelude::*;
use std::sync::Arc;

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
        let schema = Schema::new(manager.get_database_backend());
        manager
            .create_table(
                schema
                    .create_table_from_entity(tenant::Entity)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        for mut idx in schema.create_index_from_entity(tenant::Entity) {
            manager.create_index(idx.if_not_exists().to_owned()).await?;
        }
        Ok(())
    }
}

pub struct Tenants {
    db: DatabaseConnection,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    Migrator::up(&db, None).await?;
    let svc = Arc::new(Tenants { db: db.clone() });
    let router = Router::default()
        .route(|s: Arc<Tenants>, ctx, req: CountTenants| async move { s.count(&ctx, req).await });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, EventRouter::default()).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

impl Tenants {
    async fn count(&self, ctx: &CallCtx, req: CountTenants) -> AppResult<Vec<(String, u64)>> {
        if matches!(ctx.principal, ecl_kernel::Principal::Anonymous) {
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
}
