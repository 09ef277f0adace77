//! Checks that a service's migrations build the schema its entities expect.
//!
//! Migrations state their own DDL (frozen: a migration never changes once released), so an entity
//! changed without a migration would leave a fresh database and an upgraded one different from
//! what the code reads and writes. [`assert_migrations_match_entities`] migrates an empty database
//! one migration at a time, creates the same tables a second time straight from the entities
//! (`Schema::create_table_from_entity`), and compares the two as the database describes them —
//! columns with type, nullability, default and key; indexes with name, uniqueness and columns —
//! on SQLite and on PostgreSQL. Each service runs it in its tests.

use crate::{connect, ensure_schema};
use ecl_kernel::Settings;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Schema, Statement,
    sea_query::{IndexCreateStatement, TableCreateStatement},
};
use sea_orm_migration::MigratorTrait;
use std::collections::BTreeMap;

/// What `Schema` derives from one entity: its table and its indexes.
pub type EntityDdl = (TableCreateStatement, Vec<IndexCreateStatement>);

/// The table and indexes of `entity` as `Schema` derives them for `backend`.
pub fn entity_ddl<E: EntityTrait>(backend: DbBackend, entity: E) -> EntityDdl {
    let schema = Schema::new(backend);
    (
        schema.create_table_from_entity(entity),
        schema.create_index_from_entity(entity),
    )
}

/// The tables every service's store holds beside its own (outbox, inbox, dead letters).
pub fn store_entities(backend: DbBackend) -> Vec<EntityDdl> {
    vec![
        entity_ddl(backend, crate::outbox::entity::Entity),
        entity_ddl(backend, crate::inbox::entity::Entity),
        entity_ddl(backend, crate::dead_letters::entity::Entity),
    ]
}

/// One table as the database describes it.
#[derive(Debug, PartialEq, Eq)]
pub struct TableShape {
    /// name → (type, not null, default, part of the primary key), sorted by name: column order
    /// is not part of the contract (a later migration appends where the entity may insert).
    pub columns: BTreeMap<String, (String, bool, Option<String>, bool)>,
    /// Index definitions, normalised per backend.
    pub indexes: Vec<String>,
}

/// Describes every table of `schema` (PostgreSQL) or of the database (SQLite), except the
/// migration bookkeeping table.
pub async fn describe(
    db: &DatabaseConnection,
    schema: &str,
    migration_table: &str,
) -> BTreeMap<String, TableShape> {
    let backend = db.get_database_backend();
    let rows = |sql: String, values: Vec<sea_orm::Value>| {
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
    };
    let mut out = BTreeMap::new();
    match backend {
        DbBackend::Sqlite => {
            let tables = rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name".into(),
                vec![],
            )
            .await
            .expect("sqlite_master");
            for t in tables {
                let name: String = t.try_get("", "name").unwrap();
                if name == migration_table {
                    continue;
                }
                let mut columns = BTreeMap::new();
                for c in rows(format!("PRAGMA table_info(\"{name}\")"), vec![])
                    .await
                    .unwrap()
                {
                    let col: String = c.try_get("", "name").unwrap();
                    let ty: String = c.try_get("", "type").unwrap();
                    let notnull: i32 = c.try_get("", "notnull").unwrap();
                    let default: Option<String> = c.try_get("", "dflt_value").unwrap();
                    let pk: i32 = c.try_get("", "pk").unwrap();
                    columns.insert(col, (ty.to_lowercase(), notnull == 1, default, pk > 0));
                }
                let mut indexes = Vec::new();
                for i in rows(format!("PRAGMA index_list(\"{name}\")"), vec![])
                    .await
                    .unwrap()
                {
                    let iname: String = i.try_get("", "name").unwrap();
                    let unique: i32 = i.try_get("", "unique").unwrap();
                    let origin: String = i.try_get("", "origin").unwrap();
                    let cols: Vec<String> = rows(format!("PRAGMA index_info(\"{iname}\")"), vec![])
                        .await
                        .unwrap()
                        .iter()
                        .map(|c| c.try_get::<String>("", "name").unwrap())
                        .collect();
                    // Automatic indexes (primary key, UNIQUE) are numbered by SQLite: compare
                    // what they are, not what they are called.
                    let label = if origin == "c" { iname } else { String::new() };
                    indexes.push(format!(
                        "{label} origin={origin} unique={unique} ({})",
                        cols.join(",")
                    ));
                }
                indexes.sort();
                out.insert(name, TableShape { columns, indexes });
            }
        }
        DbBackend::Postgres => {
            let cols = rows(
                "SELECT c.table_name::text AS t, c.column_name::text AS c, c.data_type::text AS ty, \
                 c.is_nullable::text AS nullable, c.column_default::text AS dflt, \
                 EXISTS (SELECT 1 FROM information_schema.table_constraints tc \
                         JOIN information_schema.key_column_usage k \
                           ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema \
                           AND k.table_name = tc.table_name \
                         WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema \
                           AND tc.table_name = c.table_name AND k.column_name = c.column_name) AS pk \
                 FROM information_schema.columns c WHERE c.table_schema = $1 \
                 ORDER BY c.table_name, c.column_name"
                    .into(),
                vec![schema.into()],
            )
            .await
            .expect("information_schema.columns");
            for r in cols {
                let t: String = r.try_get("", "t").unwrap();
                if t == migration_table {
                    continue;
                }
                let c: String = r.try_get("", "c").unwrap();
                let ty: String = r.try_get("", "ty").unwrap();
                let nullable: String = r.try_get("", "nullable").unwrap();
                let dflt: Option<String> = r.try_get("", "dflt").unwrap();
                let pk: bool = r.try_get("", "pk").unwrap();
                out.entry(t)
                    .or_insert_with(|| TableShape {
                        columns: BTreeMap::new(),
                        indexes: Vec::new(),
                    })
                    .columns
                    .insert(c, (ty, nullable == "NO", dflt, pk));
            }
            let idx = rows(
                "SELECT tablename::text AS t, indexname::text AS n, indexdef::text AS d \
                 FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname"
                    .into(),
                vec![schema.into()],
            )
            .await
            .expect("pg_indexes");
            for r in idx {
                let t: String = r.try_get("", "t").unwrap();
                if let Some(shape) = out.get_mut(&t) {
                    let d: String = r.try_get("", "d").unwrap();
                    // The schema name differs between the two databases compared.
                    shape.indexes.push(
                        d.replace(&format!("{schema}."), "")
                            .replace(&format!("\"{schema}\"."), ""),
                    );
                }
            }
        }
        other => panic!("unsupported backend {other:?}"),
    }
    out
}

/// Migrates an empty database step by step and creates `entities` (plus the store's own tables)
/// in a second one, on SQLite and on PostgreSQL (`ECL_TEST_PG_URL`, default
/// `postgres://postgres@127.0.0.1:5432`), and panics with both descriptions where they differ.
pub async fn assert_migrations_match_entities<M: MigratorTrait>(
    service: &str,
    migration_table: &str,
    entities: fn(DbBackend) -> Vec<EntityDdl>,
) {
    // SQLite: two in-memory databases.
    let settings = Settings {
        database_url: Some("sqlite::memory:".into()),
        ..Settings::default()
    };
    let migrated = connect(&settings, service).await.expect("sqlite");
    migrate_step_by_step::<M>(&migrated, service).await;
    let derived = connect(&settings, service).await.expect("sqlite");
    create_from_entities(&derived, entities).await;
    compare(
        "SQLite",
        describe(&migrated, "main", migration_table).await,
        describe(&derived, "main", migration_table).await,
    );

    // PostgreSQL: one fresh database, the service's schema migrated, a second schema derived.
    let base = std::env::var("ECL_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let dbname = format!(
        "ecl_schema_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let admin = sea_orm::Database::connect(format!("{base}/postgres"))
        .await
        .expect("PostgreSQL reachable at ECL_TEST_PG_URL (./scripts/test starts it)");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {dbname}"))
        .await
        .expect("create database");
    let outcome = async {
        let settings = Settings {
            database_url: Some(format!("{base}/{dbname}")),
            ..Settings::default()
        };
        let migrated = connect(&settings, service).await.expect("pg");
        migrate_step_by_step::<M>(&migrated, service).await;
        let other = format!("{service}_entities");
        let derived = connect(&settings, &other).await.expect("pg");
        ensure_schema(&derived, &other).await.expect("schema");
        create_from_entities(&derived, entities).await;
        let a = describe(&migrated, service, migration_table).await;
        let b = describe(&derived, &other, migration_table).await;
        migrated.close().await.ok();
        derived.close().await.ok();
        (a, b)
    };
    // The database goes also when a migration panics.
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
        .await
        .ok();
    let (a, b) = outcome.unwrap_or_else(|e| std::panic::resume_unwind(e));
    compare("PostgreSQL", a, b);
}

/// Applies one pending migration at a time, the way an old database is upgraded.
async fn migrate_step_by_step<M: MigratorTrait>(db: &DatabaseConnection, service: &str) {
    ensure_schema(db, service).await.expect("schema");
    let total = M::migrations().len();
    for step in 0..=total {
        let pending = M::get_pending_migrations(db).await.expect("pending");
        if pending.is_empty() {
            return;
        }
        assert!(step < total, "migrations never finish");
        M::up(db, Some(1))
            .await
            .unwrap_or_else(|e| panic!("migration step {step} of {service}: {e}"));
    }
}

async fn create_from_entities(db: &DatabaseConnection, entities: fn(DbBackend) -> Vec<EntityDdl>) {
    let backend = db.get_database_backend();
    for (table, indexes) in store_entities(backend).into_iter().chain(entities(backend)) {
        db.execute(&table).await.expect("create table from entity");
        for i in indexes {
            db.execute(&i).await.expect("create index from entity");
        }
    }
}

fn compare(
    backend: &str,
    migrated: BTreeMap<String, TableShape>,
    derived: BTreeMap<String, TableShape>,
) {
    assert!(
        derived.values().all(|t| !t.columns.is_empty()) && !derived.is_empty(),
        "{backend}: nothing described: {derived:?}"
    );
    let mut problems = Vec::new();
    for (t, shape) in &derived {
        match migrated.get(t) {
            None => problems.push(format!(
                "table {t}: the entities have it, the migrations do not create it"
            )),
            Some(m) if m != shape => problems.push(format!(
                "table {t}:\n  migrations build {m:?}\n  entities expect {shape:?}"
            )),
            _ => {}
        }
    }
    for t in migrated.keys() {
        if !derived.contains_key(t) {
            problems.push(format!(
                "table {t}: the migrations create it, no entity in the check has it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{backend}: the migrated schema differs from the entities' (add a migration; never edit a \
         released one):\n{}",
        problems.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::prelude::*;

    /// The inbox as a careless migration would create it: `handled_at` nullable, no index.
    struct CarelessInbox;

    impl MigrationName for CarelessInbox {
        fn name(&self) -> &str {
            "careless_inbox"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CarelessInbox {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use sea_orm_migration::schema::{big_integer_null, string};
            manager
                .create_table(
                    Table::create()
                        .table("inbox")
                        .col(string("event_id").primary_key())
                        .col(string("topic"))
                        .col(big_integer_null("handled_at"))
                        .to_owned(),
                )
                .await
        }
    }

    struct Careless;

    impl MigratorTrait for Careless {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![
                Box::new(crate::outbox::CreateOutbox),
                Box::new(CarelessInbox),
            ]
        }
        fn migration_table_name() -> DynIden {
            "careless_migrations".into_iden()
        }
    }

    struct Store;

    impl MigratorTrait for Store {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![
                Box::new(crate::outbox::CreateOutbox),
                Box::new(crate::inbox::CreateInbox),
            ]
        }
        fn migration_table_name() -> DynIden {
            "store_migrations".into_iden()
        }
    }

    #[tokio::test]
    async fn the_store_migrations_build_what_its_entities_expect() {
        assert_migrations_match_entities::<Store>("storecheck", "store_migrations", |_| vec![])
            .await;
    }

    #[tokio::test]
    #[should_panic(expected = "table inbox:")]
    async fn a_migration_that_differs_from_its_entity_is_caught() {
        assert_migrations_match_entities::<Careless>(
            "carelesscheck",
            "careless_migrations",
            |_| vec![],
        )
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "table dead_letters: the entities have it, the migrations do not")]
    async fn a_table_no_migration_creates_is_caught() {
        assert_migrations_match_entities::<Careless>(
            "carelesscheck",
            "careless_migrations",
            |_| vec![],
        )
        .await;
    }
}
