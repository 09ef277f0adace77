//! The tenant service's migrations.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Tenants),
            Box::new(M0002AccessAndWorkspaces),
            Box::new(ecl_store::inbox::CreateInbox),
            Box::new(ecl_store::list_order::CreateListOrderIndexes {
                name: "m0003_list_order",
                lists: &[("tenants", "contract_id")],
            }),
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

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{grant, tenant, workspace};
    use ecl_store::list_order::with_index;
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(crate::NAME, "tenant_migrations", |backend| {
            vec![
                with_index(
                    entity_ddl(backend, tenant::Entity),
                    "tenants",
                    "contract_id",
                ),
                entity_ddl(backend, workspace::Entity),
                entity_ddl(backend, grant::Entity),
            ]
        })
        .await;
    }
}
