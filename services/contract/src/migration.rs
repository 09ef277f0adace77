//! The contract service's migrations. Frozen, like every migration: each states its own DDL and
//! never changes once released (a change to a table is a new migration;
//! `migrations_build_what_the_entities_expect` checks the sum against the entities).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, string, string_null};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Contracts),
            Box::new(M0002Groups),
            Box::new(ecl_store::inbox::CreateInbox),
            Box::new(ecl_store::list_order::CreateListOrderIndexes {
                name: "m0003_list_order",
                lists: &[("contracts", "parent_id")],
            }),
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
        manager
            .create_table(
                Table::create()
                    .table("contracts")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("kind"))
                    .col(string_null("parent_id"))
                    .col(string("name"))
                    .col(string("name_lower"))
                    .col(string_null("external_id"))
                    .col(string("status"))
                    .col(string("company"))
                    .col(string("address"))
                    .col(string("contact_name"))
                    .col(string("contact_email"))
                    .col(string_null("owner_user_id"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("abolished_at"))
                    .to_owned(),
            )
            .await?;
        for column in ["parent_id", "external_id", "created_at"] {
            manager
                .create_index(ecl_store::index("contracts", column))
                .await?;
        }
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
        manager
            .create_table(
                Table::create()
                    .table("contract_groups")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("partner_id"))
                    .col(string("name"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("contract_groups", "partner_id"))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("contract_group_children")
                    .if_not_exists()
                    .col(string("group_id"))
                    .col(string("contract_id"))
                    .primary_key(
                        Index::create()
                            .name("pk-contract_group_children")
                            .col("group_id")
                            .col("contract_id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("contract_group_users")
                    .if_not_exists()
                    .col(string("group_id"))
                    .col(string("user_id"))
                    .primary_key(
                        Index::create()
                            .name("pk-contract_group_users")
                            .col("group_id")
                            .col("user_id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("contract_group_users", "user_id"))
            .await
    }
}

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{contract, group, group_child, group_user};
    use ecl_store::list_order::with_index;
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(
            crate::NAME,
            "contract_migrations",
            |backend| {
                vec![
                    with_index(
                        entity_ddl(backend, contract::Entity),
                        "contracts",
                        "parent_id",
                    ),
                    entity_ddl(backend, group::Entity),
                    entity_ddl(backend, group_child::Entity),
                    entity_ddl(backend, group_user::Entity),
                ]
            },
        )
        .await;
    }
}
