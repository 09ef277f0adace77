//! Billing's tables, frozen: each migration states its own DDL (a change to a table is a new
//! migration; `migrations_build_what_the_entities_expect` checks the sum against the entities).

use sea_orm_migration::prelude::*;

pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ecl_store::outbox::CreateOutbox),
            Box::new(M0001Billing),
            Box::new(ecl_store::inbox::CreateInbox),
            Box::new(crate::credits::M0002SlaCredits),
            Box::new(crate::payments::M0003Payments),
            Box::new(crate::commercial::store::M0002Commercial),
            Box::new(crate::fixed_bill_parts::M0004FixedBillTenants),
            Box::new(crate::commercial::store::M0005BillCorrections),
        ]
    }
    fn migration_table_name() -> DynIden {
        "billing_migrations".into_iden()
    }
}

/// Frozen, like every migration: states its own DDL (a change to a table is a new migration;
/// `migrations_build_what_the_entities_expect` checks the sum against the entities).
struct M0001Billing;

impl MigrationName for M0001Billing {
    fn name(&self) -> &str {
        "m0001_billing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Billing {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string, string_null};
        let tables = [
            Table::create()
                .table("menus")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("code"))
                .col(string("effective_from"))
                .col(big_integer("seq"))
                .col(string("body"))
                .col(big_integer("updated_at"))
                .to_owned(),
            Table::create()
                .table("billing_contracts")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("kind"))
                .col(string_null("parent_id"))
                .col(string_null("external_id"))
                .to_owned(),
            Table::create()
                .table("billing_tenants")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("contract_id"))
                .col(string("name"))
                .col(string("region"))
                .col(string("workspace_id"))
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("tenant_months")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("tenant_id"))
                .col(string("month"))
                .to_owned(),
            Table::create()
                .table("fixed_bills")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("contract_id"))
                .col(string("month"))
                .col(string("body"))
                .to_owned(),
            Table::create()
                .table("closed_months")
                .if_not_exists()
                .col(string("month").primary_key())
                .col(big_integer("bills"))
                .col(big_integer("closed_at"))
                .to_owned(),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        for (table, column) in [
            ("menus", "code"),
            ("billing_contracts", "parent_id"),
            ("billing_tenants", "contract_id"),
            ("tenant_months", "tenant_id"),
            ("fixed_bills", "contract_id"),
        ] {
            manager
                .create_index(ecl_store::index(table, column))
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod schema_tests {
    use super::Migrator;
    use crate::entity::{closed_month, contract, fixed_bill, menu, tenant, tenant_month};
    use ecl_store::schema_check::{assert_migrations_match_entities, entity_ddl};

    /// A fresh database migrated step by step has exactly the tables, columns and indexes the
    /// entities read and write (SQLite and PostgreSQL).
    #[tokio::test]
    async fn migrations_build_what_the_entities_expect() {
        assert_migrations_match_entities::<Migrator>(
            crate::NAME,
            "billing_migrations",
            |backend| {
                vec![
                    entity_ddl(backend, menu::Entity),
                    entity_ddl(backend, contract::Entity),
                    entity_ddl(backend, tenant::Entity),
                    entity_ddl(backend, tenant_month::Entity),
                    entity_ddl(backend, fixed_bill::Entity),
                    entity_ddl(backend, closed_month::Entity),
                    entity_ddl(backend, crate::credits::entity::Entity),
                    entity_ddl(backend, crate::payments::entity::Entity),
                    entity_ddl(backend, crate::fixed_bill_parts::entity::Entity),
                ]
                .into_iter()
                .chain(crate::commercial::store::entity_ddls(backend))
                .collect()
            },
        )
        .await;
    }
}
