//! The metering service's migrations: frozen steps, each stating its own DDL (a change to the
//! tables is a new step; `migrations_build_what_the_entities_expect` checks the sum).

use sea_orm_migration::prelude::*;

pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Usage),
            Box::new(ecl_store::inbox::CreateInbox),
            Box::new(M0002MonthStarts),
            Box::new(M0003ResourceEvents),
        ]
    }
    fn migration_table_name() -> DynIden {
        "metering_migrations".into_iden()
    }
}

/// Frozen: states its own DDL, never derived from today's entities (a change to the tables is a
/// new migration; `migrations_build_what_the_entities_expect` checks the sum).
struct M0001Usage;

impl MigrationName for M0001Usage {
    fn name(&self) -> &str {
        "m0001_usage"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Usage {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, boolean, string, string_null};
        manager
            .create_table(
                Table::create()
                    .table("usage_events")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("tenant_id"))
                    .col(string("resource_id"))
                    .col(string("menu_code"))
                    .col(string("kind"))
                    .col(big_integer("at"))
                    .col(string_null("plan"))
                    .col(string_null("status"))
                    .col(string_null("quantity"))
                    .col(string_null("resource_name"))
                    .col(big_integer("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("usage_events", "tenant_id"))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("known_tenants")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("contract_id"))
                    .col(boolean("deleted"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("known_contracts")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("kind"))
                    .to_owned(),
            )
            .await
    }
}

/// Frozen. What each resource carries into each month, so a month is read from its own events
/// (found by `(tenant_id, at)`) and one carried state per resource. A database upgraded to this
/// step has events and no carried states yet: the service fills them in at start
/// (`month_starts::backfill`).
struct M0002MonthStarts;

impl MigrationName for M0002MonthStarts {
    fn name(&self) -> &str {
        "m0002_month_starts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002MonthStarts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{string, text};
        manager
            .create_table(
                Table::create()
                    .table("usage_month_starts")
                    .if_not_exists()
                    .col(string("tenant_id"))
                    .col(string("resource_id"))
                    .col(string("menu_code"))
                    .col(string("month"))
                    .col(text("state"))
                    .primary_key(
                        Index::create()
                            .name("pk-usage_month_starts")
                            .col("tenant_id")
                            .col("resource_id")
                            .col("menu_code")
                            .col("month"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-usage_events-tenant_id-at")
                    .table("usage_events")
                    .col("tenant_id")
                    .col("at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

/// The events of one resource, in time: what keeping the month-start states reads for each
/// stored batch. Without it every batch read all of its tenants' events of the month (the
/// `(tenant_id, at)` index), so ingesting a month took time quadratic in its events (1 M events
/// did not finish in 13 minutes embedded).
#[derive(DeriveMigrationName)]
pub struct M0003ResourceEvents;

#[async_trait::async_trait]
impl MigrationTrait for M0003ResourceEvents {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx-usage_events-resource-at")
                    .table("usage_events")
                    .col("tenant_id")
                    .col("resource_id")
                    .col("menu_code")
                    .col("at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::Migrator;
    use crate::entity::{
        composite_indexes, known_contract, known_tenant, usage_event, usage_month_start,
    };
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(
            crate::NAME,
            "metering_migrations",
            |backend| {
                let (table, mut indexes) = entity_ddl(backend, usage_event::Entity);
                indexes.extend(composite_indexes());
                vec![
                    (table, indexes),
                    entity_ddl(backend, usage_month_start::Entity),
                    entity_ddl(backend, known_tenant::Entity),
                    entity_ddl(backend, known_contract::Entity),
                ]
            },
        )
        .await;
    }
}
