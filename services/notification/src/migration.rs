//! The notification service's schema, in its own migration table.

use crate::entity::{delivery, notice, opt_out, suppression};
use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Notices),
        ]
    }
    fn migration_table_name() -> DynIden {
        "notification_migrations".into_iden()
    }
}

struct M0001Notices;

impl MigrationName for M0001Notices {
    fn name(&self) -> &str {
        "m0001_notices"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Notices {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, notice::Entity).await?;
        ecl_store::create_entity_table(manager, delivery::Entity).await?;
        ecl_store::create_entity_table(manager, opt_out::Entity).await?;
        ecl_store::create_entity_table(manager, suppression::Entity).await
    }
}
