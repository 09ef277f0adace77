//! The identity service's migrations. Frozen, like every migration: each states its own DDL and
//! never changes once released (a change to a table is a new migration;
//! `migrations_build_what_the_entities_expect` checks the sum against the entities).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, string, string_null, string_uniq, text,
};

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
            Box::new(ecl_store::inbox::CreateInbox),
            Box::new(M0006TotpLastStep),
            Box::new(ecl_store::list_order::CreateListOrderIndexes {
                name: "m0007_list_order",
                lists: &[("users", "contract_id")],
            }),
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
        // With the lockout columns m0002 adds to databases created before them.
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string_null("contract_id"))
                    .col(string_uniq("login_id"))
                    .col(string("email"))
                    .col(string("password_hash"))
                    .col(string("role"))
                    .col(string("status"))
                    .col(big_integer("sessions_valid_after"))
                    .col(integer("failed_attempts"))
                    .col(big_integer("failures_since"))
                    .col(big_integer("locked_until"))
                    .col(boolean("can_view_usage"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("users", "contract_id"))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("signing_keys")
                    .if_not_exists()
                    .col(string("kid").primary_key())
                    .col(string("secret"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await
    }
}

/// Lockout counters. A database created after this change already has them (m0001 creates them),
/// so each column is added only where missing.
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
        manager
            .create_table(
                Table::create()
                    .table("totp")
                    .if_not_exists()
                    .col(string("user_id").primary_key())
                    .col(string("secret"))
                    .col(boolean("enabled"))
                    .col(text("recovery_hashes"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await
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
        manager
            .create_table(
                Table::create()
                    .table("refresh_tokens")
                    .if_not_exists()
                    .col(string("token_hash").primary_key())
                    .col(string("family_id"))
                    .col(string("user_id"))
                    .col(big_integer("issued_at"))
                    .col(big_integer("expires_at"))
                    .col(boolean("used"))
                    .col(boolean("revoked"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("refresh_tokens", "family_id"))
            .await
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
        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("contract_id"))
                    .col(string("name"))
                    .col(string("prefix"))
                    .col(string_uniq("secret_hash"))
                    .col(string("scopes"))
                    .col(string("created_by"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("expires_at"))
                    .col(big_integer_null("last_used_at"))
                    .col(big_integer_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("api_keys", "contract_id"))
            .await
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

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{api_key, refresh_token, signing_key, totp, user};
    use ecl_store::list_order::with_index;
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(
            crate::NAME,
            "identity_migrations",
            |backend| {
                vec![
                    with_index(entity_ddl(backend, user::Entity), "users", "contract_id"),
                    entity_ddl(backend, signing_key::Entity),
                    entity_ddl(backend, totp::Entity),
                    entity_ddl(backend, refresh_token::Entity),
                    entity_ddl(backend, api_key::Entity),
                ]
            },
        )
        .await;
    }
}
