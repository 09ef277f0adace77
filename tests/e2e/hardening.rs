//! Issue 9, security: what an attacker tried, as tests that run the attack.
//! - 32 parallel wrong passwords lock the account (the count is atomic), embedded and distributed
//!   with two identity replicas;
//! - a known password does not buy unlimited TOTP guesses: second-factor failures count;
//! - a used TOTP code stays refused after the cache is flushed (the last step is in the store);
//! - API keys never do more than their creator, now and after the creator's rights shrink; a user
//!   cannot widen their own rights;
//! - an admin limited to a contract group sees no tenant of the children outside it.

use crate::common;

use common::*;
use ecl_kernel::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;

const SIGN_IN: &str = "mutation($l:String!,$p:String!){ signIn(loginId:$l, password:$p){ accessToken tfaRequired challenge } }";
const VERIFY: &str =
    "mutation($c:String!,$k:String!){ verifyTfa(challenge:$c, code:$k){ accessToken } }";
const PASSWORD: &str = "User-pass-123";

fn id(r: &Resp, field: &str) -> String {
    r.data()[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{field}.id in {}", r.body))
        .to_string()
}

async fn direct(gql: &Gql, name: &str, owner: &str) -> String {
    let op = gql.operator().await;
    gql.create_contract(&op, Kind::Direct, name, owner).await.id
}

async fn create_user(gql: &Gql, token: &str, contract: &str, login: &str, role: &str) -> String {
    let r = gql
        .q(
            Some(token),
            "mutation($c: ID!, $l: String!, $r: Role!){ createUser(contractId:$c, input:{loginId:$l, email:\"u@example.com\", password:\"User-pass-123\", role:$r}){ id } }",
            json!({"c": contract, "l": login, "r": role}),
        )
        .await;
    id(&r, "createUser")
}

/// 32 wrong passwords at once, then the right one: what the right one got (refused, because the
/// account is locked).
async fn parallel_guesses_lock(gql: &Gql, login: &str) -> Resp {
    let guesses: Vec<_> = (0..32)
        .map(|i| {
            let gql = Gql::new(gql.base.trim_start_matches("http://"));
            let login = login.to_string();
            tokio::spawn(async move {
                gql.q(
                    None,
                    SIGN_IN,
                    json!({"l": login, "p": format!("Wrong-pass-{i}")}),
                )
                .await
            })
        })
        .collect();
    for g in guesses {
        let r = g.await.unwrap();
        assert_eq!(r.code(), "UNAUTHENTICATED", "{}", r.body);
    }
    gql.q(None, SIGN_IN, json!({"l": login, "p": OWNER_PASSWORD}))
        .await
}

#[actix_rt::test]
async fn parallel_wrong_passwords_lock_the_account_embedded() {
    let (app, gql) = spawn_embedded().await;
    direct(&gql, "Parallel Lock", "plock-owner").await;
    let r = parallel_guesses_lock(&gql, "plock-owner").await;
    app.stop().await;
    assert_eq!(
        r.code(),
        "UNAUTHENTICATED",
        "locked after parallel failures: {}",
        r.body
    );
}

#[actix_rt::test]
async fn parallel_wrong_passwords_lock_the_account_distributed() {
    // Two identity replicas share the count through PostgreSQL.
    let mut d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    d.spawn("identity").await;
    let gql = d.gateway();
    direct(&gql, "Parallel Lock D", "plockd-owner").await;
    let r = parallel_guesses_lock(&gql, "plockd-owner").await;
    d.cleanup().await;
    assert_eq!(
        r.code(),
        "UNAUTHENTICATED",
        "locked after parallel failures: {}",
        r.body
    );
}

/// RFC 6238's HOTP over the 30-second step of `unix`, 6 digits.
fn totp_code(secret_b32: &str, unix: i64) -> String {
    use hmac::{Hmac, Mac};
    let (mut bits, mut nbits, mut key) = (0u64, 0, Vec::new());
    for c in secret_b32.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {c}"),
        } as u64;
        bits = (bits << 5) | v;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            key.push((bits >> nbits) as u8);
        }
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&((unix / 30) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0xf) as usize;
    let n = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", n % 1_000_000)
}

/// Signs `login` in, enrols TOTP and confirms it with the code of `now`; returns the secret.
async fn enrol(gql: &Gql, login: &str, now: i64) -> String {
    let token = gql.sign_in(login, OWNER_PASSWORD).await;
    let e = gql
        .q(Some(&token), "mutation{ enrollTotp{ secret } }", json!({}))
        .await;
    let secret = e.data()["enrollTotp"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    gql.q(
        Some(&token),
        "mutation($k:String!){ confirmTotp(code:$k) }",
        json!({"k": totp_code(&secret, now)}),
    )
    .await
    .data();
    secret
}

async fn challenge(gql: &Gql, login: &str) -> Resp {
    gql.q(None, SIGN_IN, json!({"l": login, "p": OWNER_PASSWORD}))
        .await
}

#[actix_rt::test]
async fn second_factor_failures_count_toward_the_lockout() {
    let clock = ManualClock::default();
    let (app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let now = || ecl_kernel::Clock::now(&clock).timestamp();
    direct(&gql, "TOTP Guess", "guess-owner").await;
    let secret = enrol(&gql, "guess-owner", now()).await;
    clock.advance(chrono::Duration::seconds(30));
    // Each sign-in with the right password gets a fresh challenge; the wrong codes add up across
    // them: five in all lock the account.
    for i in 0..5 {
        let c = challenge(&gql, "guess-owner").await;
        assert_eq!(
            c.data()["signIn"]["tfaRequired"],
            true,
            "attempt {i} not locked yet"
        );
        let c = c.data()["signIn"]["challenge"]
            .as_str()
            .unwrap()
            .to_string();
        let r = gql.q(None, VERIFY, json!({"c": c, "k": "000000"})).await;
        assert_eq!(r.code(), "UNAUTHENTICATED");
    }
    // Locked: the right password and the right code are refused alike.
    let r = challenge(&gql, "guess-owner").await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "{}", r.body);
    // After the lock period, the whole sign-in succeeds, and the count starts again.
    clock.advance(chrono::Duration::minutes(16));
    let c = challenge(&gql, "guess-owner").await;
    let c = c.data()["signIn"]["challenge"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gql
        .q(
            None,
            VERIFY,
            json!({"c": c, "k": totp_code(&secret, now())}),
        )
        .await;
    assert!(r.data()["verifyTfa"]["accessToken"].is_string());
    // Parallel code guesses on one challenge are claimed one by one: at most five are checked.
    clock.advance(chrono::Duration::seconds(30));
    let c = challenge(&gql, "guess-owner").await;
    let c = c.data()["signIn"]["challenge"]
        .as_str()
        .unwrap()
        .to_string();
    let guesses: Vec<_> = (0..32)
        .map(|i| {
            let gql = Gql::new(gql.base.trim_start_matches("http://"));
            let c = c.clone();
            tokio::spawn(async move {
                gql.q(
                    None,
                    VERIFY,
                    json!({"c": c, "k": format!("{:06}", 100 + i)}),
                )
                .await
            })
        })
        .collect();
    for g in guesses {
        assert_eq!(g.await.unwrap().code(), "UNAUTHENTICATED");
    }
    let r = gql
        .q(
            None,
            VERIFY,
            json!({"c": c, "k": totp_code(&secret, now())}),
        )
        .await;
    assert_eq!(
        r.code(),
        "UNAUTHENTICATED",
        "locked by the parallel guesses"
    );
    app.stop().await;
}

/// Distributed: a code accepted once stays refused after the run's Redis keys are flushed —
/// replay protection lives in the identity store, not in the cache.
#[actix_rt::test]
async fn used_totp_code_stays_refused_after_a_cache_flush() {
    let d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    let gql = d.gateway();
    let now = || chrono::Utc::now().timestamp();
    // Stay clear of a step boundary so the code stays the current one throughout.
    wait_until(
        std::time::Duration::from_secs(31),
        "the start of a TOTP step",
        || async { now() % 30 <= 15 },
    )
    .await;
    direct(&gql, "TOTP Replay", "replay-owner").await;
    let secret = enrol(&gql, "replay-owner", now()).await;
    let code = totp_code(&secret, now());
    // The code was used to confirm; flush every cache key of this run, then replay it.
    let flushed = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "redis-cli -u {} --scan --pattern '{}:*' | xargs -r redis-cli -u {} del",
            redis_url(),
            d.ns,
            redis_url()
        ))
        .status()
        .expect("redis-cli");
    assert!(flushed.success());
    let c = challenge(&gql, "replay-owner").await;
    let c = c.data()["signIn"]["challenge"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gql.q(None, VERIFY, json!({"c": c, "k": code})).await;
    assert_eq!(
        r.code(),
        "UNAUTHENTICATED",
        "replayed after a flush: {}",
        r.body
    );
    d.cleanup().await;
}

const KEY: &str =
    "mutation($s: [ApiScope!]!){ createApiKey(input:{name:\"k\", scopes:$s}){ secret } }";
const BILL: &str = "query($id: ID!){ contract(id:$id){ bill(month:\"2026-11\"){ status } } }";

async fn key(gql: &Gql, token: &str, scopes: &[&str]) -> Resp {
    gql.q(Some(token), KEY, json!({"s": scopes})).await
}

/// A key never does more than its creator may: the flow checks each step and returns what a
/// demoted creator's key gets at the end (refused).
async fn keys_never_outrank_creators(gql: &Gql) -> Resp {
    let op = gql.operator().await;
    let partner = gql
        .create_contract(&op, Kind::Partner, "Rank Partner", "rank-owner")
        .await
        .id;
    let owner = gql.sign_in("rank-owner", OWNER_PASSWORD).await;
    let child = gql
        .create_contract(
            &owner,
            Kind::ChildOf(&partner),
            "Rank Child",
            "rank-child-owner",
        )
        .await
        .id;
    let admin_id = create_user(gql, &owner, &partner, "rank-admin", "ADMIN").await;
    let admin = gql.sign_in("rank-admin", PASSWORD).await;

    // Usage hidden from the admin: no billing key, and no way to unhide it themselves.
    gql.q(
        Some(&owner),
        "mutation($id: ID!){ updateUser(id:$id, input:{canViewUsage:false}){ canViewUsage } }",
        json!({"id": admin_id}),
    )
    .await
    .data();
    let admin = {
        // The owner's change is seen at once, not after the principal cache expires.
        let r = gql.q(Some(&admin), BILL, json!({"id": partner})).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
        admin
    };
    assert_eq!(
        key(gql, &admin, &["BILLING_READ"]).await.code(),
        "FORBIDDEN"
    );
    let r = gql
        .q(
            Some(&admin),
            "mutation($id: ID!){ updateUser(id:$id, input:{canViewUsage:true}){ canViewUsage } }",
            json!({"id": admin_id}),
        )
        .await;
    assert_eq!(
        r.code(),
        "FORBIDDEN",
        "a user cannot widen their own rights"
    );
    let other = create_user(gql, &owner, &partner, "rank-admin2", "ADMIN").await;
    let r = gql
        .q(
            Some(&admin),
            "mutation($id: ID!){ updateUser(id:$id, input:{canViewUsage:false}){ canViewUsage } }",
            json!({"id": other}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "only the owner changes canViewUsage");

    // A key made while the admin could see usage loses billing when the owner hides it.
    gql.q(
        Some(&owner),
        "mutation($id: ID!){ updateUser(id:$id, input:{canViewUsage:true}){ canViewUsage } }",
        json!({"id": admin_id}),
    )
    .await
    .data();
    let r = key(gql, &admin, &["BILLING_READ", "CONTRACTS_READ"]).await;
    let secret = r.data()["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gql.key_q(&secret, BILL, json!({"id": partner})).await;
    assert_eq!(r.data()["contract"]["bill"]["status"], "ESTIMATED");
    gql.q(
        Some(&owner),
        "mutation($id: ID!){ updateUser(id:$id, input:{canViewUsage:false}){ canViewUsage } }",
        json!({"id": admin_id}),
    )
    .await
    .data();
    let r = gql.key_q(&secret, BILL, json!({"id": partner})).await;
    assert_eq!(r.code(), "FORBIDDEN", "re-checked at once: {}", r.body);

    // An admin's CONTRACTS_READ key shows no customer information; the owner's does.
    let customer = "query($id: ID!){ contract(id:$id){ customer{ company } } }";
    for c in [&partner, &child] {
        let r = gql.key_q(&secret, customer, json!({"id": c})).await;
        assert_eq!(r.data()["contract"]["customer"], Value::Null, "{c}");
    }
    let r = key(gql, &owner, &["CONTRACTS_READ"]).await;
    let owners = r.data()["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gql.key_q(&owners, customer, json!({"id": child})).await;
    assert_eq!(
        r.data()["contract"]["customer"]["company"],
        "Rank Child K.K."
    );

    // A demoted creator's key stops working; a deleted creator's too.
    let r = key(gql, &owner, &["TENANTS_READ"]).await;
    r.data();
    gql.q(
        Some(&owner),
        "mutation($id: ID!){ updateUser(id:$id, input:{role:USER}){ role } }",
        json!({"id": admin_id}),
    )
    .await
    .data();
    gql.key_q(
        &secret,
        "query($id: ID!){ contract(id:$id){ name } }",
        json!({"id": partner}),
    )
    .await
}

#[actix_rt::test]
async fn keys_never_outrank_their_creators_embedded() {
    let (app, gql) = spawn_embedded().await;
    let demoted = keys_never_outrank_creators(&gql).await;
    app.stop().await;
    assert_eq!(
        demoted.code(),
        "UNAUTHENTICATED",
        "a demoted creator's key: {}",
        demoted.body
    );
}

#[actix_rt::test]
async fn keys_never_outrank_their_creators_distributed() {
    let d = Distributed::start(&[
        "identity", "contract", "tenant", "billing", "metering", "gateway",
    ])
    .await;
    let demoted = keys_never_outrank_creators(&d.gateway()).await;
    d.cleanup().await;
    assert_eq!(
        demoted.code(),
        "UNAUTHENTICATED",
        "a demoted creator's key: {}",
        demoted.body
    );
}

/// An admin limited to a group with child C1 lists a parent user's tenants: the tenant of C2
/// (outside the group) is not among them; an unrestricted admin sees both.
#[actix_rt::test]
async fn contract_groups_hold_in_user_tenants() {
    let (app, gql) = spawn_embedded().await;
    let op = gql.operator().await;
    let partner = gql
        .create_contract(&op, Kind::Partner, "Group Partner", "grp-owner")
        .await
        .id;
    let owner = gql.sign_in("grp-owner", OWNER_PASSWORD).await;
    let mut children = Vec::new();
    let mut tenants = Vec::new();
    for n in ["C1", "C2"] {
        let c = gql
            .create_contract(
                &owner,
                Kind::ChildOf(&partner),
                n,
                &format!("grp-{n}-owner"),
            )
            .await
            .id;
        let r = gql
            .q(
                Some(&owner),
                "mutation($c: ID!){ createTenant(contractId:$c, input:{name:\"t\", region:\"jp1\"}){ id } }",
                json!({"c": c}),
            )
            .await;
        tenants.push(id(&r, "createTenant"));
        children.push(c);
    }
    let worker = create_user(&gql, &owner, &partner, "grp-worker", "USER").await;
    for t in &tenants {
        gql.q(
            Some(&owner),
            "mutation($t: ID!, $u: ID!){ grantTenantAccess(tenantId:$t, userId:$u){ tenantId } }",
            json!({"t": t, "u": worker}),
        )
        .await
        .data();
    }
    let g = gql
        .q(
            Some(&owner),
            "mutation($p: ID!){ createContractGroup(partnerId:$p, name:\"c1\"){ id } }",
            json!({"p": partner}),
        )
        .await;
    let g = id(&g, "createContractGroup");
    gql.q(
        Some(&owner),
        "mutation($g: ID!, $c: ID!){ addChildToGroup(groupId:$g, contractId:$c){ id } }",
        json!({"g": g, "c": children[0]}),
    )
    .await
    .data();
    let gadmin = create_user(&gql, &owner, &partner, "grp-admin", "ADMIN").await;
    gql.q(
        Some(&owner),
        "mutation($g: ID!, $u: ID!){ assignUserToGroup(groupId:$g, userId:$u){ id } }",
        json!({"g": g, "u": gadmin}),
    )
    .await
    .data();
    let gadmin = gql.sign_in("grp-admin", PASSWORD).await;
    let q = "query($id: ID!){ contract(id:$id){ users(first:50){ edges{ node{ loginId tenants(first:50){ totalCount edges{ node{ id } } } } } } } }";
    let tenants_of_worker = |r: &Resp| -> Vec<String> {
        r.data()["contract"]["users"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["loginId"] == "grp-worker")
            .expect("worker listed")["node"]["tenants"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let r = gql.q(Some(&gadmin), q, json!({"id": partner})).await;
    assert_eq!(
        tenants_of_worker(&r),
        vec![tenants[0].clone()],
        "{}",
        r.body
    );
    let r = gql.q(Some(&owner), q, json!({"id": partner})).await;
    assert_eq!(tenants_of_worker(&r).len(), 2);
    // The worker itself still sees its own grants.
    let w = gql.sign_in("grp-worker", PASSWORD).await;
    let r = gql
        .q(
            Some(&w),
            "{ me { tenants(first:10){ totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["me"]["tenants"]["totalCount"], 2);
    app.stop().await;
}
