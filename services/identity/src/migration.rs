use crate::entity::{api_key, refresh_token, signing_key, totp, user};
use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Users),
            Box::new(M0002Lockout),
            Box::new(M0003Totp),
            Box::new(M0004Refresh),
            Box::new(M0005ApiKeys),
            Box::new(M0006TotpLastStep),
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

/// Lockout counters. A database created after this change already has them (m0001 creates the
/// table from the entity), so each column is added only where missing.
struct M0002Lockout;

impl MigrationName for M0002Lockout {
    fn name(&self) -> &str {
        "m0002_lockout"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Lockout {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            "failed_attempts",
            "failures_since",
            "locked_until",
            "can_view_usage",
        ] {
            if !manager.has_column("users", col).await? {
                let mut def = ColumnDef::new(Alias::new(col));
                match col {
                    "failed_attempts" => def.integer().not_null().default(0),
                    "can_view_usage" => def.boolean().not_null().default(true),
                    _ => def.big_integer().not_null().default(0),
                };
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new("users"))
                            .add_column(def)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

struct M0003Totp;

impl MigrationName for M0003Totp {
    fn name(&self) -> &str {
        "m0003_totp"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Totp {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, totp::Entity).await
    }
}

struct M0004Refresh;

impl MigrationName for M0004Refresh {
    fn name(&self) -> &str {
        "m0004_refresh_tokens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004Refresh {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, refresh_token::Entity).await
    }
}

struct M0005ApiKeys;

impl MigrationName for M0005ApiKeys {
    fn name(&self) -> &str {
        "m0005_api_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005ApiKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ecl_store::create_entity_table(manager, api_key::Entity).await
    }
}

/// TOTP replay protection moves from the cache into the store (issue 9): the last accepted step.
struct M0006TotpLastStep;

impl MigrationName for M0006TotpLastStep {
    fn name(&self) -> &str {
        "m0006_totp_last_step"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006TotpLastStep {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("totp", "last_step").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("totp"))
                    .add_column(ColumnDef::new(Alias::new("last_step")).big_integer().null())
                    .to_owned(),
            )
            .await
    }
}
