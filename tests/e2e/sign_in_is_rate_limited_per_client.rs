//! Sign-in attempts are limited per client address (a token bucket in the shared cache, beside
//! the per-account lockout): a flood from one address gets `RATE_LIMITED` with `Retry-After`
//! while another address still signs in. `X-Forwarded-For` counts only behind trusted proxies.

use crate::common;

use common::*;
use serde_json::json;
use std::{net::IpAddr, sync::Arc};

const SIGN_IN: &str =
    "mutation($l:String!,$p:String!){ signIn(loginId:$l, password:$p){ accessToken } }";

const BURST: u32 = 4;

fn tight(s: &mut ecl_kernel::Settings) {
    s.sign_in_burst = BURST;
    s.sign_in_rate_per_sec = 0.05; // one more every 20 s: nothing refills during the test
}

/// `n` parallel wrong sign-ins (different accounts, so no lockout is involved).
async fn flood(gql: &Gql, n: usize, headers: &[(&str, &str)]) -> Vec<Resp> {
    futures::future::join_all((0..n).map(|i| {
        let login = format!("nobody{i}");
        async move {
            gql.raw(
                None,
                SIGN_IN,
                json!({"l": login, "p": "Wrong-pass-1"}),
                headers,
            )
            .await
        }
    }))
    .await
}

fn assert_limited(rs: &[Resp], allowed: usize) {
    let limited: Vec<&Resp> = rs.iter().filter(|r| r.status == 429).collect();
    assert_eq!(
        rs.len() - limited.len(),
        allowed,
        "{:?}",
        rs.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for r in limited {
        assert_eq!(r.code(), "RATE_LIMITED");
        let retry = r.body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .expect("extensions.retryAfter");
        assert!(retry >= 1);
        assert_eq!(r.retry_after.as_deref(), Some(retry.to_string().as_str()));
        assert_eq!(r.body["data"], serde_json::Value::Null);
    }
}

#[actix_rt::test]
async fn a_flood_from_one_address_is_limited_and_another_address_signs_in() {
    let (app, gql) = spawn_embedded_with(Arc::new(ecl_kernel::SystemClock), tight).await;
    let rs = flood(&gql, 10, &[]).await;
    assert_limited(&rs, BURST as usize);
    for r in rs.iter().filter(|r| r.status != 429) {
        assert_eq!(r.code(), "UNAUTHENTICATED", "wrong passwords, checked");
    }
    // The right password from the flooding address waits too…
    let r = gql
        .q(
            None,
            SIGN_IN,
            json!({"l": "operator", "p": OPERATOR_PASSWORD}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (429, "RATE_LIMITED"));
    // …while another client address has its own bucket.
    let other = Gql::from_local(&app.addr.to_string(), "127.0.0.2".parse().unwrap());
    other.operator().await;

    // Aliases do not multiply attempts: each `signIn` takes its own token.
    let third = Gql::from_local(&app.addr.to_string(), "127.0.0.3".parse().unwrap());
    let many: Vec<String> = (0..6)
        .map(|i| format!("s{i}: signIn(loginId: \"nobody{i}\", password: \"x\") {{ expiresIn }}"))
        .collect();
    let r = third
        .q(
            None,
            &format!("mutation {{ {} }}", many.join(" ")),
            json!({}),
        )
        .await;
    let limited = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["extensions"]["code"] == "RATE_LIMITED")
        .count();
    assert_eq!(limited, 6 - BURST as usize, "{}", r.body);
    app.stop().await;
}

#[actix_rt::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    // Not trusted (the default): a forged header does not buy a fresh bucket.
    let (app, gql) = spawn_embedded_with(Arc::new(ecl_kernel::SystemClock), tight).await;
    let forged: Vec<Resp> = futures::future::join_all((0..8).map(|i| {
        let xff = format!("10.0.0.{i}");
        let gql = &gql;
        async move {
            gql.raw(
                None,
                SIGN_IN,
                json!({"l": format!("nobody{i}"), "p": "x"}),
                &[("x-forwarded-for", xff.as_str())],
            )
            .await
        }
    }))
    .await;
    assert_limited(&forged, BURST as usize);
    app.stop().await;

    // Behind one trusted proxy: the address it appended is the client.
    let (app, gql) = spawn_embedded_with(Arc::new(ecl_kernel::SystemClock), |s| {
        tight(s);
        s.trusted_proxy_hops = 1;
    })
    .await;
    let rs = flood(&gql, 8, &[("x-forwarded-for", "203.0.113.7")]).await;
    assert_limited(&rs, BURST as usize);
    // The client's own left-hand entries are not trusted; the proxy's right-hand one is.
    let r = gql
        .raw(
            None,
            SIGN_IN,
            json!({"l": "operator", "p": OPERATOR_PASSWORD}),
            &[("x-forwarded-for", "203.0.113.7, 198.51.100.9")],
        )
        .await;
    r.data();
    let ip: IpAddr = "203.0.113.7".parse().unwrap();
    let r = gql
        .raw(
            None,
            SIGN_IN,
            json!({"l": "operator", "p": OPERATOR_PASSWORD}),
            &[("x-forwarded-for", &format!("198.51.100.9, {ip}"))],
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (429, "RATE_LIMITED"));
    app.stop().await;
}

/// Two gateway replicas share each address's bucket through Redis.
#[actix_rt::test]
async fn replicas_share_the_sign_in_bucket() {
    let mut d = Distributed::start_with_env(
        &["identity", "gateway"],
        &[
            ("ECL_SIGN_IN_BURST", "4"),
            ("ECL_SIGN_IN_RATE_PER_SEC", "0.05"),
        ],
    )
    .await;
    let second = Gql::new(&d.spawn("gateway").await.addr.clone());
    let first = d.gateway();
    let mut rs = Vec::new();
    for i in 0..8 {
        let gql = if i % 2 == 0 { &first } else { &second };
        rs.push(
            gql.q(None, SIGN_IN, json!({"l": format!("nobody{i}"), "p": "x"}))
                .await,
        );
    }
    assert_limited(&rs, 4);
    let other = Gql::from_local(&d.procs.last().unwrap().addr, "127.0.0.2".parse().unwrap());
    other.operator().await;
    d.cleanup().await;
}
