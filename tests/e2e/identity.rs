//! Sign-in security through the GraphQL API: lockout on an injectable clock, forged and expired
//! tokens.

use crate::common;

use common::*;
use ecl_kernel::ManualClock;
use serde_json::json;
use std::sync::Arc;

const SIGN_IN: &str = "mutation($l:String!,$p:String!){ signIn(loginId:$l, password:$p){ accessToken tfaRequired challenge } }";

async fn attempt(gql: &Gql, login: &str, password: &str) -> Resp {
    gql.q(None, SIGN_IN, json!({"l": login, "p": password}))
        .await
}

#[actix_rt::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let clock = ManualClock::default();
    let (app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let op = gql.operator().await;
    gql.create_contract(&op, Kind::Direct, "Lock Test", "lock-owner")
        .await;

    // Failures spread beyond the window do not add up.
    for _ in 0..4 {
        assert_eq!(
            attempt(&gql, "lock-owner", "Wrong-pass-1").await.code(),
            "UNAUTHENTICATED"
        );
    }
    clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        attempt(&gql, "lock-owner", "Wrong-pass-1").await.code(),
        "UNAUTHENTICATED"
    );
    attempt(&gql, "lock-owner", OWNER_PASSWORD).await.data();

    // Five within the window lock it: the right password is refused, with the same message.
    let mut wrong = None;
    for _ in 0..5 {
        wrong = Some(attempt(&gql, "lock-owner", "Wrong-pass-1").await);
    }
    let locked = attempt(&gql, "lock-owner", OWNER_PASSWORD).await;
    assert_eq!(locked.code(), "UNAUTHENTICATED");
    assert_eq!(
        locked.body["errors"][0]["message"],
        wrong.unwrap().body["errors"][0]["message"],
        "never says it is locked"
    );
    clock.advance(chrono::Duration::minutes(14));
    assert_eq!(
        attempt(&gql, "lock-owner", OWNER_PASSWORD).await.code(),
        "UNAUTHENTICATED",
        "still locked"
    );
    // Unlocked after the period.
    clock.advance(chrono::Duration::minutes(1) + chrono::Duration::seconds(1));
    attempt(&gql, "lock-owner", OWNER_PASSWORD).await.data();
    // Other accounts were never affected.
    gql.operator().await;
    app.stop().await;
}

#[actix_rt::test]
async fn forged_and_expired_tokens_are_unauthenticated() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
    let clock = ManualClock::default();
    let (app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let token = gql.operator().await;
    let me = "{ me { loginId } }";
    assert_eq!(
        gql.q(Some(&token), me, json!({})).await.data()["me"]["loginId"],
        "operator"
    );

    let parts: Vec<&str> = token.split('.').collect();
    // Wrong signature.
    let mut sig = B64.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], B64.encode(sig));
    // alg: none, no signature.
    let none_header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);
    // Claims changed to another role, old signature.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("usr_00000000000000000000000000000000");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(claims.to_string()),
        parts[2]
    );
    for forged in [bad_sig, alg_none, tampered, "a.b.c".to_string()] {
        let r = gql.q(Some(&forged), me, json!({})).await;
        assert_eq!(r.code(), "UNAUTHENTICATED", "{forged}");
    }

    // Expired after 15 minutes (the gateway's principal cache lives 5 s of real time: wait it out
    // by using a token it has not seen).
    let fresh = gql.operator().await;
    clock.advance(chrono::Duration::minutes(15) + chrono::Duration::seconds(1));
    assert_eq!(
        gql.q(Some(&fresh), me, json!({})).await.code(),
        "UNAUTHENTICATED"
    );
    app.stop().await;
}

/// RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s) written here independently of the service's library.
fn totp_code(secret_b32: &str, unix: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut bits = 0u64;
    let mut nbits = 0;
    let mut key = Vec::new();
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
            bits &= (1 << nbits) - 1;
        }
    }
    let counter = (unix / 30) as u64;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = ((h[off] as u32 & 0x7f) << 24)
        | ((h[off + 1] as u32) << 16)
        | ((h[off + 2] as u32) << 8)
        | h[off + 3] as u32;
    format!("{:06}", bin % 1_000_000)
}

#[test]
fn the_independent_totp_matches_rfc6238() {
    // RFC 6238 appendix B (SHA-1): T = 59 → 94287082, T = 1111111109 → 07081804 (last 6 digits).
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
    assert_eq!(totp_code(secret, 59), "287082");
    assert_eq!(totp_code(secret, 1_111_111_109), "081804");
}

const VERIFY: &str = "mutation($c:String!,$k:String!){ verifyTfa(challenge:$c, code:$k){ accessToken tfaRequired } }";

/// Enrol → confirm → two-step sign-in; wrong, replayed and recovery codes. `now` reads the clock
/// the platform uses; `advance` moves it (or waits, distributed).
async fn tfa_flow(gql: &Gql, login: &str, now: &dyn Fn() -> i64) -> (String, Vec<String>) {
    let op = gql.operator().await;
    gql.create_contract(&op, Kind::Direct, "TFA Test", login)
        .await;
    let token = gql.sign_in(login, OWNER_PASSWORD).await;
    let e = gql
        .q(
            Some(&token),
            "mutation{ enrollTotp{ secret otpauthUri qrCode } }",
            json!({}),
        )
        .await;
    let e = e.data()["enrollTotp"].clone();
    let secret = e["secret"].as_str().unwrap().to_string();
    SECRETS
        .lock()
        .unwrap()
        .insert(login.to_string(), secret.clone());
    let uri = e["otpauthUri"].as_str().unwrap();
    assert!(
        uri.starts_with(&format!("otpauth://totp/ECL:{login}?")),
        "{uri}"
    );
    assert!(
        uri.contains(&format!("secret={secret}")) && uri.contains("issuer=ECL"),
        "{uri}"
    );
    assert!(
        e["qrCode"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    // Not on until confirmed: sign-in still gives tokens directly.
    assert!(
        gql.q(None, SIGN_IN, json!({"l": login, "p": OWNER_PASSWORD}))
            .await
            .data()["signIn"]["accessToken"]
            .is_string()
    );
    let wrong = gql
        .q(
            Some(&token),
            "mutation($k:String!){ confirmTotp(code:$k) }",
            json!({"k": "000000"}),
        )
        .await;
    assert_eq!(wrong.code(), "INVALID_INPUT");
    let confirm_code = totp_code(&secret, now());
    let rc = gql
        .q(
            Some(&token),
            "mutation($k:String!){ confirmTotp(code:$k) }",
            json!({"k": confirm_code}),
        )
        .await;
    let recovery: Vec<String> = rc.data()["confirmTotp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10);

    // Two steps now.
    let first = gql
        .q(None, SIGN_IN, json!({"l": login, "p": OWNER_PASSWORD}))
        .await;
    let signin = first.body["data"]["signIn"].clone();
    assert_eq!(signin["accessToken"], serde_json::Value::Null);
    assert_eq!(signin["tfaRequired"], true);
    let challenge = signin["challenge"].as_str().unwrap().to_string();
    assert_eq!(
        gql.q(None, VERIFY, json!({"c": challenge, "k": "123456"}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        gql.q(None, VERIFY, json!({"c": "bogus", "k": "123456"}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    // The code used to confirm was accepted once already: replay refused.
    assert_eq!(
        gql.q(None, VERIFY, json!({"c": challenge, "k": confirm_code}))
            .await
            .code(),
        "UNAUTHENTICATED",
        "replayed code"
    );
    (challenge, recovery)
}

async fn challenge_for(gql: &Gql, login: &str) -> String {
    gql.q(None, SIGN_IN, json!({"l": login, "p": OWNER_PASSWORD}))
        .await
        .data()["signIn"]["challenge"]
        .as_str()
        .unwrap()
        .to_string()
}

#[actix_rt::test]
async fn totp_two_step_sign_in_embedded() {
    let clock = ManualClock::default();
    let (app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let c = clock.clone();
    let now = move || ecl_kernel::Clock::now(&c).timestamp();
    let (challenge, recovery) = tfa_flow(&gql, "tfa-owner", &now).await;
    // The next step's code works (and gives a token that works)…
    clock.advance(chrono::Duration::seconds(30));
    let code = totp_code_of(&gql, "tfa-owner", &now).await;
    let ok = gql
        .q(None, VERIFY, json!({"c": challenge, "k": code}))
        .await;
    let token = ok.data()["verifyTfa"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        gql.q(Some(&token), "{ me { loginId } }", json!({}))
            .await
            .data()["me"]["loginId"],
        "tfa-owner"
    );
    // …once: the same code on a new challenge is a replay.
    let again = challenge_for(&gql, "tfa-owner").await;
    assert_eq!(
        gql.q(None, VERIFY, json!({"c": again, "k": code}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    // A challenge expires after 5 minutes.
    let stale = challenge_for(&gql, "tfa-owner").await;
    clock.advance(chrono::Duration::minutes(6));
    let fresh_code = totp_code_of(&gql, "tfa-owner", &now).await;
    assert_eq!(
        gql.q(None, VERIFY, json!({"c": stale, "k": fresh_code}))
            .await
            .code(),
        "UNAUTHENTICATED",
        "expired challenge"
    );
    // A recovery code works once.
    let c1 = challenge_for(&gql, "tfa-owner").await;
    assert!(
        gql.q(None, VERIFY, json!({"c": c1, "k": recovery[0]}))
            .await
            .data()["verifyTfa"]["accessToken"]
            .is_string()
    );
    let c2 = challenge_for(&gql, "tfa-owner").await;
    assert_eq!(
        gql.q(None, VERIFY, json!({"c": c2, "k": recovery[0]}))
            .await
            .code(),
        "UNAUTHENTICATED",
        "recovery code used twice"
    );
    assert!(
        gql.q(None, VERIFY, json!({"c": c2, "k": recovery[1]}))
            .await
            .data()["verifyTfa"]["accessToken"]
            .is_string()
    );
    app.stop().await;
}

/// The user's current code, computed from the secret the test saw at enrolment (kept per login).
async fn totp_code_of(_gql: &Gql, login: &str, now: &dyn Fn() -> i64) -> String {
    let secret = SECRETS
        .lock()
        .unwrap()
        .get(login)
        .cloned()
        .expect("enrolled in this test");
    totp_code(&secret, now())
}

static SECRETS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

#[actix_rt::test]
async fn totp_two_step_sign_in_distributed() {
    let d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    let gql = d.gateway();
    let now = || chrono::Utc::now().timestamp();
    // Stay clear of a step boundary so "the same code" is the current one throughout.
    wait_until(
        std::time::Duration::from_secs(31),
        "the start of a TOTP step",
        || async { (now() % 30) <= 20 },
    )
    .await;
    let (challenge, recovery) = tfa_flow(&gql, "tfa-dist", &now).await;
    // Replay is refused across the shared Redis; the recovery code answers instead.
    let ok = gql
        .q(None, VERIFY, json!({"c": challenge, "k": recovery[3]}))
        .await;
    assert!(ok.data()["verifyTfa"]["accessToken"].is_string());
    let c2 = challenge_for(&gql, "tfa-dist").await;
    assert_eq!(
        gql.q(None, VERIFY, json!({"c": c2, "k": recovery[3]}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    d.cleanup().await;
}

const REFRESH: &str =
    "mutation($r:String!){ refreshSession(refreshToken:$r){ accessToken refreshToken } }";

/// Refresh tokens rotate; a reused one revokes its whole family; signing out ends the session.
/// What a session's tokens did: the codes refreshing and reading answered at each step.
#[derive(Debug, PartialEq)]
struct SessionCodes {
    /// The first refresh token once rotated, then its successor (the family revoked with it),
    /// then garbage.
    reused: String,
    family: String,
    garbage: String,
    /// After signing out: the access and refresh tokens of that session.
    signed_out_access: String,
    signed_out_refresh: String,
    /// Another session of the same user, after that sign-out.
    other_session: String,
}

impl SessionCodes {
    fn assert_rotation_and_sign_out(&self) {
        let refused = "UNAUTHENTICATED".to_string();
        assert_eq!(
            self,
            &SessionCodes {
                reused: refused.clone(),
                family: refused.clone(),
                garbage: refused.clone(),
                signed_out_access: refused.clone(),
                signed_out_refresh: refused,
                other_session: "operator".into(),
            }
        );
    }
}

async fn session_flow(gql: &Gql) -> SessionCodes {
    let first = gql
        .q(None, "mutation{ signIn(loginId:\"operator\", password:\"Operator-pass-1\"){ accessToken refreshToken } }", json!({}))
        .await;
    let r1 = first.data()["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let rotated = gql.q(None, REFRESH, json!({"r": r1})).await;
    let a2 = rotated.data()["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let r2 = rotated.data()["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(r1, r2);
    assert_eq!(
        gql.q(Some(&a2), "{ me { loginId } }", json!({}))
            .await
            .data()["me"]["loginId"],
        "operator"
    );
    // r1 again: someone copied it. Refused, and the family (r2, a2) dies with it.
    let reused = gql.q(None, REFRESH, json!({"r": r1})).await.code();
    let family = gql.q(None, REFRESH, json!({"r": r2})).await.code();
    let garbage = gql
        .q(None, REFRESH, json!({"r": "ecl_rt_garbage"}))
        .await
        .code();

    // Sign out: the access token and the refresh token of that session stop at once; another
    // session of the same user is untouched.
    let s = gql
        .q(None, "mutation{ signIn(loginId:\"operator\", password:\"Operator-pass-1\"){ accessToken refreshToken } }", json!({}))
        .await;
    let (a, r) = (
        s.data()["signIn"]["accessToken"]
            .as_str()
            .unwrap()
            .to_string(),
        s.data()["signIn"]["refreshToken"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let other = gql.operator().await;
    assert_eq!(
        gql.q(Some(&a), "mutation{ signOut }", json!({}))
            .await
            .data()["signOut"],
        true
    );
    let signed_out_access = gql
        .q(Some(&a), "{ me { loginId } }", json!({}))
        .await
        .code();
    let signed_out_refresh = gql.q(None, REFRESH, json!({"r": r})).await.code();
    let other_session = gql
        .q(Some(&other), "{ me { loginId } }", json!({}))
        .await
        .data()["me"]["loginId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    SessionCodes {
        reused,
        family,
        garbage,
        signed_out_access,
        signed_out_refresh,
        other_session,
    }
}

#[actix_rt::test]
async fn refresh_tokens_rotate_and_sign_out_ends_the_session_embedded() {
    let (app, gql) = spawn_embedded().await;
    session_flow(&gql).await.assert_rotation_and_sign_out();
    app.stop().await;
}

#[actix_rt::test]
async fn refresh_tokens_rotate_and_sign_out_ends_the_session_distributed() {
    let d = Distributed::start(&["identity", "gateway"]).await;
    let codes = session_flow(&d.gateway()).await;
    d.cleanup().await;
    codes.assert_rotation_and_sign_out();
}
