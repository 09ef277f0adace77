//! Partner API keys end to end (issue 3): create → use → a scope denies a write → revoke →
//! refused; a key of partner A cannot read partner B; listing shows the prefix, never the secret;
//! expiry on the platform's clock; the per-key token bucket. Embedded and distributed.

use crate::common;

use common::*;
use ecl_kernel::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;

const CREATE: &str = "mutation($i: ApiKeyInput!){ createApiKey(input:$i){ secret apiKey{ id prefix name scopes expiresAt revokedAt } } }";

struct Partners {
    a: String,
    b: String,
    a_owner: String,
}

async fn partners(gql: &Gql) -> Partners {
    let op = gql.operator().await;
    let mut ids = Vec::new();
    for (name, login) in [("Key Partner A", "ka-owner"), ("Key Partner B", "kb-owner")] {
        ids.push(
            gql.create_contract(&op, Kind::Partner, name, login)
                .await
                .id,
        );
    }
    Partners {
        a: ids[0].clone(),
        b: ids[1].clone(),
        a_owner: gql.sign_in("ka-owner", OWNER_PASSWORD).await,
    }
}

async fn create_key(gql: &Gql, token: &str, scopes: &[&str], expires_at: Value) -> (String, Value) {
    let r = gql
        .q(
            Some(token),
            CREATE,
            json!({"i": {"name": "integration", "scopes": scopes, "expiresAt": expires_at}}),
        )
        .await;
    let created = &r.data()["createApiKey"];
    (
        created["secret"].as_str().unwrap().to_string(),
        created["apiKey"].clone(),
    )
}

/// A key's life, checked step by step; returns the contract's key count at the end (after the
/// refused inputs: still the one key).
async fn lifecycle(gql: &Gql) -> Value {
    let p = partners(gql).await;
    let (secret, key) = create_key(
        gql,
        &p.a_owner,
        &["TENANTS_WRITE", "USERS_READ"],
        Value::Null,
    )
    .await;
    // `ecl_` + 43 base64url characters = 32 random bytes.
    assert!(
        secret.starts_with("ecl_") && secret.len() >= 4 + 43,
        "{secret}"
    );
    assert_eq!(key["prefix"].as_str().unwrap(), &secret[..12]);
    assert_eq!(key["scopes"], json!(["TENANTS_WRITE", "USERS_READ"]));

    // The key reads its own contract tree and writes what its scopes allow.
    let r = gql
        .key_q(
            &secret,
            "query($id: ID!){ contract(id:$id){ name customer{ company } users{ totalCount } } }",
            json!({"id": p.a}),
        )
        .await;
    assert_eq!(r.data()["contract"]["name"], "Key Partner A");
    assert!(
        r.data()["contract"]["customer"].is_null(),
        "customer information needs CONTRACTS_READ"
    );
    assert_eq!(r.data()["contract"]["users"]["totalCount"], 1);
    let r = gql
        .key_q(
            &secret,
            "mutation($id: ID!){ createTenant(contractId:$id, input:{name:\"via key\", region:\"jp1\"}){ id name } }",
            json!({"id": p.a}),
        )
        .await;
    assert_eq!(r.data()["createTenant"]["name"], "via key");
    let r = gql
        .key_q(
            &secret,
            "query($id: ID!){ contract(id:$id){ tenants{ totalCount } } }",
            json!({"id": p.a}),
        )
        .await;
    assert_eq!(
        r.data()["contract"]["tenants"]["totalCount"],
        1,
        "write includes read"
    );

    // A scope it does not hold denies the write, and nothing is created.
    let r = gql
        .key_q(
            &secret,
            "mutation($id: ID!){ createUser(contractId:$id, input:{loginId:\"by-key\", email:\"k@example.com\", password:\"User-pass-123\", role:USER}){ id } }",
            json!({"id": p.a}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = gql
        .q(
            Some(&p.a_owner),
            "query($id: ID!){ contract(id:$id){ users{ totalCount } } }",
            json!({"id": p.a}),
        )
        .await;
    assert_eq!(r.data()["contract"]["users"]["totalCount"], 1);

    // Keys do not mint keys, and cannot act as a user.
    let r = gql
        .key_q(
            &secret,
            CREATE,
            json!({"i": {"name": "x", "scopes": ["SLA_READ"]}}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");

    // Partner A's key cannot read partner B (nor write there).
    let r = gql
        .key_q(
            &secret,
            "query($id: ID!){ contract(id:$id){ id } }",
            json!({"id": p.b}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = gql
        .key_q(
            &secret,
            "mutation($id: ID!){ createTenant(contractId:$id, input:{name:\"x\", region:\"jp1\"}){ id } }",
            json!({"id": p.b}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");

    // Listed with its prefix and last use; the secret never again.
    let r = gql
        .q(
            Some(&p.a_owner),
            "query($id: ID!){ contract(id:$id){ apiKeys{ totalCount edges{ node{ id prefix lastUsedAt revokedAt } } } } }",
            json!({"id": p.a}),
        )
        .await;
    let keys = &r.data()["contract"]["apiKeys"];
    assert_eq!(keys["totalCount"], 1);
    let node = &keys["edges"][0]["node"];
    assert_eq!(node["id"], key["id"]);
    assert!(node["lastUsedAt"].is_string(), "{node}");
    assert!(!r.body.to_string().contains(&secret));
    // Partner B's owner sees none of A's keys.
    let b_owner = gql.sign_in("kb-owner", OWNER_PASSWORD).await;
    let r = gql
        .q(
            Some(&b_owner),
            "query($id: ID!){ contract(id:$id){ apiKeys{ totalCount } } }",
            json!({"id": p.b}),
        )
        .await;
    assert_eq!(r.data()["contract"]["apiKeys"]["totalCount"], 0);
    let r = gql
        .q(
            Some(&b_owner),
            "mutation($id: ID!){ revokeApiKey(id:$id){ id } }",
            json!({"id": key["id"]}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");

    // Revoked: refused at once (the gateway's cached principal is dropped too).
    let r = gql
        .q(
            Some(&p.a_owner),
            "mutation($id: ID!){ revokeApiKey(id:$id){ id revokedAt } }",
            json!({"id": key["id"]}),
        )
        .await;
    assert!(r.data()["revokeApiKey"]["revokedAt"].is_string());
    let r = gql
        .key_q(
            &secret,
            "query($id: ID!){ contract(id:$id){ id } }",
            json!({"id": p.a}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "UNAUTHENTICATED"));

    // Bad credentials of every kind.
    let r = gql
        .key_q("ecl_not-a-key", "{ __typename }", json!({}))
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "UNAUTHENTICATED"));
    let r = gql
        .raw(
            Some(&p.a_owner),
            "{ __typename }",
            json!({}),
            &[("x-api-key", &secret)],
        )
        .await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "one credential per request");

    // Bad input changes nothing.
    for (input, field) in [
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": " ", "scopes": ["SLA_READ"]}), "name"),
        (
            json!({"name": "x", "scopes": ["SLA_READ"], "expiresAt": "2001-01-01T00:00:00Z"}),
            "expiresAt",
        ),
    ] {
        let r = gql.q(Some(&p.a_owner), CREATE, json!({"i": input})).await;
        assert_eq!(r.code(), "INVALID_INPUT", "{input}");
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field);
    }
    let r = gql
        .q(
            Some(&p.a_owner),
            "query($id: ID!){ contract(id:$id){ apiKeys{ totalCount } } }",
            json!({"id": p.a}),
        )
        .await;
    r.data()["contract"]["apiKeys"]["totalCount"].clone()
}

/// A burst, then `RATE_LIMITED` with a retry hint (HTTP 429 + `Retry-After`); another key has
/// its own bucket.
/// Requests alternate over `gateways`: the bucket lives in the shared cache, not in a process.
/// Requests on one key until it is limited (the other key keeps working): how many passed, and
/// the refusal.
async fn rate_limit(gateways: &[Gql], burst: usize) -> (usize, Resp) {
    let gql = &gateways[0];
    let p = partners(gql).await;
    let (k1, _) = create_key(gql, &p.a_owner, &["CONTRACTS_READ"], Value::Null).await;
    let (k2, _) = create_key(gql, &p.a_owner, &["CONTRACTS_READ"], Value::Null).await;
    let q = "query($id: ID!){ contract(id:$id){ id } }";
    let mut ok = 0;
    let mut limited = None;
    for i in 0..burst + 5 {
        let r = gateways[i % gateways.len()]
            .key_q(&k1, q, json!({"id": p.a}))
            .await;
        if r.body.get("errors").is_none() {
            ok += 1;
        } else {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the key was limited");
    let r = gql.key_q(&k2, q, json!({"id": p.a})).await;
    assert_eq!(r.data()["contract"]["id"], json!(p.a));
    (ok, limited)
}

/// At least the burst passed, then `429 RATE_LIMITED` with when to retry.
fn assert_limited_after_the_burst((ok, r): (usize, Resp), burst: usize) {
    assert!(ok >= burst, "{ok} requests passed before the limit");
    assert_eq!((r.status, r.code().as_str()), (429, "RATE_LIMITED"));
    assert!(
        r.body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(r.retry_after.is_some());
}

#[actix_rt::test]
async fn api_key_lifecycle_embedded() {
    let (app, gql) = spawn_embedded().await;
    let keys_left = lifecycle(&gql).await;
    app.stop().await;
    assert_eq!(keys_left, 1, "bad input changed nothing");
}

#[actix_rt::test]
async fn api_key_expires_on_the_platform_clock() {
    let clock = ManualClock::default();
    let (app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let p = partners(&gql).await;
    let now = ecl_kernel::Clock::now(&clock);
    let in_hours = |h| json!((now + chrono::Duration::hours(h)).to_rfc3339());
    let (short, _) = create_key(&gql, &p.a_owner, &["CONTRACTS_READ"], in_hours(1)).await;
    let (long, _) = create_key(&gql, &p.a_owner, &["CONTRACTS_READ"], in_hours(3)).await;
    clock.advance(chrono::Duration::hours(2));
    let q = "query($id: ID!){ contract(id:$id){ id } }";
    let r = gql.key_q(&short, q, json!({"id": p.a})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "expired an hour ago");
    gql.key_q(&long, q, json!({"id": p.a})).await.data();
    app.stop().await;
}

#[actix_rt::test]
async fn api_key_rate_limit_embedded() {
    let (app, gql) = spawn_embedded_with(Arc::new(ecl_kernel::SystemClock), |s| {
        s.api_key_burst = 5;
        s.api_key_rate_per_sec = 0.5;
    })
    .await;
    let seen = rate_limit(&[gql], 5).await;
    app.stop().await;
    assert_limited_after_the_burst(seen, 5);
}

#[actix_rt::test]
async fn api_key_rate_limit_distributed() {
    let mut d = Distributed::start_with_env(
        &["identity", "contract", "tenant", "gateway"],
        &[
            ("ECL_API_KEY_BURST", "8"),
            ("ECL_API_KEY_RATE_PER_SEC", "0.5"),
        ],
    )
    .await;
    // Two gateway replicas share each key's bucket through Redis.
    let second = Gql::new(&d.spawn("gateway").await.addr.clone());
    let seen = rate_limit(&[d.gateway(), second], 8).await;
    d.cleanup().await;
    assert_limited_after_the_burst(seen, 8);
}

#[actix_rt::test]
async fn api_key_lifecycle_distributed() {
    let d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    let keys_left = lifecycle(&d.gateway()).await;
    d.cleanup().await;
    assert_eq!(keys_left, 1, "bad input changed nothing");
}
