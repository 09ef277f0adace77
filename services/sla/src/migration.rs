//! The SLA service's migrations, in its own migration table. Frozen, like every migration: a
//! change to a table is a new migration (`migrations_build_what_the_entities_expect` checks the
//! sum against the entities).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, string, string_null, text, text_null,
};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(ecl_store::inbox::CreateInbox),
            Box::new(M0001Sla),
        ]
    }
    fn migration_table_name() -> DynIden {
        "sla_migrations".into_iden()
    }
}

struct M0001Sla;

impl MigrationName for M0001Sla {
    fn name(&self) -> &str {
        "m0001_sla"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Sla {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("incidents")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("menu_code"))
                .col(string("cause"))
                .col(string("title"))
                .col(text_null("description"))
                .col(string_null("region"))
                .col(big_integer("started_at"))
                .col(big_integer_null("restored_at"))
                .col(string("created_by"))
                .col(big_integer("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(ecl_store::index("incidents", "started_at"))
            .await?;
        m.create_table(
            Table::create()
                .table("affected")
                .if_not_exists()
                .col(string("event_id"))
                .col(string("tenant_id"))
                .col(string("contract_id"))
                .col(string("menu_code"))
                .col(string("kind"))
                .col(string("cause"))
                .col(big_integer("starts_at"))
                .col(big_integer_null("ends_at"))
                .col(big_integer("created_at"))
                .primary_key(
                    Index::create()
                        .name("pk-affected")
                        .col("event_id")
                        .col("tenant_id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(ecl_store::index("affected", "contract_id"))
            .await?;
        m.create_table(
            Table::create()
                .table("maintenances")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("kind"))
                .col(string("menu_code"))
                .col(string("title"))
                .col(text_null("description"))
                .col(string_null("region"))
                .col(big_integer("starts_at"))
                .col(big_integer("ends_at"))
                .col(string("created_by"))
                .col(big_integer("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("part_replacements")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("contract_id"))
                .col(string("tenant_id"))
                .col(string("menu_code"))
                .col(string("resource_id"))
                .col(string("part"))
                .col(big_integer("detected_at"))
                .col(big_integer("proposed_at"))
                .col(big_integer("agreed_start_at"))
                .col(big_integer_null("started_at"))
                .col(big_integer("created_at"))
                .to_owned(),
        )
        .await?;
        for c in ["contract_id", "resource_id"] {
            m.create_index(ecl_store::index("part_replacements", c))
                .await?;
        }
        m.create_table(
            Table::create()
                .table("claims")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("contract_id"))
                .col(string("breach_kind"))
                .col(string("breach_id"))
                .col(string("breach_key").unique_key())
                .col(string("month"))
                .col(string("menu_code"))
                .col(text_null("note"))
                .col(string("status"))
                .col(string_null("amount"))
                .col(string_null("currency"))
                .col(text_null("reason"))
                .col(string("filed_by"))
                .col(big_integer("filed_at"))
                .col(string_null("decided_by"))
                .col(big_integer_null("decided_at"))
                .col(string_null("bill_month"))
                .to_owned(),
        )
        .await?;
        m.create_index(ecl_store::index("claims", "contract_id"))
            .await?;
        m.create_table(
            Table::create()
                .table("credits")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("claim_id").unique_key())
                .col(string("contract_id"))
                .col(string_null("parent_id"))
                .col(string("amount"))
                .col(text("tenant_amounts"))
                .col(string("currency"))
                .col(string("failure_month"))
                .col(string("bill_month"))
                .col(string("label"))
                .col(big_integer("approved_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(ecl_store::index("credits", "contract_id"))
            .await?;
        m.create_table(
            Table::create()
                .table("tenants")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("contract_id"))
                .col(string("region"))
                .col(boolean("deleted"))
                .to_owned(),
        )
        .await?;
        m.create_index(ecl_store::index("tenants", "region")).await
    }
}

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{affected, claim, credit, incident, maintenance, part_replacement, tenant};
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(crate::NAME, "sla_migrations", |backend| {
            vec![
                entity_ddl(backend, incident::Entity),
                entity_ddl(backend, affected::Entity),
                entity_ddl(backend, maintenance::Entity),
                entity_ddl(backend, part_replacement::Entity),
                entity_ddl(backend, claim::Entity),
                entity_ddl(backend, credit::Entity),
                entity_ddl(backend, tenant::Entity),
            ]
        })
        .await;
    }
}
