//! SLA end to end, embedded and distributed, through the GraphQL API and a real SMTP server: an
//! incident mails its FAILURE notice to the seeds' recipients, `Contract.availability` shows the
//! credit it earns, a claim is refused when late or while a payment is overdue and accepted
//! once paid, the operator approves it and the credit lands on the bill two months later (the
//! GraphQL bill and the legacy CSV), reducing the partner's bill too; bad input is coded and
//! changes nothing; the walk over children's bills, credits and tenants' incidents costs the same
//! bus requests for 2 and 25 children.

use crate::common;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use common::{smtp::Smtp, *};
use ecl_kernel::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;

const INCIDENT: &str = "mutation($i: RecordIncidentInput!){ recordIncident(input:$i){ id menuCode cause tenantIds startedAt restoredAt } }";
const RESTORE: &str = "mutation($id: ID!, $at: DateTime!){ restoreIncident(id:$id, restoredAt:$at){ id restoredAt } }";
const MAINTENANCE: &str =
    "mutation($i: ScheduleMaintenanceInput!){ scheduleMaintenance(input:$i){ id kind tenantIds } }";
const FILE: &str = "mutation($i: FileClaimInput!){ fileClaim(input:$i){ id status month menuCode amount billMonth } }";
const DECIDE: &str = "mutation($id: ID!, $a: Boolean!, $r: String){ decideClaim(id:$id, approve:$a, reason:$r){ id status amount currency reason billMonth } }";
const PAY: &str =
    "mutation($i: RecordPaymentInput!){ recordPayment(input:$i){ id outstanding dueDate } }";
const AVAILABILITY: &str = "query($id: ID!, $m: Month!){ contract(id:$id){ availability(month:$m){ tenantId menuCode slaEligible downtimeSeconds uptimePercent creditPercent charges credit currency claimDeadline incidentIds } } }";
const CREDITS: &str = "query($id: ID!){ contract(id:$id){ claims{ totalCount edges{ node{ id status } } } credits{ totalCount edges{ node{ id amount billMonth failureMonth label } } } } }";
const INCIDENTS: &str = "query($id: ID!){ contract(id:$id){ tenants{ edges{ node{ id incidents{ totalCount edges{ node{ id cause } } } } } } } }";
const BILL: &str = "query($id: ID!, $m: Month!){ contract(id:$id){ bill(month:$m){ subtotal tax total lines{ tier kind label amount tenantId } } } }";
const CLOSE: &str = "mutation($m: Month!){ closeMonth(month:$m){ month bills } }";
const RECORD: &str =
    "mutation($e: [UsageEventInput!]!){ recordUsage(events:$e){ id outcome code message } }";

enum Platform {
    Embedded(ecl::App, ManualClock),
    Distributed(Distributed),
}

struct Env {
    platform: Platform,
    gql: Gql,
    smtp: Smtp,
}

impl Env {
    async fn embedded(at: DateTime<Utc>) -> Env {
        let smtp = Smtp::start().await;
        let url = smtp.url();
        let clock = ManualClock::default();
        clock.set(at);
        let (app, gql) = spawn_embedded_with(Arc::new(clock.clone()), |s| {
            s.smtp_url = Some(ecl_kernel::Secret::new(url));
        })
        .await;
        Env {
            platform: Platform::Embedded(app, clock),
            gql,
            smtp,
        }
    }

    async fn distributed() -> Env {
        let smtp = Smtp::start().await;
        let url = smtp.url();
        let d = Distributed::start_with_env(
            &[
                "identity",
                "contract",
                "tenant",
                "metering",
                "billing",
                "notification",
                "sla",
                "gateway",
            ],
            &[("ECL_SMTP_URL", &url)],
        )
        .await;
        let gql = d.gateway();
        Env {
            platform: Platform::Distributed(d),
            gql,
            smtp,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        match &self.platform {
            Platform::Embedded(_, c) => ecl_kernel::Clock::now(c),
            Platform::Distributed(_) => Utc::now(),
        }
    }

    async fn finish(self) {
        match self.platform {
            Platform::Embedded(app, _) => app.stop().await,
            Platform::Distributed(d) => d.cleanup().await,
        }
    }
}

fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

fn month_start(t: DateTime<Utc>, back: i32) -> DateTime<Utc> {
    let m0 = t.year() * 12 + t.month0() as i32 - back;
    Utc.with_ymd_and_hms(m0 / 12, (m0 % 12) as u32 + 1, 1, 0, 0, 0)
        .unwrap()
}

async fn id_of(r: &Resp, field: &str) -> String {
    r.data()[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{field}: {}", r.body))
        .to_string()
}

/// A partner contract (operator) with its owner `login`.
async fn contract(gql: &Gql, op: &str, name: &str, login: &str) -> String {
    let r = gql
        .q(
            Some(op),
            "mutation($i: ContractInput!){ createPartnerContract(input:$i){ id } }",
            json!({"i": contract_input(name, None, login)}),
        )
        .await;
    id_of(&r, "createPartnerContract").await
}

async fn tenant(gql: &Gql, token: &str, contract: &str, name: &str) -> String {
    let r = gql
        .q(
            Some(token),
            "mutation($id: ID!, $n: String!){ createTenant(contractId:$id, input:{name:$n, region:\"jp1\"}){ id } }",
            json!({"id": contract, "n": name}),
        )
        .await;
    id_of(&r, "createTenant").await
}

/// Starts a compute resource (retrying while metering has not heard of the tenant yet).
async fn start_compute(gql: &Gql, op: &str, tenant: &str, at: DateTime<Utc>) {
    let ev = json!([{"id": format!("start-{tenant}"), "tenantId": tenant, "resourceId": format!("vm-{tenant}"), "menuCode": "compute", "kind": "START", "at": at.to_rfc3339(), "plan": "1CPU-4GB", "status": "Running"}]);
    for _ in 0..200 {
        let r = gql.q(Some(op), RECORD, json!({"e": ev})).await;
        let out = &r.data()["recordUsage"][0];
        if out["code"] == "UNKNOWN_TENANT" {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        assert_eq!(out["outcome"], "ACCEPTED", "{}", r.body);
        return;
    }
    panic!("metering never heard of {tenant}");
}

fn incident(
    menu: &str,
    cause: &str,
    tenants: &[&str],
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Value {
    json!({"menuCode": menu, "cause": cause, "title": "Compute outage", "tenantIds": tenants,
           "startedAt": from.to_rfc3339(), "restoredAt": to.map(|t| t.to_rfc3339())})
}

/// The notices of `source` in `category`, as the operator sees them.
async fn notices(gql: &Gql, op: &str, category: &str) -> Vec<Value> {
    let r = gql
        .q(
            Some(op),
            "query($c: NoticeCategory){ notices(first: 50, filter:{category:$c}){ edges{ node{ id source title recipientCount } } } }",
            json!({"c": category}),
        )
        .await;
    r.data()["notices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["source"] == "SLA")
        .collect()
}

/// Waits (with a deadline) until `n` SLA notices of `category` are published.
async fn wait_notices(gql: &Gql, op: &str, category: &str, n: usize) -> Vec<Value> {
    common::wait_for(
        std::time::Duration::from_secs(60),
        &format!("{n} SLA notices of {category} are published"),
        || async {
            let got = notices(gql, op, category).await;
            (got.len() >= n).then_some(got)
        },
    )
    .await
}

fn to(list: &[&str]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|l| match l.strip_suffix(" (cc)") {
            Some(l) => (l.to_string(), "cc".to_string()),
            None => (l.to_string(), "to".to_string()),
        })
        .collect();
    v.sort();
    v
}

fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str().unwrap_or_else(|| panic!("{v}")).parse().unwrap()
}

struct World {
    op: String,
    p: String,
    c: String,
    c_owner: String,
    tc: String,
}

/// Partner P with child C (tenant tc, a compute VM since two months before `now`), and C's
/// bill of that month closed and unpaid: overdue.
async fn world(env: &Env, tag: &str) -> World {
    let gql = &env.gql;
    let op = gql.operator().await;
    let p_login = format!("{tag}-p-owner");
    let c_login = format!("{tag}-c-owner");
    let p = contract(gql, &op, "SLA Partner", &p_login).await;
    let c = {
        let owner = gql.sign_in(&p_login, OWNER_PASSWORD).await;
        let r = gql
            .q(
                Some(&owner),
                "mutation($p: ID!, $i: ContractInput!){ createChildContract(parentId:$p, input:$i){ id } }",
                json!({"p": p, "i": contract_input("SLA Child", None, &c_login)}),
            )
            .await;
        id_of(&r, "createChildContract").await
    };
    let c_owner = gql.sign_in(&c_login, OWNER_PASSWORD).await;
    let tc = tenant(gql, &c_owner, &c, "child-tenant").await;
    let now = env.now();
    start_compute(gql, &op, &tc, month_start(now, 2) + Duration::hours(1)).await;
    let old = month_of(month_start(now, 2));
    let r = gql.q(Some(&op), CLOSE, json!({"m": old})).await;
    assert!(
        r.data()["closeMonth"]["bills"].as_u64().unwrap() >= 1,
        "{}",
        r.body
    );
    World {
        op,
        p,
        c,
        c_owner,
        tc,
    }
}

/// The flow both topologies share; returns the approved claim.
async fn claim_flow(env: &Env, tag: &str) -> (World, Value) {
    let gql = &env.gql;
    let w = world(env, tag).await;
    let now = env.now();
    let start = (now - Duration::hours(4)).max(month_start(now, 0));
    let month = month_of(start);

    // Recording an incident mails the FAILURE notice: the child's owner, the partner's owner
    // in CC (seeds 000/001).
    let r = gql
        .q(
            Some(&w.op),
            INCIDENT,
            json!({"i": incident("compute", "FAILURE", &[&w.tc], start, None)}),
        )
        .await;
    let inc = id_of(&r, "recordIncident").await;
    let n = wait_notices(gql, &w.op, "FAILURE", 1).await;
    assert!(
        n[0]["title"].as_str().unwrap().contains("Compute outage"),
        "{n:?}"
    );
    let p_owner = format!("{tag}-p-owner");
    let c_owner = format!("{tag}-c-owner");
    let expected = to(&[&c_owner, &format!("{p_owner} (cc)")]);
    assert_eq!(env.smtp.received(&n[0]).await, expected);
    // Restoring it 100 minutes later sends the follow-up.
    let r = gql
        .q(
            Some(&w.op),
            RESTORE,
            json!({"id": inc, "at": (start + Duration::minutes(100)).to_rfc3339()}),
        )
        .await;
    assert!(
        r.data()["restoreIncident"]["restoredAt"].is_string(),
        "{}",
        r.body
    );
    let n = wait_notices(gql, &w.op, "FAILURE", 2).await;
    let follow = n
        .iter()
        .find(|x| x["title"].as_str().unwrap().contains("Restored"))
        .unwrap();
    assert_eq!(env.smtp.received(follow).await, expected);

    // Availability: 100 minutes down = 99.7685 %, 3 %, claimable for 30 days.
    let r = gql
        .q(
            Some(&w.c_owner),
            AVAILABILITY,
            json!({"id": w.c, "m": month}),
        )
        .await;
    let rows = r.data()["contract"]["availability"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 1, "{}", r.body);
    let a = &rows[0];
    assert_eq!(a["tenantId"], w.tc.as_str());
    assert_eq!(a["downtimeSeconds"], 6000);
    assert_eq!(a["uptimePercent"], "99.7685");
    assert_eq!(a["creditPercent"], 3);
    assert_eq!(a["slaEligible"], true);
    assert_eq!(a["currency"], "JPY");
    assert!(dec(&a["charges"]) > rust_decimal::Decimal::ZERO, "{a}");
    assert_eq!(
        dec(&a["credit"]),
        (dec(&a["charges"]) * rust_decimal::Decimal::new(3, 2)).round_dp(6)
    );
    assert_eq!(
        a["claimDeadline"],
        (start.date_naive() + chrono::Days::new(30)).to_string()
    );
    // The partner's owner sees it too; the incident is listed on the tenant.
    let p_owner_t = gql.sign_in(&p_owner, OWNER_PASSWORD).await;
    let r = gql
        .q(
            Some(&p_owner_t),
            AVAILABILITY,
            json!({"id": w.c, "m": month}),
        )
        .await;
    assert_eq!(
        r.data()["contract"]["availability"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = gql.q(Some(&w.c_owner), INCIDENTS, json!({"id": w.c})).await;
    assert_eq!(
        r.data()["contract"]["tenants"]["edges"][0]["node"]["incidents"]["totalCount"],
        1,
        "{}",
        r.body
    );

    // A claim for a failure 40 days ago: late.
    let old_start = now - Duration::days(40);
    let r = gql
        .q(
            Some(&w.op),
            INCIDENT,
            json!({"i": incident("compute", "FAILURE", &[&w.tc], old_start, Some(old_start + Duration::minutes(10)))}),
        )
        .await;
    let old = id_of(&r, "recordIncident").await;
    let claim = |breach: &str| json!({"i": {"contractId": w.c, "breachKind": "INCIDENT", "breachId": breach}});
    let r = gql.q(Some(&w.c_owner), FILE, claim(&old)).await;
    assert_eq!(r.code(), "INVALID_INPUT", "{}", r.body);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("claim period")
    );
    // While the bill of two months ago is unpaid: refused.
    let r = gql.q(Some(&w.c_owner), FILE, claim(&inc)).await;
    assert_eq!(r.code(), "CONFLICT", "{}", r.body);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("overdue")
    );
    // Paid (the operator records it): accepted, the amount left to the platform.
    let old_month = month_of(month_start(now, 2));
    let r = gql
        .q(Some(&w.op), BILL, json!({"id": w.c, "m": old_month}))
        .await;
    let total = r.data()["contract"]["bill"]["total"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gql
        .q(
            Some(&w.op),
            PAY,
            json!({"i": {"contractId": w.c, "month": old_month, "amount": total, "paidAt": now.to_rfc3339()}}),
        )
        .await;
    assert_eq!(r.data()["recordPayment"]["outstanding"], "0", "{}", r.body);
    let r = gql.q(Some(&w.c_owner), FILE, claim(&inc)).await;
    let filed = r.data()["fileClaim"].clone();
    assert_eq!(filed["status"], "PENDING", "{}", r.body);
    assert_eq!(filed["month"], month.as_str());
    assert!(filed["amount"].is_null());
    // The same breach twice: a conflict.
    let r = gql.q(Some(&w.c_owner), FILE, claim(&inc)).await;
    assert_eq!(r.code(), "CONFLICT", "{}", r.body);

    // Approved: the platform's amount, on the bill two months after the approval.
    let claim_id = filed["id"].as_str().unwrap().to_string();
    let r = gql
        .q(
            Some(&w.op),
            DECIDE,
            json!({"id": claim_id, "a": true, "r": "confirmed by monitoring"}),
        )
        .await;
    let approved = r.data()["decideClaim"].clone();
    assert_eq!(approved["status"], "APPROVED", "{}", r.body);
    assert_eq!(approved["billMonth"], month_of(month_start(env.now(), -2)));
    assert!(dec(&approved["amount"]) > rust_decimal::Decimal::ZERO);
    // Deciding twice: a conflict, nothing changes.
    let r = gql
        .q(
            Some(&w.op),
            DECIDE,
            json!({"id": claim_id, "a": false, "r": "no"}),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT", "{}", r.body);
    let r = gql.q(Some(&w.c_owner), CREDITS, json!({"id": w.c})).await;
    let c = &r.data()["contract"];
    assert_eq!(
        c["claims"]["edges"][0]["node"]["status"], "APPROVED",
        "{}",
        r.body
    );
    assert_eq!(c["credits"]["totalCount"], 1);
    assert_eq!(
        c["credits"]["edges"][0]["node"]["amount"],
        approved["amount"]
    );
    (w, approved)
}

/// Bad input: a coded error, and nothing recorded.
async fn bad_input(env: &Env, w: &World) {
    let gql = &env.gql;
    let now = env.now();
    let count = || async {
        let r = gql.q(Some(&w.c_owner), INCIDENTS, json!({"id": w.c})).await;
        r.data()["contract"]["tenants"]["edges"][0]["node"]["incidents"]["totalCount"].clone()
    };
    let before = count().await;
    let cases = [
        (
            incident(
                "compute",
                "FAILURE",
                &[&w.tc],
                now,
                Some(now - Duration::minutes(1)),
            ),
            "INVALID_INPUT",
            "restoredAt",
        ),
        (
            incident("no-such-menu", "FAILURE", &[&w.tc], now, None),
            "NOT_FOUND",
            "menuCode",
        ),
        (
            incident(
                "compute",
                "FAILURE",
                &["ten_0123456789abcdef0123456789abcdef"],
                now,
                None,
            ),
            "NOT_FOUND",
            "tenantIds",
        ),
        (
            incident("compute", "FAILURE", &[&w.c], now, None),
            "INVALID_INPUT",
            "tenantIds",
        ),
        (
            incident("compute", "FAILURE", &[], now, None),
            "INVALID_INPUT",
            "affected",
        ),
    ];
    for (input, code, field) in cases {
        let r = gql.q(Some(&w.op), INCIDENT, json!({"i": input})).await;
        assert_eq!(r.code(), code, "{}", r.body);
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{}",
            r.body
        );
    }
    // Only operators record incidents.
    let r = gql
        .q(
            Some(&w.c_owner),
            INCIDENT,
            json!({"i": incident("compute", "FAILURE", &[&w.tc], now, None)}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    assert_eq!(count().await, before);
    // Restoring before the start.
    let r = gql
        .q(
            Some(&w.op),
            INCIDENT,
            json!({"i": incident("compute", "HA_SWITCHOVER_OK", &[&w.tc], now, None)}),
        )
        .await;
    let open = id_of(&r, "recordIncident").await;
    let r = gql
        .q(
            Some(&w.op),
            RESTORE,
            json!({"id": open, "at": (now - Duration::hours(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT", "{}", r.body);
    // A claim for a contract the caller cannot see: another partner's owner.
    contract(gql, &w.op, "Other Partner", "other-p-owner").await;
    let stranger = gql.sign_in("other-p-owner", OWNER_PASSWORD).await;
    let r = gql
        .q(
            Some(&stranger),
            FILE,
            json!({"i": {"contractId": w.c, "breachKind": "INCIDENT", "breachId": open}}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    // A maintenance window ending before it starts.
    let r = gql
        .q(
            Some(&w.op),
            MAINTENANCE,
            json!({"i": {"kind": "ANNOUNCED", "menuCode": "compute", "title": "Patch", "tenantIds": [w.tc],
                         "startsAt": now.to_rfc3339(), "endsAt": (now - Duration::hours(1)).to_rfc3339()}}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT", "{}", r.body);
}

#[actix_rt::test]
async fn embedded_incident_to_credit_on_the_bill_two_months_later() {
    let env = Env::embedded(Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()).await;
    let (w, approved) = claim_flow(&env, "emb").await;
    bad_input(&env, &w).await;
    let gql = &env.gql;
    // A maintenance window is mailed as MAINTENANCE.
    let now = env.now();
    let r = gql
        .q(
            Some(&w.op),
            MAINTENANCE,
            json!({"i": {"kind": "URGENT", "menuCode": "compute", "title": "Urgent patch", "tenantIds": [w.tc],
                         "startsAt": (now + Duration::hours(1)).to_rfc3339(), "endsAt": (now + Duration::hours(2)).to_rfc3339()}}),
        )
        .await;
    assert_eq!(
        r.data()["scheduleMaintenance"]["kind"],
        "URGENT",
        "{}",
        r.body
    );
    let n = wait_notices(gql, &w.op, "MAINTENANCE", 1).await;
    assert_eq!(
        env.smtp.received(&n[0]).await,
        to(&["emb-c-owner", "emb-p-owner (cc)"])
    );

    // Every tenant of a region (the SLA's read model of tenants): a third party's failure is
    // recorded and notified, but it is no downtime.
    let started = std::time::Instant::now();
    let upstream = now - Duration::hours(2);
    loop {
        let r = gql
            .q(
                Some(&w.op),
                INCIDENT,
                json!({"i": {"menuCode": "compute", "cause": "THIRD_PARTY", "title": "Upstream", "region": "jp1",
                             "startedAt": upstream.to_rfc3339(), "restoredAt": (upstream + Duration::minutes(50)).to_rfc3339()}}),
            )
            .await;
        let ids = r.body["data"]["recordIncident"]["tenantIds"].clone();
        if ids.as_array().is_some_and(|a| a.contains(&json!(w.tc))) {
            break;
        }
        assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
        assert!(started.elapsed().as_secs() < 30, "{}", r.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = gql
        .q(
            Some(&w.c_owner),
            AVAILABILITY,
            json!({"id": w.c, "m": "2026-03"}),
        )
        .await;
    let a = &r.data()["contract"]["availability"][0];
    assert_eq!(a["downtimeSeconds"], 6000, "{a}");
    assert_eq!(a["incidentIds"].as_array().unwrap().len(), 3, "{a}");

    // Approved in March: the May bill carries the credit, the partner's too.
    assert_eq!(approved["billMonth"], "2026-05");
    let Platform::Embedded(_, clock) = &env.platform else {
        unreachable!()
    };
    clock.set(Utc.with_ymd_and_hms(2026, 5, 31, 23, 0, 0).unwrap());
    let amount = dec(&approved["amount"]);
    for (who, id) in [(&w.c_owner, &w.c), (&w.op, &w.p)] {
        let r = gql
            .q(Some(who), BILL, json!({"id": id, "m": "2026-05"}))
            .await;
        let b = &r.data()["contract"]["bill"];
        let lines = b["lines"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.body));
        let credit: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "SLA_CREDIT").collect();
        assert_eq!(credit.len(), 1, "{}", r.body);
        assert_eq!(dec(&credit[0]["amount"]), -amount, "{}", r.body);
        assert_eq!(credit[0]["tenantId"], w.tc.as_str());
        // The tenant's total is its lines (credit included) rounded down.
        let tenant_line = lines
            .iter()
            .find(|l| l["kind"] == "TENANT" && l["tenantId"] == w.tc.as_str())
            .unwrap();
        let usage: rust_decimal::Decimal = lines
            .iter()
            .filter(|l| l["tenantId"] == w.tc.as_str() && l["kind"] == "RESOURCE")
            .map(|l| dec(&l["amount"]))
            .sum();
        assert_eq!(
            dec(&tenant_line["amount"]),
            (usage - amount).floor(),
            "{}",
            r.body
        );
    }
    // The legacy CSV shows the credit line.
    let csv = gql
        .http
        .get(format!(
            "{}/exports/bills/{}/2026-05.csv?format=legacy",
            gql.base, w.c
        ))
        .bearer_auth(&w.c_owner)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains(&format!("-{amount}")), "{csv}");
    // The April bill has none.
    let r = gql
        .q(Some(&w.c_owner), BILL, json!({"id": w.c, "m": "2026-04"}))
        .await;
    assert!(
        !r.data()["contract"]["bill"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "SLA_CREDIT")
    );
    env.finish().await;
}

/// A coupon and an SLA credit that together exceed the bill: the coupon is taken whole, the
/// credit only what the coupon left (price → coupon → credit → tax), and the month close fixes
/// exactly the bill the estimate showed — the streamed close applies the same order.
#[actix_rt::test]
async fn a_coupon_and_a_credit_above_the_bill_close_as_estimated() {
    let env = Env::embedded(Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()).await;
    let (w, approved) = claim_flow(&env, "cc").await;
    assert_eq!(approved["billMonth"], "2026-05");
    let gql = &env.gql;
    let Platform::Embedded(_, clock) = &env.platform else {
        unreachable!()
    };
    // Registered in April: the coupon applies to May, with the credit.
    clock.set(Utc.with_ymd_and_hms(2026, 4, 10, 12, 0, 0).unwrap());
    let r = gql
        .q(
            Some(&w.op),
            "mutation($i: CouponInput!){ createCoupon(input:$i){ code } }",
            json!({"i": {"code": "ALMOSTALL995", "kind": "PERCENT", "percent": "99.5", "months": 1}}),
        )
        .await;
    assert_eq!(r.data()["createCoupon"]["code"], "ALMOSTALL995");
    let r = gql
        .q(
            Some(&w.c_owner),
            "mutation($c: ID!, $code: String!){ registerCoupon(contractId:$c, code:$code){ firstMonth } }",
            json!({"c": w.c, "code": "ALMOSTALL995"}),
        )
        .await;
    assert_eq!(r.data()["registerCoupon"]["firstMonth"], "2026-05");

    let amounts = |r: &Resp| {
        let b = &r.data()["contract"]["bill"];
        let lines = b["lines"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.body));
        let sum = |kind: &str| -> rust_decimal::Decimal {
            lines
                .iter()
                .filter(|l| l["kind"] == kind)
                .map(|l| dec(&l["amount"]))
                .sum()
        };
        (
            sum("RESOURCE"),
            sum("ADJUSTMENT"),
            sum("SLA_CREDIT"),
            [dec(&b["subtotal"]), dec(&b["tax"]), dec(&b["total"])],
        )
    };
    clock.set(Utc.with_ymd_and_hms(2026, 5, 31, 23, 0, 0).unwrap());
    let r = gql
        .q(Some(&w.c_owner), BILL, json!({"id": w.c, "m": "2026-05"}))
        .await;
    let (priced, coupon, credit, totals) = amounts(&r);
    let approved_amount = dec(&approved["amount"]);
    // the coupon whole: 99.5 % of the priced charges (rounded toward zero to the yen)
    assert_eq!(
        coupon,
        -(priced * rust_decimal::Decimal::new(995, 3)).trunc(),
        "{}",
        r.body
    );
    // the credit cut to what the coupon left, never more than approved
    assert!(credit < rust_decimal::Decimal::ZERO, "{}", r.body);
    assert!(
        -credit < approved_amount,
        "credit {credit} not cut: {}",
        r.body
    );
    assert!(
        priced + coupon + credit >= rust_decimal::Decimal::ZERO,
        "{}",
        r.body
    );

    clock.set(Utc.with_ymd_and_hms(2026, 6, 1, 1, 0, 0).unwrap());
    let r = gql.q(Some(&w.op), CLOSE, json!({"m": "2026-05"})).await;
    assert!(
        r.data()["closeMonth"]["bills"].as_u64().unwrap() >= 1,
        "{}",
        r.body
    );
    let r = gql
        .q(Some(&w.c_owner), BILL, json!({"id": w.c, "m": "2026-05"}))
        .await;
    assert_eq!(
        amounts(&r),
        (priced, coupon, credit, totals),
        "the fixed bill is the estimate: {}",
        r.body
    );
    env.finish().await;
}

#[actix_rt::test]
async fn distributed_incident_to_approved_credit() {
    let env = Env::distributed().await;
    let (w, approved) = claim_flow(&env, "dist").await;
    bad_input(&env, &w).await;
    assert_eq!(approved["currency"], "JPY");
    env.finish().await;
}

const WALK: &str = "query($id: ID!){ contract(id:$id){ children(first: 30){ edges{ node{ id bills(first: 1){ edges{ node{ month total } } } credits(first: 5){ totalCount edges{ node{ amount billMonth } } } claims(first: 5){ totalCount } availability(month: \"2026-03\"){ credit } tenants(first: 3){ edges{ node{ id incidents(first: 5){ totalCount edges{ node{ id cause } } } } } } } } } } }";

/// The walk's bus requests depend on its depth, not on how many children it meets.
#[actix_rt::test]
async fn the_walk_costs_the_same_for_2_and_25_children() {
    let env = Env::embedded(Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()).await;
    let gql = &env.gql;
    let op = gql.operator().await;
    let p = contract(gql, &op, "Wide Partner", "wide-p-owner").await;
    let owner = gql.sign_in("wide-p-owner", OWNER_PASSWORD).await;
    let mut tenants = Vec::new();
    let mut counts = Vec::new();
    for (from, to) in [(0, 2), (2, 25)] {
        for i in from..to {
            let r = gql
                .q(
                    Some(&owner),
                    "mutation($p: ID!, $i: ContractInput!){ createChildContract(parentId:$p, input:$i){ id } }",
                    json!({"p": p, "i": contract_input(&format!("Child {i}"), None, &format!("wide-c{i}"))}),
                )
                .await;
            let c = id_of(&r, "createChildContract").await;
            let t = tenant(gql, &owner, &c, &format!("t{i}")).await;
            tenants.push(t);
        }
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let refs: Vec<&str> = tenants.iter().map(String::as_str).collect();
        let r = gql
            .q(Some(&op), INCIDENT, json!({"i": incident("compute", "FAILURE", &refs, at, Some(at + Duration::minutes(30)))}))
            .await;
        id_of(&r, "recordIncident").await;
        let r = gql
            .raw(
                Some(&owner),
                WALK,
                json!({"id": p}),
                &[("X-Ecl-Trace", "1")],
            )
            .await;
        let edges = r.data()["contract"]["children"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(edges.len(), to, "{}", r.body);
        assert!(edges.iter().all(|e| {
            e["node"]["tenants"]["edges"][0]["node"]["incidents"]["totalCount"].as_u64() >= Some(1)
        }));
        counts.push(r.body["extensions"]["busRequests"].as_u64().unwrap());
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    env.finish().await;
}
