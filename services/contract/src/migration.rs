use crate::entity::contract;
use sea_orm::Schema;
use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Contracts),
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
        let schema = Schema::new(manager.get_database_backend());
        manager
            .create_table(
                schema
                    .create_table_from_entity(contract::Entity)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        for mut idx in schema.create_index_from_entity(contract::Entity) {
            manager.create_index(idx.if_not_exists().to_owned()).await?;
        }
        Ok(())
    }
}
