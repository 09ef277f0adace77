//! A poison event — one its consumer's handler keeps failing on (here metering's store refuses
//! the tenant it announces: a trigger the test adds) — ends in the dead-letter list after its
//! retries instead of being dropped (the in-process bus used to drop it after five attempts), and
//! `ecl dead-letters replay` hands it back once the cause is gone: its effect then happens once.
//! Both transports, through the `ecl dead-letters` CLI as an operator runs it.

use super::*;
use sea_orm::DbBackend;

const RECORD: &str = "mutation($e: [UsageEventInput!]!){ recordUsage(events:$e){ outcome code } }";

async fn usage_outcome(gql: &Gql, token: &str, tenant: &str) -> String {
    let r = gql
        .q(
            Some(token),
            RECORD,
            json!({"e": [{"id": uuid::Uuid::new_v4().to_string(), "tenantId": tenant,
                          "resourceId": "r1", "menuCode": "volume", "kind": "START",
                          "at": chrono::Utc::now().to_rfc3339(), "plan": "15GB"}]}),
        )
        .await;
    let x = &r.data()["recordUsage"][0];
    format!(
        "{} {}",
        x["outcome"].as_str().unwrap_or_default(),
        x["code"].as_str().unwrap_or_default()
    )
    .trim()
    .to_string()
}

/// `ecl dead-letters …` with the deployment's database URL, as an operator runs it.
fn cli(database_url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(ecl_bin())
        .arg("dead-letters")
        .args(args)
        .env("ECL_DATABASE_URL", database_url)
        .output()
        .expect("run ecl");
    assert!(
        out.status.success(),
        "ecl dead-letters {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn listed(database_url: &str) -> Vec<serde_json::Value> {
    serde_json::from_str::<Vec<serde_json::Value>>(&cli(database_url, &["list", "--json"]))
        .expect("JSON list")
}

/// What the operator saw of a poison event, while its cause was there and after the replay.
#[derive(Debug)]
struct Poisoned {
    /// The dead letter as `ecl dead-letters list --json` gave it.
    letter: serde_json::Value,
    /// `ecl dead-letters list` while the cause was there.
    listed: String,
    /// The tenant's usage outcome while the cause was there.
    usage_refused: String,
    /// `ecl dead-letters replay <id>` once the cause was gone.
    replayed: String,
    /// The tenant's usage outcome after the replay.
    usage_after: String,
    /// `ecl dead-letters list` after the replay.
    listed_after: String,
}

/// Makes metering's store refuse a tenant, announces one, and once it is a dead letter removes
/// the cause and replays it. `metering` is a connection to metering's store, `database_url` the
/// deployment's setting.
async fn poison_then_replay(
    gql: &Gql,
    metering: &DatabaseConnection,
    database_url: &str,
) -> Poisoned {
    let backend = metering.get_database_backend();
    let (poison, cure) = match backend {
        DbBackend::Postgres => (
            vec![
                "CREATE FUNCTION metering.refuse() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
                "CREATE TRIGGER refuse BEFORE INSERT ON metering.known_tenants \
                 FOR EACH ROW EXECUTE FUNCTION metering.refuse()",
            ],
            "DROP TRIGGER refuse ON metering.known_tenants",
        ),
        _ => (
            vec![
                "CREATE TRIGGER refuse BEFORE INSERT ON known_tenants \
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            ],
            "DROP TRIGGER refuse",
        ),
    };
    for sql in poison {
        metering.execute_unprepared(sql).await.expect("poison");
    }

    let token = gql.operator().await;
    let login = format!("poison-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let r = gql
        .q(
            Some(&token),
            "mutation($i: ContractInput!){ createDirectContract(input:$i){ id } }",
            json!({"i": contract_input("Poison Co", None, &login)}),
        )
        .await;
    let contract = r.data()["createDirectContract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gql
        .q(
            Some(&token),
            "mutation($id: ID!){ createTenant(contractId:$id, input:{name:\"t\", region:\"jp1\"}){ id } }",
            json!({"id": contract}),
        )
        .await;
    let tenant = r.data()["createTenant"]["id"].as_str().unwrap().to_string();

    // After its retries the announcement is a dead letter of metering's, listed by the CLI.
    let mut letter = serde_json::Value::Null;
    until(
        Duration::from_secs(60),
        "the event is listed as a dead letter",
        || {
            let found = listed(database_url).into_iter().find(|l| {
                l["service"] == "metering"
                    && l["topic"] == "tenant.changed"
                    && l["payload"].as_str().is_some_and(|p| p.contains(&tenant))
            });
            let got = found.is_some();
            if let Some(f) = found {
                letter = f;
            }
            async move { got }
        },
    )
    .await;
    let listed_then = cli(database_url, &["list"]);
    let usage_refused = usage_outcome(gql, &token, &tenant).await;

    // Cause gone, replayed by the operator: handled once, gone from the list.
    metering.execute_unprepared(cure).await.expect("cure");
    let id = letter["event_id"].as_str().unwrap().to_string();
    let replayed = cli(database_url, &["replay", &id]);
    until(
        Duration::from_secs(30),
        "the replayed dead letter is gone",
        || {
            let left = listed(database_url)
                .iter()
                .any(|l| l["event_id"] == id.as_str());
            async move { !left }
        },
    )
    .await;
    Poisoned {
        letter,
        listed: listed_then,
        usage_refused,
        replayed,
        usage_after: usage_outcome(gql, &token, &tenant).await,
        listed_after: cli(database_url, &["list"]),
    }
}

/// Retried, then listed as a dead letter without effect; after the cure the replay ran it once
/// and it left the list.
fn assert_dead_lettered_then_replayed(p: &Poisoned) {
    let letter = &p.letter;
    assert!(letter["attempts"].as_i64().unwrap() >= ecl_bus::EVENT_ATTEMPTS as i64);
    assert!(
        letter["error"].as_str().unwrap().starts_with("INTERNAL"),
        "{letter}"
    );
    assert!(p.listed.contains(letter["event_id"].as_str().unwrap()));
    assert_eq!(
        p.usage_refused, "REJECTED UNKNOWN_TENANT",
        "the effect did not happen"
    );
    assert!(p.replayed.contains("metering: 1"), "{}", p.replayed);
    assert_eq!(p.usage_after, "ACCEPTED");
    assert!(p.listed_after.contains("no dead letters"));
}

#[actix_rt::test]
async fn a_poison_event_becomes_a_dead_letter_and_replays_embedded() {
    // SQLite files (not memory): the CLI, another process, reads them.
    let dir = std::env::temp_dir().join(format!("ecl-poison-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/ecl.db", dir.display());
    let (app, gql) = spawn_embedded_with(Arc::new(ecl_kernel::SystemClock), |s| {
        s.database_url = Some(url.clone());
    })
    .await;
    let metering =
        sea_orm::Database::connect(format!("sqlite://{}/ecl-metering.db", dir.display()))
            .await
            .unwrap();
    let poisoned = poison_then_replay(&gql, &metering, &url).await;
    metering.close().await.ok();
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_dead_lettered_then_replayed(&poisoned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_event_becomes_a_dead_letter_and_replays_distributed() {
    let d =
        Distributed::start(&["identity,contract,tenant", "billing", "metering", "gateway"]).await;
    let metering = d.database().await;
    let poisoned = poison_then_replay(&d.gateway(), &metering, &pg_url(&d.db)).await;
    metering.close().await.ok();
    d.cleanup().await;
    assert_dead_lettered_then_replayed(&poisoned);
}
