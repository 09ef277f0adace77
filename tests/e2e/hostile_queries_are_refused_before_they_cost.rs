//! Hostile queries are refused quickly, with a coded error, before they cost memory or time:
//! the aliased introspection bomb (one anonymous request of 3,800 aliased `__schema` fields used
//! to answer 60 MB; three in parallel took 2.2 GB), nested introspection, fragment bombs; and
//! every operation is answered by its deadline.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The issue's bomb: thousands of aliases of the whole `__schema`.
fn alias_bomb(n: usize) -> String {
    let one = "__schema { types { name kind description fields { name description args { name } \
               type { name kind ofType { name kind } } } } }";
    let fields: Vec<String> = (0..n).map(|i| format!("a{i}: {one}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

/// Introspection nested through `ofType`, with no alias at all: each level multiplies.
fn nested_bomb(levels: usize) -> String {
    let mut inner = String::from("fields { name }");
    for _ in 0..levels {
        inner = format!("fields {{ name type {{ ofType {{ {inner} }} }} }}");
    }
    format!("{{ __schema {{ types {{ {inner} }} }} }}")
}

/// The standard introspection query (GraphiQL's, schemathesis's): it must keep working.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
"#;

fn assert_refused(r: &Resp, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.body);
    assert_eq!(r.code(), "INVALID_INPUT", "{what}");
    assert!(r.body.get("data").is_none(), "{what}: never ran");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(what),
        "{}",
        r.body
    );
}

#[actix_rt::test]
async fn hostile_queries_get_a_coded_refusal_and_introspection_still_works() {
    let (app, gql) = spawn_embedded().await;

    let started = Instant::now();
    let r = gql.q(None, &alias_bomb(3_800), json!({})).await;
    assert_refused(&r, "longer than");
    let r = gql.q(None, &alias_bomb(300), json!({})).await;
    assert_refused(&r, "aliases");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused quickly"
    );

    // Within the alias cap, introspection is priced by what it answers.
    // Nested introspection is refused before it runs: five levels pass the depth limit (16).
    let r = gql.q(None, &nested_bomb(5), json!({})).await;
    assert_refused(&r, "too deep");
    // Twenty-five copies of the full introspection: few aliases, but 25 times its fields (the
    // complexity limit admits the README's walk at 100 children, so here the field cap refuses).
    let copies: Vec<String> = (0..25)
        .map(|i| format!("s{i}: __schema {{ types {{ ...FullType }} }}"))
        .collect();
    let fragments = &INTROSPECTION[INTROSPECTION.find("fragment FullType").unwrap()..];
    let r = gql
        .q(
            None,
            &format!("{{ {} }}\n{fragments}", copies.join(" ")),
            json!({}),
        )
        .await;
    assert_refused(&r, "selects more than");

    // A fragment spreading the next twice, 30 deep: 2^30 fields if expanded.
    let mut q = String::from("query { ...F0 }\n");
    for i in 0..30 {
        q += &format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1);
    }
    q += "fragment F30 on Query { __typename }";
    let started = Instant::now();
    let r = gql.q(None, &q, json!({})).await;
    assert_refused(&r, "selects more than");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused quickly"
    );

    let r = gql.q(None, INTROSPECTION, json!({})).await;
    let types = r.data()["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Contract"));
    app.stop().await;
}

/// Three bombs in parallel against a real `ecl` process: all refused, and its peak memory
/// barely moves (it was 2.2 GB before the limits).
#[actix_rt::test]
async fn parallel_introspection_bombs_leave_memory_bounded() {
    let proc = spawn_process(&[]).await;
    let gql = Gql::new(&proc.addr);
    // Warm up the paths a request takes, so the peak below is the bombs' own.
    gql.q(None, INTROSPECTION, json!({})).await.data();
    let before = proc.memory("VmHWM:");
    // The issue's bomb (300 kB: refused by its length before it is parsed), one that fits the
    // length limit (refused by its aliases once parsed), and nested introspection (by price).
    let bomb = alias_bomb(3_800);
    let fitting = alias_bomb(300);
    assert!(fitting.len() < 64 * 1024);
    let nested = nested_bomb(6);
    let started = Instant::now();
    let rs = futures::future::join_all([
        gql.q(None, &bomb, json!({})),
        gql.q(None, &fitting, json!({})),
        gql.q(None, &nested, json!({})),
    ])
    .await;
    let took = started.elapsed();
    for r in &rs {
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "INVALID_INPUT"),
            "{}",
            r.body
        );
    }
    let after = proc.memory("VmHWM:");
    let grew_mb = after.saturating_sub(before) as f64 / 1e6;
    eprintln!(
        "3 bombs in parallel: refused in {took:?}; peak RSS {:.0} -> {:.0} MB (+{grew_mb:.1} MB)",
        before as f64 / 1e6,
        after as f64 / 1e6
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(grew_mb < 40.0, "peak RSS grew by {grew_mb:.0} MB");
    // Still healthy and answering.
    let h = reqwest::get(format!("http://{}/healthz", proc.addr))
        .await
        .unwrap();
    assert!(h.status().is_success());
    gql.q(None, "{ __typename }", json!({})).await.data();
}

/// The whole operation runs under the request deadline: a mutation that would hash twenty
/// passwords in turn is answered when the deadline passes, with a coded error.
#[actix_rt::test]
async fn every_operation_is_answered_by_its_deadline() {
    let (app, gql) = spawn_embedded_with(std::sync::Arc::new(ecl_kernel::SystemClock), |s| {
        s.request_timeout_ms = 300;
    })
    .await;
    let fields: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "s{i}: signIn(loginId: \"nobody{i}\", password: \"Wrong-pass-1\") {{ expiresIn }}"
            )
        })
        .collect();
    let q = format!("mutation {{ {} }}", fields.join(" "));
    let started = Instant::now();
    let r = gql.q(None, &q, json!({})).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(300 + 1_500),
        "answered after {took:?}"
    );
    let codes: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"UNAVAILABLE"), "{}", r.body);
    assert_eq!(r.body["data"], Value::Null, "{}", r.body);
    app.stop().await;
}

/// The README's partner walk, with `children(first: 100)`.
const WALK_100: &str = r#"
query ($id: ID!) {
  contract(id: $id) {
    name
    children(first: 100, filter: { status: ACTIVE }) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id name externalId customer { company contactEmail }
          tenants(first: 10) { totalCount edges { node { name region users { edges { node { loginId } } } } } }
          users(first: 10) { totalCount edges { node { loginId role } } }
        }
      }
    }
  }
}"#;

/// The limit admits the README's own walk at 100 children, and a refused query is told its
/// cost and the limit.
#[actix_rt::test]
async fn the_complexity_limit_admits_the_walk_and_names_itself() {
    let (app, gql) = spawn_embedded().await;
    let op = gql.operator().await;
    let id = gql
        .create_contract(&op, Kind::Partner, "Walker", "walker-owner")
        .await
        .id;
    let walk = gql.q(Some(&op), WALK_100, json!({"id": id})).await;
    assert_eq!(walk.status, 200, "{}", walk.body);
    assert_eq!(walk.data()["contract"]["name"], "Walker");

    // Ten walks of a hundred children under one query: over the limit.
    let walks: Vec<String> = (0..10)
        .map(|i| {
            format!(
                "w{i}: contract(id: $id) {{ children(first: 100) {{ edges {{ node {{ \
                 tenants(first: 100) {{ edges {{ node {{ id name }} }} }} }} }} }} }}"
            )
        })
        .collect();
    let q = format!("query($id: ID!) {{ {} }}", walks.join(" "));
    let r = gql.q(Some(&op), &q, json!({"id": id})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code(), "INVALID_INPUT");
    let ext = &r.body["errors"][0]["extensions"];
    let (cost, limit) = (
        ext["cost"].as_u64().unwrap(),
        ext["limit"].as_u64().unwrap(),
    );
    assert_eq!(limit, 200_000, "{}", r.body);
    // Each walk: 100 children × 100 tenants × 4 fields, about 40,000; ten of them.
    assert!(cost > 400_000, "{}", r.body);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("cost {cost}, limit {limit}")),
        "{}",
        r.body
    );

    // Introspection is priced by the values it answers, which async-graphql's own count (one
    // per field) does not see: ten copies of a deep introspection select 100 fields, yet answer
    // far more than the limit, and are refused with their cost before they run.
    let deep: Vec<String> = (0..10)
        .map(|i| {
            format!(
                "i{i}: __schema {{ types {{ fields {{ type {{ fields {{ type {{ fields {{ \
                 type {{ fields {{ name }} }} }} }} }} }} }} }} }}"
            )
        })
        .collect();
    let r = gql
        .q(Some(&op), &format!("{{ {} }}", deep.join(" ")), json!({}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code(), "INVALID_INPUT");
    let ext = &r.body["errors"][0]["extensions"];
    assert!(ext["cost"].as_u64().unwrap() > 200_000, "{}", r.body);
    assert_eq!(ext["limit"].as_u64(), Some(200_000), "{}", r.body);
    app.stop().await;
}
