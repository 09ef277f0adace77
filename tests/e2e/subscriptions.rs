//! GraphQL subscriptions over WebSocket (graphql-transport-ws at `/graphql/ws`), embedded and
//! distributed: a subscriber receives the event of a tenant created in another request; another
//! partner's subscriber receives nothing of it; bad or missing credentials are refused.

use crate::common;

use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const CREATE_TENANT: &str =
    "mutation($c: ID!){ createTenant(contractId:$c, input:{name:\"web\", region:\"jp1\"}){ id } }";
const TOUCH: &str =
    "mutation($id: ID!){ updateContract(id:$id, input:{ name: \"touched\" }){ id } }";
const EVENTS: &str =
    "subscription($c: ID!){ contractEvents(contractId:$c){ kind contractId tenantId userId at } }";

/// A graphql-transport-ws client connection.
struct Ws(Socket);

impl Ws {
    /// Connects and sends `connection_init` with `payload`: the acknowledged connection, or the
    /// close frame's reason.
    async fn connect(gql: &Gql, payload: Value) -> Result<Ws, String> {
        let url = format!("{}/graphql/ws", gql.base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, resp) = tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket upgrade");
        assert_eq!(
            resp.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let init = json!({"type": "connection_init", "payload": payload});
        socket
            .send(Message::Text(init.to_string().into()))
            .await
            .unwrap();
        let mut ws = Ws(socket);
        match ws.recv(Duration::from_secs(10)).await {
            Some(Ok(m)) if m["type"] == "connection_ack" => Ok(ws),
            Some(Err(reason)) => Err(reason),
            other => panic!("expected connection_ack or close, got {other:?}"),
        }
    }

    /// The next protocol message (answering pings), `Err(reason)` for a close, `None` on timeout.
    async fn recv(&mut self, wait: Duration) -> Option<Result<Value, String>> {
        let until = Instant::now() + wait;
        loop {
            let left = until.checked_duration_since(Instant::now())?;
            let msg = match tokio::time::timeout(left, self.0.next()).await {
                Err(_) => return None,
                Ok(None) => return Some(Err("closed without a frame".into())),
                Ok(Some(m)) => m,
            };
            match msg {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "ping" {
                        let pong = json!({"type": "pong"}).to_string();
                        self.0.send(Message::Text(pong.into())).await.unwrap();
                        continue;
                    }
                    return Some(Ok(v));
                }
                Ok(Message::Close(frame)) => {
                    return Some(Err(frame
                        .map(|f| format!("{} {}", u16::from(f.code), f.reason))
                        .unwrap_or_default()));
                }
                Ok(_) => continue,
                Err(e) => return Some(Err(e.to_string())),
            }
        }
    }

    async fn subscribe(&mut self, id: &str, contract_id: &str) {
        let msg = json!({"id": id, "type": "subscribe", "payload": {"query": EVENTS, "variables": {"c": contract_id}}});
        self.0
            .send(Message::Text(msg.to_string().into()))
            .await
            .unwrap();
    }

    /// The next `contractEvents` payload within `wait` (panics on an error or a close).
    async fn event(&mut self, wait: Duration) -> Option<Value> {
        match self.recv(wait).await? {
            Ok(m) if m["type"] == "next" => {
                assert!(m["payload"].get("errors").is_none(), "{m}");
                Some(m["payload"]["data"]["contractEvents"].clone())
            }
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Subscribes to `contract_id`'s events and returns once the subscription is live: it touches
    /// the contract (with `token`) until its own `CONTRACT_UPDATED` comes through.
    async fn subscribe_live(&mut self, gql: &Gql, token: &str, id: &str, contract_id: &str) {
        self.subscribe(id, contract_id).await;
        let started = Instant::now();
        loop {
            gql.q(Some(token), TOUCH, json!({"id": contract_id}))
                .await
                .data();
            // Earlier changes may still be on their way (the outbox relays after commit).
            while let Some(ev) = self.event(Duration::from_millis(300)).await {
                if ev["kind"] == "CONTRACT_UPDATED" && ev["contractId"] == contract_id {
                    // Drain the other touches' events.
                    while self.event(Duration::from_millis(300)).await.is_some() {}
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "subscription never became live"
            );
        }
    }
}

fn bearer(token: &str) -> Value {
    json!({"Authorization": format!("Bearer {token}")})
}

/// Two partners; partner A's owner watches A (and so its child) from every given gateway, B's
/// owner watches B. A tenant created in A's child reaches A's watchers — on every gateway replica —
/// and not B's.
/// How the gateway refused what it must refuse: a bad token and no credentials at
/// `connection_init` (the close reasons), a subscription over plain HTTP (whether it erred).
struct Refusals {
    bad_token: String,
    anonymous: String,
    over_http_errs: bool,
}

impl Refusals {
    fn assert_all_refused(&self) {
        assert!(
            self.bad_token.contains("UNAUTHENTICATED"),
            "{}",
            self.bad_token
        );
        assert!(
            self.anonymous.contains("UNAUTHENTICATED"),
            "{}",
            self.anonymous
        );
        assert!(self.over_http_errs, "a subscription over HTTP is refused");
    }
}

async fn subscription_flow(gateways: &[Gql]) -> Refusals {
    let gql = &gateways[0];
    let op = gql.operator().await;
    let mut partners = Vec::new();
    for (name, owner) in [("Sub A", "sub-a-owner"), ("Sub B", "sub-b-owner")] {
        partners.push(
            gql.create_contract(&op, Kind::Partner, name, owner)
                .await
                .id,
        );
    }
    let (a, b) = (partners[0].clone(), partners[1].clone());
    let a_owner = gql.sign_in("sub-a-owner", OWNER_PASSWORD).await;
    let b_owner = gql.sign_in("sub-b-owner", OWNER_PASSWORD).await;
    let child = gql
        .create_contract(&a_owner, Kind::ChildOf(&a), "Sub A child", "sub-a1-owner")
        .await
        .id;

    // Credentials in the connection_init payload, either key case.
    let mut watchers_a = Vec::new();
    for (i, g) in gateways.iter().enumerate() {
        let payload = if i % 2 == 0 {
            bearer(&a_owner)
        } else {
            json!({"authorization": format!("Bearer {a_owner}")})
        };
        let mut ws = Ws::connect(g, payload).await.expect("connection accepted");
        ws.subscribe_live(g, &a_owner, "a", &a).await;
        watchers_a.push(ws);
    }
    let mut watcher_b = Ws::connect(gql, bearer(&b_owner)).await.unwrap();
    watcher_b.subscribe_live(gql, &b_owner, "b", &b).await;

    // Another request creates a tenant in A's child.
    let tenant = gql
        .q(Some(&a_owner), CREATE_TENANT, json!({"c": child}))
        .await
        .data()["createTenant"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for ws in &mut watchers_a {
        let ev = loop {
            let ev = ws
                .event(Duration::from_secs(10))
                .await
                .expect("tenant event reaches every gateway's subscriber");
            if ev["kind"] == "TENANT_CREATED" {
                break ev;
            }
            // Only A's tree, whatever else is still arriving.
            assert!(
                ev["contractId"] == a.as_str() || ev["contractId"] == child.as_str(),
                "{ev}"
            );
        };
        assert_eq!(ev["contractId"], child.as_str());
        assert_eq!(ev["tenantId"], tenant.as_str());
        assert_eq!(ev["userId"], Value::Null);
        assert!(
            ev["at"].as_str().is_some_and(|t| t.starts_with("20")),
            "{ev}"
        );
    }
    let until = Instant::now() + Duration::from_millis(1500);
    while let Some(ev) = watcher_b
        .event(until.saturating_duration_since(Instant::now()))
        .await
    {
        assert_eq!(
            ev["contractId"],
            b.as_str(),
            "another partner's subscriber sees nothing of A"
        );
    }

    // A contract the caller may not see: NOT_FOUND, and the connection stays usable.
    watcher_b.subscribe("x", &a).await;
    let m = watcher_b
        .recv(Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    let code = if m["type"] == "error" {
        m["payload"][0]["extensions"]["code"].clone()
    } else {
        assert_eq!(m["type"], "next", "{m}");
        m["payload"]["errors"][0]["extensions"]["code"].clone()
    };
    assert_eq!(code, "NOT_FOUND", "{m}");

    // Bad and missing credentials are refused at connection_init.
    let bad_token = Ws::connect(gql, bearer("not-a-token"))
        .await
        .err()
        .expect("bad token refused");
    let anonymous = Ws::connect(gql, json!({}))
        .await
        .err()
        .expect("anonymous refused");

    // Over plain HTTP a subscription is refused, not left hanging.
    let r = gql.q(Some(&a_owner), EVENTS, json!({"c": a})).await;
    Refusals {
        bad_token,
        anonymous,
        over_http_errs: r.body.get("errors").is_some(),
    }
}

#[actix_rt::test]
async fn subscriptions_embedded() {
    let (app, gql) = spawn_embedded().await;
    let refusals = subscription_flow(&[gql]).await;
    app.stop().await;
    refusals.assert_all_refused();
}

#[actix_rt::test]
async fn subscriptions_distributed() {
    let mut d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    // A second gateway replica: each one must get every event (fan-out).
    d.spawn("gateway").await;
    let gateways: Vec<Gql> = d
        .procs
        .iter()
        .filter(|p| p.target == "gateway")
        .map(|p| Gql::new(&p.addr))
        .collect();
    assert_eq!(gateways.len(), 2);
    let refusals = subscription_flow(&gateways).await;
    d.cleanup().await;
    refusals.assert_all_refused();
}
