use crate::entity::{signing_key, user};
use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Users),
        ]
    }
    fn migration_table_name() -> DynIden {
        "identity_migrations".into_iden()
    }
}

struct M0001Users;

impl MigrationName for M0001Users {
    fn name(&self) -> &str {
        "m0001_users"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Users {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, user::Entity).await?;
        ecl_store::create_entity_table(manager, signing_key::Entity).await?;
        Ok(())
    }
}
