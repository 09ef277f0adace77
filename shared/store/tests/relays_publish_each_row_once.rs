//! Two outbox relays (two replicas of one service) on one PostgreSQL outbox: each row is published
//! once — the relays claim their batches with `FOR UPDATE SKIP LOCKED` instead of both taking the
//! oldest rows.

use async_trait::async_trait;
use ecl_bus::{Bus, EventEnvelope, EventHandler, MemoryTransport, Transport};
use ecl_kernel::{AppError, Settings};
use ecl_store::Outbox;
use parking_lot::Mutex;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set, TransactionTrait,
};
use sea_orm_migration::prelude::*;
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

const SERVICE: &str = "relaytest";
const ROWS: usize = 3_000;

struct Migrator;

#[async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(ecl_store::outbox::CreateOutbox)]
    }
    fn migration_table_name() -> DynIden {
        "relaytest_migrations".into_iden()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Relayed(usize);

impl ecl_proto::Event for Relayed {
    const TOPIC: &'static str = "test.relayed";
}

/// Counts how often each event id arrives.
#[derive(Default)]
struct Seen(Mutex<HashMap<String, usize>>);

#[async_trait]
impl EventHandler for Seen {
    async fn handle(&self, event: EventEnvelope) -> Result<(), AppError> {
        *self.0.lock().entry(event.id).or_default() += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_on_one_postgres_outbox_publish_each_row_once() {
    let base = std::env::var("ECL_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!(
        "ecl_relay_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let admin = sea_orm::Database::connect(format!("{base}/postgres"))
        .await
        .expect("PostgreSQL reachable at ECL_TEST_PG_URL (./scripts/test starts it)");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let settings = Settings {
        database_url: Some(format!("{base}/{name}")),
        ..Settings::default()
    };
    let a = ecl_store::connect(&settings, SERVICE).await.unwrap();
    ecl_store::migrate::<Migrator>(&a, SERVICE).await.unwrap();
    let b = ecl_store::connect(&settings, SERVICE).await.unwrap();

    let transport = Arc::new(MemoryTransport::default());
    let seen = Arc::new(Seen::default());
    transport
        .subscribe("counter", &["#"], seen.clone())
        .await
        .unwrap();
    let bus = Bus::new(transport);

    // The rows are there before either relay starts: both find a full outbox at once.
    let txn = a.begin().await.unwrap();
    for i in 0..ROWS {
        ecl_store::outbox::entity::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            topic: Set(<Relayed as ecl_proto::Event>::TOPIC.to_string()),
            payload: Set(serde_json::to_string(&Relayed(i)).unwrap()),
            trace_id: Set("trace".into()),
            created_at: Set(i as i64),
        }
        .insert(&txn)
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
    let relays = [
        Outbox::start(a.clone(), bus.clone(), SERVICE),
        Outbox::start(b.clone(), bus.clone(), SERVICE),
    ];
    for r in &relays {
        r.wake();
    }

    let started = Instant::now();
    loop {
        let left = ecl_store::outbox::entity::Entity::find()
            .count(&a)
            .await
            .unwrap();
        if left == 0 && seen.0.lock().len() == ROWS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{left} rows left, {} ids seen",
            seen.0.lock().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let twice: Vec<(String, usize)> = seen
        .0
        .lock()
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| (id.clone(), *n))
        .collect();
    a.close().await.ok();
    b.close().await.ok();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
    assert!(
        twice.is_empty(),
        "{} of {ROWS} rows published more than once, e.g. {:?}",
        twice.len(),
        twice.first()
    );
}
