//! Notifications end to end, embedded and distributed, against a real SMTP server process
//! (aiosmtpd running `tests/smtp_sink.py`, which writes every accepted message to a directory we
//! read back): the seeds' recipient table cell by cell (a parent's tenant, a child's tenant with
//! the partner's admins in CC, both, release to a contract and to all), opt-outs, the owner's
//! locked FAILURE, an admin changing another user's choice, the partner's suppression hiding the
//! mail and the choice, users without access to the tenant getting nothing; the same event
//! delivered twice sending one mail; a permanent refusal FAILED with the server's reply while the
//! rest go out; the SMTP server stopped and started again with every mail arriving; billing's
//! month close mailing the contact person; live `notices` and `billEstimate` subscriptions.

use crate::common;

use chrono::{Duration as Days, Utc};
use common::{smtp::Smtp, *};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

const PASSWORD: &str = "User-pass-123";
const PUBLISH: &str = "mutation($i: PublishNoticeInput!){ publishNotice(input:$i){ id category title titleJa recipientCount source } }";
const SET_PREF: &str = "mutation($u: ID!, $c: NoticeCategory!, $r: Boolean!){ setNotificationPreference(userId:$u, category:$c, receive:$r){ category receive locked } }";
const SUPPRESS: &str = "mutation($c: ID!, $k: [NoticeCategory!]!){ suppressNotificationCategories(contractId:$c, categories:$k) }";
const MY_PREFS: &str = "{ me { id notificationPreferences { category receive locked } } }";
const DELIVERIES: &str = "query($c: NoticeCategory){ notices(first: 50, filter:{category:$c}){ totalCount edges{ node{ id source recipientCount deliveries(first: 50){ totalCount edges{ node{ address userId contractId status cc attempts lastError sentAt channel } } } } } } }";

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

// ---- the platform ---------------------------------------------------------------------------

enum Platform {
    Embedded(ecl::App),
    Distributed(Distributed),
}

struct Env {
    platform: Platform,
    gql: Gql,
    smtp: Smtp,
}

const RETRY_MAX_MS: &str = "1000";

impl Env {
    async fn embedded() -> Env {
        let smtp = Smtp::start().await;
        let url = smtp.url();
        let (app, gql) = spawn_embedded_with(std::sync::Arc::new(ecl_kernel::SystemClock), |s| {
            s.smtp_url = Some(ecl_kernel::Secret::new(url));
            s.smtp_retry_max_ms = RETRY_MAX_MS.parse().unwrap();
        })
        .await;
        Env {
            platform: Platform::Embedded(app),
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
                "gateway",
            ],
            &[
                ("ECL_SMTP_URL", &url),
                ("ECL_SMTP_RETRY_MAX_MS", RETRY_MAX_MS),
            ],
        )
        .await;
        let gql = d.gateway();
        Env {
            platform: Platform::Distributed(d),
            gql,
            smtp,
        }
    }

    /// A bus handle into the platform (as another service would publish).
    async fn bus(&self) -> ecl_bus::Bus {
        match &self.platform {
            Platform::Embedded(app) => app.bus.clone(),
            Platform::Distributed(d) => {
                ecl_bus::Bus::new(ecl_bus::connect(&amqp_url(), &d.ns).await.unwrap())
            }
        }
    }

    async fn finish(self) {
        match self.platform {
            Platform::Embedded(app) => app.stop().await,
            Platform::Distributed(d) => d.cleanup().await,
        }
    }
}

// ---- the partner tree -----------------------------------------------------------------------

/// Partner P and its child C. Each has an owner, an admin, a user with access to its tenant and
/// an idle user without; P's `p-worker` also has access to C's tenant. D is a direct contract
/// whose users' addresses the SMTP server refuses (`refuse-1`) or defers twice (`defer-1`).
struct World {
    op: String,
    p: String,
    c: String,
    d: String,
    tp: String,
    tc: String,
    td: String,
    ids: HashMap<String, String>,
}

impl World {
    fn user(&self, login: &str) -> &str {
        &self.ids[login]
    }

    async fn token(&self, gql: &Gql, login: &str) -> String {
        let password = if login.ends_with("-owner") {
            OWNER_PASSWORD
        } else {
            PASSWORD
        };
        gql.sign_in(login, password).await
    }

    async fn build(gql: &Gql) -> World {
        let op = gql.operator().await;
        let p = gql
            .create_contract(&op, Kind::Partner, "Notify Partner", "p-owner")
            .await
            .id;
        let d = gql
            .create_contract(&op, Kind::Direct, "Notify Direct", "d-owner")
            .await
            .id;
        let p_owner = gql.sign_in("p-owner", OWNER_PASSWORD).await;
        let c = gql
            .create_contract(&p_owner, Kind::ChildOf(&p), "Notify Child", "c-owner")
            .await
            .id;
        let tp = gql.create_tenant(&p_owner, &p, "web").await;
        let tc = gql.create_tenant(&p_owner, &c, "web").await;
        let d_owner = gql.sign_in("d-owner", OWNER_PASSWORD).await;
        let td = gql.create_tenant(&d_owner, &d, "db").await;
        let mut ids = HashMap::new();
        let users = [
            (&p, "p-admin", "ADMIN", &p_owner),
            (&p, "p-user", "USER", &p_owner),
            (&p, "p-idle", "USER", &p_owner),
            (&p, "p-worker", "USER", &p_owner),
            (&c, "c-admin", "ADMIN", &p_owner),
            (&c, "c-user", "USER", &p_owner),
            (&c, "c-idle", "USER", &p_owner),
            (&d, "refuse-1", "USER", &d_owner),
            (&d, "defer-1", "USER", &d_owner),
            (&d, "d-ok", "USER", &d_owner),
        ];
        let made = futures::future::join_all(users.iter().map(
            |(contract, login, role, token)| async move {
                let id = gql.create_member(token, contract, login, role).await;
                (login.to_string(), id)
            },
        ))
        .await;
        ids.extend(made);
        for login in ["p-owner", "c-owner", "d-owner"] {
            let t = gql.sign_in(login, OWNER_PASSWORD).await;
            let me = gql.q(Some(&t), "{ me { id } }", json!({})).await;
            ids.insert(login.into(), me.data()["me"]["id"].as_str().unwrap().into());
        }
        for (t, u) in [(&tp, "p-user"), (&tc, "c-user"), (&tc, "p-worker")] {
            gql.grant(&p_owner, t, &ids[u]).await;
        }
        World {
            op,
            p,
            c,
            d,
            tp,
            tc,
            td,
            ids,
        }
    }
}

async fn publish(gql: &Gql, token: &str, input: Value) -> Value {
    let r = gql.q(Some(token), PUBLISH, json!({"i": input})).await;
    r.data()["publishNotice"].clone()
}

fn notice(category: &str, title: &str, scope: Value) -> Value {
    let mut v = json!({"category": category, "title": title, "body": format!("{title}: details")});
    for (k, val) in scope.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

async fn prefs(gql: &Gql, token: &str) -> Vec<Value> {
    gql.q(Some(token), MY_PREFS, json!({})).await.data()["me"]["notificationPreferences"]
        .as_array()
        .unwrap()
        .clone()
}

// ---- the recipient table, choices and suppression ---------------------------------------------

async fn recipients_flow(env: &Env) -> World {
    let (gql, smtp) = (&env.gql, &env.smtp);
    let w = World::build(gql).await;
    let op = &w.op;

    // FAILURE on a parent's tenant: owner, admins, users with access — in both languages.
    let mut input = notice("FAILURE", "Network outage", json!({"tenantIds": [w.tp]}));
    input["titleJa"] = json!("ネットワーク障害");
    input["bodyJa"] = json!("jp1 のネットワークが停止しています");
    input["startsAt"] = json!(Utc::now().to_rfc3339());
    let n = publish(gql, op, input).await;
    assert_eq!(n["titleJa"], "ネットワーク障害");
    assert_eq!(
        smtp.received(&n).await,
        to(&["p-owner", "p-admin", "p-user"])
    );
    let mail = &smtp.mails_of(n["id"].as_str().unwrap())[0];
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .contains("ネットワーク障害")
            && mail["subject"].as_str().unwrap().contains("Network outage"),
        "{mail}"
    );
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("jp1 のネットワークが停止しています"),
        "{mail}"
    );
    assert_eq!(mail["category"], "FAILURE");

    // MAINTENANCE on a child's tenant: the child's side, and the partner's admins in CC; the
    // partner's user with access to that tenant as a user with access.
    let n = publish(
        gql,
        op,
        notice("MAINTENANCE", "Storage work", json!({"tenantIds": [w.tc]})),
    )
    .await;
    assert_eq!(
        smtp.received(&n).await,
        to(&[
            "c-owner",
            "c-admin",
            "c-user",
            "p-worker",
            "p-owner (cc)",
            "p-admin (cc)"
        ])
    );

    // Both sides: the union, one mail each.
    let n = publish(
        gql,
        op,
        notice("FAILURE", "Both down", json!({"tenantIds": [w.tp, w.tc]})),
    )
    .await;
    assert_eq!(
        smtp.received(&n).await,
        to(&[
            "p-owner", "p-admin", "p-user", "p-worker", "c-owner", "c-admin", "c-user"
        ])
    );

    // RELEASE: owner and all users of the affected contracts; without a scope, every contract.
    let n = publish(
        gql,
        op,
        notice("RELEASE", "New menu", json!({"contractIds": [w.c]})),
    )
    .await;
    assert_eq!(
        smtp.received(&n).await,
        to(&["c-owner", "c-admin", "c-user", "c-idle"])
    );
    let n = publish(gql, op, notice("RELEASE", "Spec change", json!({}))).await;
    let everyone = to(&[
        "p-owner", "p-admin", "p-user", "p-idle", "p-worker", "c-owner", "c-admin", "c-user",
        "c-idle", "d-owner", "refuse-1", "defer-1", "d-ok",
    ]);
    assert_eq!(n["recipientCount"], everyone.len());
    // The SMTP server refuses refuse-1 for good (see delivery_flow): every other one arrives.
    let got = smtp
        .received(&json!({"id": n["id"], "recipientCount": everyone.len() - 1}))
        .await;
    let expected: Vec<(String, String)> = everyone
        .into_iter()
        .filter(|(l, _)| l != "refuse-1")
        .collect();
    assert_eq!(got, expected);

    // Choices: everything is received at first; the owner's FAILURE is locked.
    let p_owner = w.token(gql, "p-owner").await;
    let owner_prefs = prefs(gql, &p_owner).await;
    assert_eq!(owner_prefs.len(), 3, "{owner_prefs:?}");
    assert!(owner_prefs.iter().all(|p| p["receive"] == true));
    assert_eq!(
        owner_prefs
            .iter()
            .filter(|p| p["locked"] == true)
            .map(|p| p["category"].clone())
            .collect::<Vec<_>>(),
        ["FAILURE"]
    );
    let r = gql
        .q(
            Some(&p_owner),
            SET_PREF,
            json!({"u": w.user("p-owner"), "c": "FAILURE", "r": false}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    gql.q(
        Some(&p_owner),
        SET_PREF,
        json!({"u": w.user("p-owner"), "c": "MAINTENANCE", "r": false}),
    )
    .await
    .data();
    // A user opts out of FAILURE themselves.
    let p_user = w.token(gql, "p-user").await;
    let after = gql
        .q(
            Some(&p_user),
            SET_PREF,
            json!({"u": w.user("p-user"), "c": "FAILURE", "r": false}),
        )
        .await;
    let failure = after.data()["setNotificationPreference"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["category"] == "FAILURE")
        .unwrap()
        .clone();
    assert_eq!(failure["receive"], false);
    // An admin changes another user's choice; a general user may not.
    let p_admin = w.token(gql, "p-admin").await;
    gql.q(
        Some(&p_admin),
        SET_PREF,
        json!({"u": w.user("p-idle"), "c": "RELEASE", "r": false}),
    )
    .await
    .data();
    let r = gql
        .q(
            Some(&p_user),
            SET_PREF,
            json!({"u": w.user("p-idle"), "c": "RELEASE", "r": true}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{:?}", r.body);
    let r = gql
        .q(
            Some(&p_user),
            SET_PREF,
            json!({"u": w.user("p-user"), "c": "CONTRACT_FEE", "r": false}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    let p_idle = w.token(gql, "p-idle").await;
    let idle = prefs(gql, &p_idle).await;
    assert!(
        idle.iter()
            .any(|p| p["category"] == "RELEASE" && p["receive"] == false)
    );

    let n = publish(
        gql,
        op,
        notice("FAILURE", "Again", json!({"tenantIds": [w.tp]})),
    )
    .await;
    assert_eq!(
        smtp.received(&n).await,
        to(&["p-owner", "p-admin"]),
        "p-user opted out, the owner cannot"
    );
    let n = publish(
        gql,
        op,
        notice("MAINTENANCE", "Patch", json!({"tenantIds": [w.tp]})),
    )
    .await;
    assert_eq!(
        smtp.received(&n).await,
        to(&["p-admin", "p-user"]),
        "the owner opted out"
    );
    let n = publish(
        gql,
        op,
        notice("RELEASE", "Partner news", json!({"contractIds": [w.p]})),
    )
    .await;
    assert_eq!(
        smtp.received(&n).await,
        to(&["p-owner", "p-admin", "p-user", "p-worker"]),
        "the admin opted p-idle out"
    );

    // The partner suppresses FAILURE for its child: the child's users neither get it nor see
    // the choice; the partner's own copies still go.
    let c_owner = w.token(gql, "c-owner").await;
    let r = gql
        .q(
            Some(&c_owner),
            SUPPRESS,
            json!({"c": w.c, "k": ["FAILURE"]}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "the child itself does not decide");
    let r = gql
        .q(
            Some(&p_owner),
            SUPPRESS,
            json!({"c": w.c, "k": ["CONTRACT_FEE"]}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    let r = gql
        .q(
            Some(&p_owner),
            SUPPRESS,
            json!({"c": w.p, "k": ["FAILURE"]}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT", "only for a child");
    let r = gql
        .q(
            Some(&p_owner),
            SUPPRESS,
            json!({"c": w.c, "k": ["FAILURE"]}),
        )
        .await;
    assert_eq!(
        r.data()["suppressNotificationCategories"],
        json!(["FAILURE"])
    );
    let r = gql
        .q(
            Some(&p_owner),
            "query($c: ID!){ contract(id:$c){ suppressedCategories } }",
            json!({"c": w.c}),
        )
        .await;
    assert_eq!(
        r.data()["contract"]["suppressedCategories"],
        json!(["FAILURE"])
    );
    let c_user = w.token(gql, "c-user").await;
    let child_prefs = prefs(gql, &c_user).await;
    assert_eq!(
        child_prefs
            .iter()
            .map(|p| p["category"].clone())
            .collect::<Vec<_>>(),
        ["RELEASE", "MAINTENANCE"],
        "the suppressed choice is not shown"
    );
    let r = gql
        .q(
            Some(&c_user),
            SET_PREF,
            json!({"u": w.user("c-user"), "c": "FAILURE", "r": false}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    let n = publish(
        gql,
        op,
        notice("FAILURE", "Child outage", json!({"tenantIds": [w.tc]})),
    )
    .await;
    assert_eq!(
        smtp.received(&n).await,
        to(&["p-worker", "p-owner (cc)", "p-admin (cc)"])
    );

    // What each caller received; who sees which delivery rows.
    let r = gql
        .q(
            Some(&p_idle),
            "{ notices(first: 50){ totalCount edges{ node{ category title } } } }",
            json!({}),
        )
        .await;
    let idle_titles: Vec<String> = r.data()["notices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        idle_titles,
        ["Spec change"],
        "no access to any tenant, RELEASE opted out after"
    );
    let r = gql
        .q(Some(&p_owner), DELIVERIES, json!({"c": "MAINTENANCE"}))
        .await;
    let storage = r.data()["notices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["recipientCount"] == 6)
        .expect("the partner owner received the child's maintenance")
        .clone();
    assert_eq!(
        storage["node"]["deliveries"]["totalCount"], 6,
        "the partner's managers see their own and their child's recipients"
    );
    let r = gql
        .q(Some(&p_user), DELIVERIES, json!({"c": "FAILURE"}))
        .await;
    for e in r.data()["notices"]["edges"].as_array().unwrap() {
        assert_eq!(
            e["node"]["deliveries"]["totalCount"], 0,
            "a general user sees no log"
        );
    }

    // Bad input: a clear code, nothing stored.
    let before = gql
        .q(Some(op), "{ notices(first: 1){ totalCount } }", json!({}))
        .await
        .data()["notices"]["totalCount"]
        .clone();
    let r = gql
        .q(
            Some(op),
            PUBLISH,
            json!({"i": notice("FAILURE", " ", json!({}))}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    let r = gql
        .q(
            Some(op),
            PUBLISH,
            json!({"i": notice("FAILURE", "x", json!({"tenantIds": ["ten_0123456789abcdef0123456789abcdef"]}))}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = gql
        .q(
            Some(op),
            PUBLISH,
            json!({"i": notice("RELEASE", "x", json!({"contractIds": ["econ0000000000"]}))}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = gql
        .q(
            Some(op),
            PUBLISH,
            json!({"i": notice("SPAM", "x", json!({}))}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    let r = gql
        .q(
            Some(&p_owner),
            PUBLISH,
            json!({"i": notice("RELEASE", "x", json!({}))}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let after = gql
        .q(Some(op), "{ notices(first: 1){ totalCount } }", json!({}))
        .await
        .data()["notices"]["totalCount"]
        .clone();
    assert_eq!(before, after);
    w
}

// ---- delivery: refusals, deferrals, the same event twice, the server down ---------------------

/// The operator's view of one notice's delivery rows, by login.
async fn log_of(gql: &Gql, op: &str, notice: &str) -> HashMap<String, Value> {
    let r = gql.q(Some(op), DELIVERIES, json!({"c": null})).await;
    let node = r.data()["notices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == notice)
        .unwrap_or_else(|| panic!("notice {notice} listed"))["node"]
        .clone();
    node["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let d = e["node"].clone();
            let login = d["address"]
                .as_str()
                .unwrap()
                .trim_end_matches("@example.com")
                .to_string();
            (login, d)
        })
        .collect()
}

/// Polls the log until no row of `notice` is `QUEUED`.
async fn settled(gql: &Gql, op: &str, notice: &str) -> HashMap<String, Value> {
    wait_for(Duration::from_secs(60), "the deliveries settle", || async {
        let log = log_of(gql, op, notice).await;
        (!log.is_empty() && log.values().all(|d| d["status"] != "QUEUED")).then_some(log)
    })
    .await
}

async fn delivery_flow(env: &mut Env, w: &World) {
    let op = w.op.clone();
    // A permanent refusal fails that mail with the server's reply; a deferral is retried; the
    // others go out. (A fresh address: the server defers each address's first two offers.)
    let d_owner = w.token(&env.gql, "d-owner").await;
    env.gql
        .create_member(&d_owner, &w.d, "defer-2", "USER")
        .await;
    let n = publish(
        &env.gql,
        &op,
        notice("RELEASE", "Direct news", json!({"contractIds": [w.d]})),
    )
    .await;
    let id = n["id"].as_str().unwrap().to_string();
    let log = settled(&env.gql, &op, &id).await;
    assert_eq!(log["refuse-1"]["status"], "FAILED");
    assert_eq!(log["refuse-1"]["attempts"], 1);
    assert!(
        log["refuse-1"]["lastError"]
            .as_str()
            .unwrap()
            .contains("550"),
        "{:?}",
        log["refuse-1"]
    );
    assert_eq!(log["defer-2"]["status"], "SENT");
    assert_eq!(
        log["defer-2"]["attempts"], 3,
        "deferred twice, then accepted"
    );
    assert!(
        log["defer-2"]["lastError"]
            .as_str()
            .unwrap()
            .contains("451")
    );
    for l in ["d-owner", "d-ok", "defer-1"] {
        assert_eq!(log[l]["status"], "SENT");
        assert_eq!(log[l]["channel"], "EMAIL");
        assert!(log[l]["sentAt"].is_string());
    }
    assert_eq!(
        env.smtp
            .received(&json!({"id": id, "recipientCount": 4}))
            .await,
        to(&["d-owner", "defer-1", "defer-2", "d-ok"])
    );

    // The same NoticeRequested event delivered twice: one notice, one mail per recipient.
    let bus = env.bus().await;
    let ev = ecl_proto::notification::NoticeRequested {
        source: "sla".into(),
        input: ecl_proto::notification::NoticeInput {
            category: ecl_proto::notification::Category::Maintenance,
            title: "Planned maintenance".into(),
            body: "jp1 storage firmware".into(),
            title_ja: Some("計画メンテナンス".into()),
            body_ja: None,
            contract_ids: vec![],
            tenant_ids: vec![w.tp.clone()],
            starts_at: Some(Utc::now() + Days::days(1)),
            ends_at: Some(Utc::now() + Days::days(1) + Days::hours(2)),
        },
    };
    let body = bytes::Bytes::from(serde_json::to_vec(&ev).unwrap());
    let event_id = uuid::Uuid::now_v7().to_string();
    for _ in 0..2 {
        bus.publish_raw(
            event_id.clone(),
            <ecl_proto::notification::NoticeRequested as ecl_proto::Event>::TOPIC.to_string(),
            "test".into(),
            body.clone(),
        )
        .await
        .unwrap();
    }
    let sla_notices = || async {
        let r = env
            .gql
            .q(Some(&op), DELIVERIES, json!({"c": "MAINTENANCE"}))
            .await;
        r.data()["notices"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"]["source"] == "SLA")
            .map(|e| e["node"].clone())
            .collect::<Vec<Value>>()
    };
    let sla = wait_for(Duration::from_secs(30), "the event's notice", || async {
        let found = sla_notices().await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    let sla_id = sla[0]["id"].as_str().unwrap().to_string();
    // p-owner opted out of MAINTENANCE above.
    let got = env.smtp.received(&sla[0]).await;
    assert_eq!(got, to(&["p-admin", "p-user"]));
    settled(&env.gql, &op, &sla_id).await;
    // Both deliveries of the event are handled once the bus is drained: publish a marker event
    // behind them and wait for its notice, then count again.
    let marker = ecl_proto::notification::NoticeRequested {
        source: "sla".into(),
        input: ecl_proto::notification::NoticeInput {
            title: "Marker".into(),
            ..ev.input.clone()
        },
    };
    bus.publish("test", &marker).await.unwrap();
    let sla = wait_for(Duration::from_secs(30), "the marker's notice", || async {
        let sla = sla_notices().await;
        (sla.len() >= 2).then_some(sla)
    })
    .await;
    assert_eq!(
        sla.len(),
        2,
        "the event twice made one notice (plus the marker)"
    );
    assert_eq!(
        env.smtp.mails_of(&sla_id).len(),
        2,
        "one mail per recipient"
    );

    // The SMTP server down: the notice is accepted, its mails stay QUEUED (attempted), and all
    // arrive once the server is back.
    env.smtp.down();
    let n = publish(
        &env.gql,
        &op,
        notice("RELEASE", "While down", json!({"contractIds": [w.p]})),
    )
    .await;
    let id = n["id"].as_str().unwrap().to_string();
    wait_until(
        Duration::from_secs(30),
        "the four mails are QUEUED, attempted, with their error",
        || async {
            let log = log_of(&env.gql, &op, &id).await;
            log.len() == 4
                && log.values().all(|d| {
                    d["status"] == "QUEUED"
                        && d["attempts"].as_u64().unwrap() >= 1
                        && d["lastError"].is_string()
                })
        },
    )
    .await;
    env.smtp.up().await;
    assert_eq!(
        env.smtp.received(&n).await,
        to(&["p-owner", "p-admin", "p-user", "p-worker"])
    );
    let log = settled(&env.gql, &op, &id).await;
    assert!(log.values().all(|d| d["status"] == "SENT"), "{log:?}");
}

// ---- billing: contract and fee mails, the live estimate ---------------------------------------

const RECORD: &str =
    "mutation($e: [UsageEventInput!]!){ recordUsage(events:$e){ id outcome code } }";

async fn record(gql: &Gql, op: &str, events: Value) {
    let results = wait_for(
        Duration::from_secs(5),
        "metering hears of the tenant",
        || async {
            let r = gql.q(Some(op), RECORD, json!({"e": &events})).await;
            let results = r.data()["recordUsage"].as_array().unwrap().clone();
            (!results.iter().any(|x| x["code"] == "UNKNOWN_TENANT")).then_some(results)
        },
    )
    .await;
    assert!(
        results.iter().all(|x| x["outcome"] == "ACCEPTED"),
        "{results:?}"
    );
}

fn usage(id: &str, tenant: &str, kind: &str, at: chrono::DateTime<Utc>) -> Value {
    json!({"id": id, "tenantId": tenant, "resourceId": format!("vm-{id}"), "menuCode": "compute", "kind": kind, "at": at.to_rfc3339(), "plan": if kind == "START" { Some("1CPU-4GB") } else { None }})
}

async fn fee_flow(env: &Env, w: &World) {
    let (gql, op) = (&env.gql, &w.op);
    let this = ecl_billing::rating::Month::containing(Utc::now());
    let last = this.prev();
    let start = last.start() + Days::days(1);
    record(
        gql,
        op,
        json!([
            usage("fee-1", &w.td, "START", start),
            usage("fee-2", &w.td, "STOP", start + Days::minutes(600))
        ]),
    )
    .await;
    let r = gql
        .q(
            Some(op),
            "mutation($m: Month!){ closeMonth(month:$m){ bills } }",
            json!({"m": last.to_string()}),
        )
        .await;
    assert_eq!(r.data()["closeMonth"]["bills"], 1);
    let started = Instant::now();
    let mail = loop {
        if let Some(m) = env
            .smtp
            .mails()
            .into_iter()
            .find(|m| m["category"] == "CONTRACT_FEE")
        {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no contract and fee mail"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        mail["to"],
        json!(["contact@example.com"]),
        "the contact person"
    );
    let subject = mail["subject"].as_str().unwrap();
    assert!(
        subject.contains(&format!("Your bill for {last} is fixed")),
        "{subject}"
    );
    assert!(mail["body"].as_str().unwrap().contains(&w.d), "{mail}");
}

// ---- live subscriptions -----------------------------------------------------------------------

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

struct Ws(Socket);

impl Ws {
    async fn connect(gql: &Gql, token: &str) -> Ws {
        let url = format!("{}/graphql/ws", gql.base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
        socket
            .send(Message::Text(init.to_string().into()))
            .await
            .unwrap();
        let mut ws = Ws(socket);
        let ack = ws.recv(Duration::from_secs(10)).await.expect("ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    async fn recv(&mut self, wait: Duration) -> Option<Value> {
        let until = Instant::now() + wait;
        loop {
            let left = until.checked_duration_since(Instant::now())?;
            let msg = tokio::time::timeout(left, self.0.next())
                .await
                .ok()??
                .ok()?;
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "ping" {
                    let pong = json!({"type": "pong"}).to_string();
                    self.0.send(Message::Text(pong.into())).await.unwrap();
                    continue;
                }
                return Some(v);
            }
        }
    }

    async fn subscribe(&mut self, id: &str, query: &str, vars: Value) {
        let msg =
            json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": vars}});
        self.0
            .send(Message::Text(msg.to_string().into()))
            .await
            .unwrap();
    }

    /// The next `next` payload's data (panics on errors).
    async fn data(&mut self, wait: Duration) -> Option<Value> {
        let m = self.recv(wait).await?;
        assert_eq!(m["type"], "next", "{m}");
        assert!(m["payload"].get("errors").is_none(), "{m}");
        Some(m["payload"]["data"].clone())
    }
}

/// Returns the code another contract's `billEstimate` was refused with.
async fn live_flow(env: &Env, w: &World) -> String {
    let (gql, op) = (&env.gql, &w.op);
    let c_user = w.token(gql, "c-user").await;
    let mut ws = Ws::connect(gql, &c_user).await;
    ws.subscribe(
        "n",
        "subscription{ notices{ id category title } }",
        json!({}),
    )
    .await;
    // Live once a probe published by another request comes through.
    let started = Instant::now();
    loop {
        let probe = publish(
            gql,
            op,
            notice("RELEASE", "Probe", json!({"contractIds": [w.c]})),
        )
        .await;
        if let Some(d) = ws.data(Duration::from_millis(500)).await {
            assert_eq!(d["notices"]["category"], "RELEASE");
            let _ = probe;
            while ws.data(Duration::from_millis(300)).await.is_some() {}
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "subscription never live"
        );
    }
    // FAILURE is suppressed for the child: not delivered live either; MAINTENANCE is.
    publish(
        gql,
        op,
        notice("FAILURE", "Suppressed one", json!({"tenantIds": [w.tc]})),
    )
    .await;
    let m = publish(
        gql,
        op,
        notice(
            "MAINTENANCE",
            "Live maintenance",
            json!({"tenantIds": [w.tc]}),
        ),
    )
    .await;
    let d = ws
        .data(Duration::from_secs(10))
        .await
        .expect("the maintenance notice");
    assert_eq!(
        d["notices"]["id"], m["id"],
        "the suppressed FAILURE never came first"
    );
    assert_eq!(d["notices"]["title"], "Live maintenance");
    // Someone else's notice (P's tenant, no access) does not reach the child user.
    publish(
        gql,
        op,
        notice("FAILURE", "Partner only", json!({"tenantIds": [w.tp]})),
    )
    .await;
    let marker = publish(
        gql,
        op,
        notice("RELEASE", "Marker", json!({"contractIds": [w.c]})),
    )
    .await;
    let d = ws.data(Duration::from_secs(10)).await.unwrap();
    assert_eq!(d["notices"]["id"], marker["id"]);

    // billEstimate: the current estimate first, a new one when usage arrives.
    let d_owner = w.token(gql, "d-owner").await;
    let mut ws = Ws::connect(gql, &d_owner).await;
    ws.subscribe(
        "b",
        "subscription($c: ID!){ billEstimate(contractId:$c){ contractId month status total } }",
        json!({"c": w.d}),
    )
    .await;
    let first = ws
        .data(Duration::from_secs(10))
        .await
        .expect("the estimate as it stands");
    assert_eq!(first["billEstimate"]["status"], "ESTIMATED");
    assert_eq!(first["billEstimate"]["contractId"], w.d.as_str());
    record(
        gql,
        op,
        json!([usage("live-1", &w.td, "START", Utc::now() - Days::hours(3))]),
    )
    .await;
    let started = Instant::now();
    loop {
        let d = ws
            .data(Duration::from_secs(10))
            .await
            .expect("a new estimate after usage");
        if d["billEstimate"]["total"] != first["billEstimate"]["total"] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }
    // Another contract's estimate is not for the direct owner.
    ws.subscribe(
        "x",
        "subscription($c: ID!){ billEstimate(contractId:$c){ total } }",
        json!({"c": w.p}),
    )
    .await;
    let m = ws.recv(Duration::from_secs(10)).await.unwrap();
    let code = if m["type"] == "error" {
        m["payload"][0]["extensions"]["code"].clone()
    } else {
        m["payload"]["errors"][0]["extensions"]["code"].clone()
    };
    code.as_str().unwrap_or_default().to_string()
}

/// A contract's estimate is refused to another contract's owner as absent or forbidden.
fn assert_foreign_estimate_refused(code: &str) {
    assert!(code == "NOT_FOUND" || code == "FORBIDDEN", "{code}");
}

#[actix_rt::test]
async fn notifications_embedded() {
    let mut env = Env::embedded().await;
    let w = recipients_flow(&env).await;
    delivery_flow(&mut env, &w).await;
    fee_flow(&env, &w).await;
    let foreign = live_flow(&env, &w).await;
    env.finish().await;
    assert_foreign_estimate_refused(&foreign);
}

#[actix_rt::test]
async fn notifications_distributed() {
    let mut env = Env::distributed().await;
    let w = recipients_flow(&env).await;
    delivery_flow(&mut env, &w).await;
    fee_flow(&env, &w).await;
    let foreign = live_flow(&env, &w).await;
    env.finish().await;
    assert_foreign_estimate_refused(&foreign);
}

/// The notification target killed (SIGKILL) while the mails of a 1,000-recipient notice go out,
/// then started again: every recipient gets the mail, and the duplicates are at most the mails in
/// flight at the kill (sent but not yet recorded: the sends in progress plus one group of
/// recorded-together rows).
#[actix_rt::test]
async fn notification_killed_mid_notice_distributed() {
    const USERS: usize = 999; // + the owner = 1,000 recipients
    const IN_FLIGHT: usize = 16 + 32; // ECL_SMTP_CONCURRENCY (default) + rows recorded together
    let smtp = Smtp::start_with_delay(20).await;
    let url = smtp.url();
    let mut d = Distributed::start_with_env(
        &["identity", "contract", "tenant", "notification", "gateway"],
        &[
            ("ECL_SMTP_URL", &url),
            ("ECL_SMTP_RETRY_MAX_MS", RETRY_MAX_MS),
            // A killed sender's claims expire after 3 s instead of 30.
            ("ECL_SMTP_LEASE_MS", "3000"),
        ],
    )
    .await;
    let gql = d.gateway();
    let op = gql.operator().await;
    let k = gql
        .create_contract(&op, Kind::Direct, "Kill Co", "k-owner")
        .await
        .id;
    let owner = gql.sign_in("k-owner", OWNER_PASSWORD).await;
    // Four at a time: each creation hashes a password (argon2id, CPU-bound on 2 cores); more in
    // flight only queue behind each other, past the request deadline on a loaded machine.
    let created: Vec<String> = futures::stream::iter(0..USERS)
        .map(|i| {
            let (gql, owner, k) = (&gql, &owner, &k);
            async move {
                let login = format!("k-{i:04}");
                gql.create_member(owner, k, &login, "USER").await
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    assert_eq!(created.len(), USERS);

    let n = publish(
        &gql,
        &op,
        notice("RELEASE", "To a thousand", json!({"contractIds": [k]})),
    )
    .await;
    assert_eq!(n["recipientCount"], USERS + 1);
    let id = n["id"].as_str().unwrap().to_string();
    // Polled often: the kill is meant to land early in the sending.
    let started = Instant::now();
    while smtp.mails_of(&id).len() < 100 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "mails never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    d.kill_one("notification");
    let at_kill = smtp.mails_of(&id).len();
    assert!(
        at_kill < USERS + 1,
        "the kill came after the last mail: {at_kill}"
    );
    d.spawn("notification").await;

    let started = Instant::now();
    let mails = loop {
        let mails = smtp.mails_of(&id);
        let distinct: std::collections::HashSet<String> = mails
            .iter()
            .map(|m| m["to"][0].as_str().unwrap().to_string())
            .collect();
        if distinct.len() == USERS + 1 {
            break mails;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{} of {} recipients got the mail",
            distinct.len(),
            USERS + 1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let bus = ecl_bus::Bus::new(ecl_bus::connect(&amqp_url(), &d.ns).await.unwrap());
    let ctx = ecl_bus::CallCtx::new(
        ecl_kernel::Principal::system("test"),
        Duration::from_secs(5),
    );
    let started = Instant::now();
    loop {
        let counts = bus
            .call(
                &ctx,
                &ecl_proto::notification::DeliveryStats {
                    notice_id: Some(id.clone()),
                },
            )
            .await
            .unwrap();
        if counts.sent == (USERS + 1) as u64 {
            assert_eq!((counts.queued, counts.failed), (0, 0));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let duplicates = mails.len() - (USERS + 1);
    eprintln!("killed after {at_kill} mails; {duplicates} duplicates");
    assert!(duplicates <= IN_FLIGHT, "{duplicates} duplicates");
    d.cleanup().await;
}
