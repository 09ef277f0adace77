use crate::entity::{contract, group, group_child, group_user};
use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Contracts),
            Box::new(M0002Groups),
        ]
    }
    fn migration_table_name() -> DynIden {
        "contract_migrations".into_iden()
    }
}

struct M0001Contracts;

impl MigrationName for M0001Contracts {
    fn name(&self) -> &str {
        "m0001_contracts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Contracts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, contract::Entity).await?;
        Ok(())
    }
}

struct M0002Groups;

impl MigrationName for M0002Groups {
    fn name(&self) -> &str {
        "m0002_contract_groups"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Groups {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, group::Entity).await?;
        ecl_store::create_entity_table(manager, group_child::Entity).await?;
        ecl_store::create_entity_table(manager, group_user::Entity).await
    }
}
