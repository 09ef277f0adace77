//! The notification service's migrations, in its own migration table. Frozen, like every
//! migration: each states its own DDL and never changes once released (a change to a table is a
//! new migration; `migrations_build_what_the_entities_expect` checks the sum against the entities).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, string, string_null, text, text_null,
};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Notices),
            Box::new(ecl_store::inbox::CreateInbox),
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
        manager
            .create_table(
                Table::create()
                    .table("notices")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("category"))
                    .col(string("title"))
                    .col(text("body"))
                    .col(string_null("title_ja"))
                    .col(text_null("body_ja"))
                    .col(text("contract_ids"))
                    .col(text("tenant_ids"))
                    .col(big_integer_null("starts_at"))
                    .col(big_integer_null("ends_at"))
                    .col(string("source"))
                    .col(string_null("source_event_id").unique_key())
                    .col(big_integer("recipients"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("notices", "created_at"))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("deliveries")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("notice_id"))
                    .col(string_null("user_id"))
                    .col(string("contract_id"))
                    .col(string("address"))
                    .col(string("channel"))
                    .col(boolean("cc"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(text_null("last_error"))
                    .col(big_integer_null("sent_at"))
                    .col(big_integer("next_attempt_at"))
                    .col(big_integer("lease_until"))
                    .col(string("lease_owner"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        for column in [
            "notice_id",
            "user_id",
            "contract_id",
            "status",
            "next_attempt_at",
        ] {
            manager
                .create_index(ecl_store::index("deliveries", column))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("opt_outs")
                    .if_not_exists()
                    .col(string("user_id"))
                    .col(string("category"))
                    .col(string("changed_by"))
                    .col(big_integer("changed_at"))
                    .primary_key(
                        Index::create()
                            .name("pk-opt_outs")
                            .col("user_id")
                            .col("category"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("suppressions")
                    .if_not_exists()
                    .col(string("contract_id"))
                    .col(string("category"))
                    .col(big_integer("changed_at"))
                    .primary_key(
                        Index::create()
                            .name("pk-suppressions")
                            .col("contract_id")
                            .col("category"),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{delivery, notice, opt_out, suppression};
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(
            crate::NAME,
            "notification_migrations",
            |backend| {
                vec![
                    entity_ddl(backend, notice::Entity),
                    entity_ddl(backend, delivery::Entity),
                    entity_ddl(backend, opt_out::Entity),
                    entity_ddl(backend, suppression::Entity),
                ]
            },
        )
        .await;
    }
}
