//! A redelivered event has no effect: the consumer's inbox recognises its id. The event redelivered
//! here is a real stale one — a tenant's `created` announcement arriving again after the tenant
//! was deleted (as after a broker redelivery or a relay that published a row twice). Without the
//! inbox, metering would take the tenant back as live and accept its usage.

use super::*;
use async_trait::async_trait;
use ecl_bus::{EventEnvelope, EventHandler};
use ecl_kernel::AppError;
use parking_lot::Mutex;

/// Keeps every `tenant.changed` envelope seen on the bus.
#[derive(Default)]
struct Capture(Mutex<Vec<EventEnvelope>>);

#[async_trait]
impl EventHandler for Capture {
    async fn handle(&self, event: EventEnvelope) -> Result<(), AppError> {
        self.0.lock().push(event);
        Ok(())
    }
}

impl Capture {
    fn created(&self, tenant: &str) -> Option<EventEnvelope> {
        self.0
            .lock()
            .iter()
            .find(|e| {
                let body: serde_json::Value = serde_json::from_slice(&e.body).unwrap_or_default();
                body["tenant"]["id"] == tenant && body["change"] == "created"
            })
            .cloned()
    }
}

const RECORD: &str = "mutation($e: [UsageEventInput!]!){ recordUsage(events:$e){ outcome code } }";

/// The outcome and code of one usage event for `tenant`.
async fn usage(gql: &Gql, token: &str, tenant: &str) -> (String, String) {
    let id = uuid::Uuid::new_v4().to_string();
    let at = chrono::Utc::now().to_rfc3339();
    let r = gql
        .q(
            Some(token),
            RECORD,
            json!({"e": [{"id": id, "tenantId": tenant, "resourceId": "r1", "menuCode": "volume",
                          "kind": "START", "at": at, "plan": "15GB"}]}),
        )
        .await;
    let x = &r.data()["recordUsage"][0];
    (
        x["outcome"].as_str().unwrap_or_default().to_string(),
        x["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// `ecl_inbox_duplicates_total{group="metering"}` in a `/metrics` text.
fn duplicates(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("ecl_inbox_duplicates_total{group=\"metering\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .map(|n| n as u64)
        .unwrap_or(0)
}

async fn scrape(addr: &str) -> String {
    reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap()
}

/// What metering answered after a stale event came again.
#[derive(Debug)]
struct Redelivered {
    /// The deleted tenant's usage after the redelivery: (outcome, rejection).
    usage: (String, String),
    /// Metering's count of events its inbox recognised, before and after the redelivery.
    duplicates: (u64, u64),
}

/// Creates a tenant, deletes it, redelivers its `created` event, and returns what metering then
/// says of the tenant's usage. `metering_metrics` is the `/metrics` address of the process
/// running metering.
async fn redeliver_after_deletion(
    gql: &Gql,
    bus: &Bus,
    capture: &Capture,
    metering_metrics: &str,
) -> Redelivered {
    let token = gql.operator().await;
    let login = format!(
        "redeliver-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let r = gql
        .q(
            Some(&token),
            "mutation($i: ContractInput!){ createDirectContract(input:$i){ id } }",
            json!({"i": contract_input("Redeliver Co", None, &login)}),
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
    until(
        Duration::from_secs(30),
        "metering accepts the tenant's usage",
        || async { usage(gql, &token, &tenant).await.0 == "ACCEPTED" },
    )
    .await;
    let created = capture
        .created(&tenant)
        .expect("the created event was on the bus");

    let r = gql
        .q(
            Some(&token),
            "mutation($id: ID!){ deleteTenant(id:$id){ id } }",
            json!({"id": tenant}),
        )
        .await;
    r.data();
    until(
        Duration::from_secs(30),
        "metering refuses the deleted tenant",
        || async {
            usage(gql, &token, &tenant).await == ("REJECTED".into(), "UNKNOWN_TENANT".into())
        },
    )
    .await;

    // The stale event again, same id, as a redelivery brings it.
    let before = duplicates(&scrape(metering_metrics).await);
    bus.publish_raw(
        created.id.clone(),
        created.topic.clone(),
        created.trace_id.clone(),
        created.body.clone(),
    )
    .await
    .expect("republish");
    until(
        Duration::from_secs(30),
        "metering's inbox recognises the redelivery",
        || async { duplicates(&scrape(metering_metrics).await) > before },
    )
    .await;
    Redelivered {
        usage: usage(gql, &token, &tenant).await,
        duplicates: (before, duplicates(&scrape(metering_metrics).await)),
    }
}

/// The redelivered event was recognised and had no effect: the deleted tenant stays refused.
fn assert_one_effect(r: &Redelivered) {
    assert!(r.duplicates.1 > r.duplicates.0, "{r:?}");
    assert_eq!(
        r.usage,
        ("REJECTED".into(), "UNKNOWN_TENANT".into()),
        "the redelivered event took effect again"
    );
}

#[actix_rt::test]
async fn a_redelivered_event_has_one_effect_embedded() {
    // The recorder exists before the first duplicate is counted.
    let _ = ecl_kernel::telemetry::metrics();
    let (app, gql) = spawn_embedded().await;
    let capture = Arc::new(Capture::default());
    app.bus
        .transport()
        .subscribe_ephemeral(&["tenant.changed"], capture.clone())
        .await
        .unwrap();
    let r = redeliver_after_deletion(&gql, &app.bus, &capture, &app.addr.to_string()).await;
    app.stop().await;
    assert_one_effect(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redelivered_event_has_one_effect_distributed() {
    let d =
        Distributed::start(&["identity,contract,tenant", "billing", "metering", "gateway"]).await;
    let metering = d
        .procs
        .iter()
        .find(|p| p.target == "metering")
        .unwrap()
        .addr
        .clone();
    // The first scrape installs metering's recorder.
    scrape(&metering).await;
    let bus = d.bus().await;
    let capture = Arc::new(Capture::default());
    bus.transport()
        .subscribe_ephemeral(&["tenant.changed"], capture.clone())
        .await
        .unwrap();
    let r = redeliver_after_deletion(&d.gateway(), &bus, &capture, &metering).await;
    bus.transport().shutdown().await;
    d.cleanup().await;
    assert_one_effect(&r);
}
