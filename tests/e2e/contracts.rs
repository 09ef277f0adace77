//! Contract management end to end, through the GraphQL API — the same scenario embedded and
//! distributed.

use crate::common;

use common::*;
use serde_json::{Value, json};

const CREATE_PARTNER: &str = "mutation($i: ContractInput!){ createPartnerContract(input:$i){ id kind status name externalId customer{ company contactEmail } ownerUserId } }";
const CREATE_CHILD: &str = "mutation($p: ID!, $i: ContractInput!){ createChildContract(parentId:$p, input:$i){ id kind parentId name externalId status } }";
const SEARCH: &str = "query($f: ContractFilter, $n: Int, $a: String){ contracts(filter:$f, first:$n, after:$a){ totalCount edges{ cursor node{ id name externalId status } } pageInfo{ hasNextPage endCursor } } }";
const GET: &str =
    "query($id: ID!){ contract(id:$id){ id name kind parentId status customer{ company } } }";

fn names(r: &Resp) -> Vec<String> {
    r.data()["contracts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn total(r: &Resp) -> u64 {
    r.data()["contracts"]["totalCount"].as_u64().unwrap()
}

/// The whole contract scenario of the foundation issue.
pub async fn contract_flow(gql: &Gql) {
    // Operator creates a partner with its owner; the provider's external ids are 15 digits.
    let op = gql.operator().await;
    let bad = gql
        .q(
            Some(&op),
            CREATE_PARTNER,
            json!({"i": contract_input("Acme Partner", Some("P-1"), "acme-owner")}),
        )
        .await;
    assert_eq!(bad.code(), "INVALID_INPUT");
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "externalId");
    let p = gql
        .q(
            Some(&op),
            CREATE_PARTNER,
            json!({"i": contract_input("Acme Partner", Some("100000000000001"), "acme-owner")}),
        )
        .await;
    let partner = p.data()["createPartnerContract"].clone();
    let pid = partner["id"].as_str().unwrap().to_string();
    assert!(
        pid.starts_with("econ") && pid.len() == 14 && pid[4..].bytes().all(|b| b.is_ascii_digit()),
        "{pid}"
    );
    assert_eq!(partner["kind"], "PARTNER");
    assert_eq!(partner["status"], "ACTIVE");
    assert_eq!(partner["customer"]["company"], "Acme Partner K.K.");

    // The partner's owner signs in and creates three children.
    let owner = gql.sign_in("acme-owner", OWNER_PASSWORD).await;
    let me = gql
        .q(
            Some(&owner),
            "{ me { loginId role contractId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me.data()["me"],
        json!({"loginId": "acme-owner", "role": "OWNER", "contractId": pid})
    );
    let mut children = Vec::new();
    for (name, ext, login) in [
        ("Child Alpha", "C-001", "alpha-owner"),
        ("Child Beta", "C-002", "beta-owner"),
        ("Gamma Shop", "C-003", "gamma-owner"),
    ] {
        let r = gql
            .q(
                Some(&owner),
                CREATE_CHILD,
                json!({"p": pid, "i": contract_input(name, Some(ext), login)}),
            )
            .await;
        let c = r.data()["createChildContract"].clone();
        assert_eq!(c["kind"], "CHILD");
        assert_eq!(c["parentId"], pid.as_str());
        children.push(c["id"].as_str().unwrap().to_string());
    }
    let (alpha, beta, gamma) = (
        children[0].clone(),
        children[1].clone(),
        children[2].clone(),
    );

    // Search by name, paginated one at a time.
    let page1 = gql
        .q(
            Some(&owner),
            SEARCH,
            json!({"f": {"name": "child"}, "n": 1}),
        )
        .await;
    assert_eq!(total(&page1), 2);
    assert_eq!(names(&page1), ["Child Alpha"]);
    assert_eq!(page1.data()["contracts"]["pageInfo"]["hasNextPage"], true);
    let cursor = page1.data()["contracts"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_string();
    let page2 = gql
        .q(
            Some(&owner),
            SEARCH,
            json!({"f": {"name": "CHILD"}, "n": 1, "a": cursor}),
        )
        .await;
    assert_eq!(names(&page2), ["Child Beta"]);
    assert_eq!(page2.data()["contracts"]["pageInfo"]["hasNextPage"], false);
    // By external id.
    let by_ext = gql
        .q(Some(&owner), SEARCH, json!({"f": {"externalId": "C-003"}}))
        .await;
    assert_eq!(names(&by_ext), ["Gamma Shop"]);
    // The owner sees its own contract and its three children.
    assert_eq!(total(&gql.q(Some(&owner), SEARCH, json!({})).await), 4);

    // Change one.
    let upd = gql
        .q(
            Some(&owner),
            "mutation($id: ID!){ updateContract(id:$id, input:{name:\"Child Beta Renamed\", externalId:\"C-002b\"}){ name externalId } }",
            json!({"id": beta}),
        )
        .await;
    assert_eq!(
        upd.data()["updateContract"],
        json!({"name": "Child Beta Renamed", "externalId": "C-002b"})
    );
    // Global ids: node(id) refetches a contract and a user; links replace bare ids.
    let r = gql
        .q(
            Some(&owner),
            "query($p: ID!, $c: ID!){ node(id:$p){ __typename id ... on Contract { name } } \
             contract(id:$c){ parent{ id } } me{ id contract{ id } } }",
            json!({"p": pid, "c": beta}),
        )
        .await;
    assert_eq!(r.data()["node"]["__typename"], "Contract");
    assert_eq!(r.data()["node"]["name"], "Acme Partner");
    assert_eq!(r.data()["contract"]["parent"]["id"], pid.as_str());
    assert_eq!(r.data()["me"]["contract"]["id"], pid.as_str());
    let me = r.data()["me"]["id"].clone();
    let r = gql
        .q(
            Some(&owner),
            "query($u: ID!){ node(id:$u){ __typename } user(id:$u){ loginId } }",
            json!({"u": me}),
        )
        .await;
    assert_eq!(r.data()["node"]["__typename"], "User");
    assert_eq!(r.data()["user"]["loginId"], "acme-owner");
    let r = gql
        .q(Some(&owner), "{ node(id: \"nothing\"){ id } }", json!({}))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");

    // A sibling's external id is refused on change as on creation.
    let dup = gql
        .q(
            Some(&owner),
            "mutation($id: ID!){ updateContract(id:$id, input:{externalId:\"C-003\"}){ externalId } }",
            json!({"id": beta}),
        )
        .await;
    assert_eq!(dup.code(), "CONFLICT");
    assert_eq!(
        names(
            &gql.q(Some(&owner), SEARCH, json!({"f": {"name": "renamed"}}))
                .await
        ),
        ["Child Beta Renamed"]
    );

    // Abolish one.
    let ab = gql
        .q(
            Some(&owner),
            "mutation($id: ID!){ abolishContract(id:$id){ status abolishedAt } }",
            json!({"id": gamma}),
        )
        .await;
    assert_eq!(ab.data()["abolishContract"]["status"], "ABOLISHED");
    assert!(ab.data()["abolishContract"]["abolishedAt"].is_string());
    let active = gql
        .q(
            Some(&owner),
            SEARCH,
            json!({"f": {"status": "ACTIVE", "kind": "CHILD"}}),
        )
        .await;
    assert_eq!(total(&active), 2);

    // The partner's tree through Contract.children.
    let tree = gql
        .q(Some(&owner), "query($id: ID!){ contract(id:$id){ children(first: 10){ totalCount edges{ node{ name status } } } } }", json!({"id": pid}))
        .await;
    assert_eq!(tree.data()["contract"]["children"]["totalCount"], 3);

    // A child's owner sees its own contract only: never the parent or a sibling.
    let alpha_owner = gql.sign_in("alpha-owner", OWNER_PASSWORD).await;
    let own = gql.q(Some(&alpha_owner), GET, json!({"id": alpha})).await;
    assert_eq!(own.data()["contract"]["name"], "Child Alpha");
    assert_eq!(
        own.data()["contract"]["customer"]["company"],
        "Child Alpha K.K.",
        "the owner sees customer information"
    );
    for other in [&pid, &beta, &gamma] {
        let r = gql.q(Some(&alpha_owner), GET, json!({"id": other})).await;
        assert!(
            ["NOT_FOUND", "FORBIDDEN"].contains(&r.code().as_str()),
            "{}",
            r.body
        );
        assert!(r.body["data"].is_null() || r.body["data"]["contract"].is_null());
    }
    assert_eq!(
        total(&gql.q(Some(&alpha_owner), SEARCH, json!({})).await),
        1
    );
    let kids = gql
        .q(
            Some(&alpha_owner),
            "query($id: ID!){ contract(id:$id){ children{ totalCount } } }",
            json!({"id": alpha}),
        )
        .await;
    assert_eq!(kids.data()["contract"]["children"]["totalCount"], 0);

    // Bad input gets the right code and changes nothing.
    let before = total(&gql.q(Some(&owner), SEARCH, json!({})).await);
    let malformed = gql.q(Some(&owner), GET, json!({"id": "xyz"})).await;
    assert_eq!(malformed.code(), "INVALID_INPUT");
    let unknown = gql
        .q(Some(&owner), GET, json!({"id": "econ0000000000"}))
        .await;
    assert_eq!(unknown.code(), "NOT_FOUND");
    let empty = gql
        .q(
            Some(&owner),
            CREATE_CHILD,
            json!({"p": pid, "i": contract_input("   ", None, "empty-owner")}),
        )
        .await;
    assert_eq!(empty.code(), "INVALID_INPUT");
    assert_eq!(empty.body["errors"][0]["extensions"]["field"], "name");
    let bad_mail = gql.q(Some(&owner), CREATE_CHILD, json!({"p": pid, "i": {"name": "X", "customer": {"company": "X", "contactEmail": "nope"}, "owner": {"loginId": "x-owner", "email": "x@example.com", "password": OWNER_PASSWORD}}})).await;
    assert_eq!(bad_mail.code(), "INVALID_INPUT");
    let weak = gql.q(Some(&owner), CREATE_CHILD, json!({"p": pid, "i": {"name": "X", "customer": {"company": "X", "contactEmail": "c@example.com"}, "owner": {"loginId": "x-owner", "email": "x@example.com", "password": "short"}}})).await;
    assert_eq!(weak.code(), "INVALID_INPUT");
    assert_eq!(
        weak.body["errors"][0]["extensions"]["field"],
        "owner.password"
    );
    let taken = gql
        .q(
            Some(&owner),
            CREATE_CHILD,
            json!({"p": pid, "i": contract_input("Dup", None, "alpha-owner")}),
        )
        .await;
    assert_eq!(taken.code(), "CONFLICT");
    let dup_ext = gql
        .q(
            Some(&owner),
            CREATE_CHILD,
            json!({"p": pid, "i": contract_input("Dup", Some("C-001"), "dup-owner")}),
        )
        .await;
    assert_eq!(dup_ext.code(), "CONFLICT");
    let unknown_parent = gql
        .q(
            Some(&owner),
            CREATE_CHILD,
            json!({"p": "econ0000000001", "i": contract_input("Orphan", None, "orphan-owner")}),
        )
        .await;
    assert_eq!(unknown_parent.code(), "NOT_FOUND");
    let not_operator = gql
        .q(
            Some(&owner),
            CREATE_PARTNER,
            json!({"i": contract_input("Rogue", None, "rogue-owner")}),
        )
        .await;
    assert_eq!(not_operator.code(), "FORBIDDEN");
    let child_creates = gql
        .q(
            Some(&alpha_owner),
            CREATE_CHILD,
            json!({"p": pid, "i": contract_input("Sneaky", None, "sneaky-owner")}),
        )
        .await;
    assert!(["NOT_FOUND", "FORBIDDEN"].contains(&child_creates.code().as_str()));
    let bad_page = gql.q(Some(&owner), SEARCH, json!({"n": 1000})).await;
    assert_eq!(bad_page.code(), "INVALID_INPUT");
    let bad_cursor = gql.q(Some(&owner), SEARCH, json!({"a": "garbage!"})).await;
    assert_eq!(bad_cursor.code(), "INVALID_INPUT");
    let syntax = gql
        .q(Some(&owner), "{ contracts { nope } }", json!({}))
        .await;
    assert_eq!(syntax.code(), "INVALID_INPUT");
    let missing = gql.q(None, SEARCH, json!({})).await;
    assert_eq!(missing.code(), "UNAUTHENTICATED");
    let garbage = gql.q(Some("not-a-jwt"), SEARCH, json!({})).await;
    assert_eq!(garbage.code(), "UNAUTHENTICATED");
    assert_eq!(garbage.status, 401);
    let wrong_password = gql.try_sign_in("acme-owner", "Wrong-pass-1").await;
    assert_eq!(wrong_password.code(), "UNAUTHENTICATED");
    let no_such_user = gql.try_sign_in("nobody-here", "Wrong-pass-1").await;
    assert_eq!(no_such_user.code(), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password.body["errors"][0]["message"], no_such_user.body["errors"][0]["message"],
        "never tells which"
    );
    // Nothing above created anything, and the refused owners' login ids are still free.
    assert_eq!(total(&gql.q(Some(&owner), SEARCH, json!({})).await), before);
    let weak_retry = gql
        .q(
            Some(&owner),
            CREATE_CHILD,
            json!({"p": pid, "i": contract_input("Delta", None, "x-owner")}),
        )
        .await;
    assert_eq!(weak_retry.data()["createChildContract"]["name"], "Delta");

    // Abolishing the partner while it has active children is refused.
    let refuse = gql.abolish_contract(&op, &pid, false).await;
    assert_eq!(refuse.code(), "CONFLICT");

    // Tenants: the partner's owner creates them in its children; the child's owner in its own.
    const CREATE_TENANT: &str = "mutation($c: ID!, $n: String!, $r: String!){ createTenant(contractId:$c, input:{name:$n, region:$r}){ id contractId region workspaceId } }";
    let t1 = gql
        .q(
            Some(&owner),
            CREATE_TENANT,
            json!({"c": alpha, "n": "alpha-prod", "r": "jp1"}),
        )
        .await;
    // Unplaced tenants go to the contract's default workspace (`wsp` + contract id).
    assert_eq!(
        t1.data()["createTenant"]["workspaceId"],
        json!(format!("wsp{alpha}"))
    );
    let t2 = gql
        .q(
            Some(&alpha_owner),
            CREATE_TENANT,
            json!({"c": alpha, "n": "alpha-dev", "r": "US1"}),
        )
        .await;
    assert_eq!(t2.data()["createTenant"]["region"], "us1");
    gql.q(
        Some(&owner),
        CREATE_TENANT,
        json!({"c": beta, "n": "beta-prod", "r": "jp2"}),
    )
    .await
    .data();
    assert_eq!(
        gql.q(
            Some(&owner),
            CREATE_TENANT,
            json!({"c": alpha, "n": "x", "r": "mars"})
        )
        .await
        .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        gql.q(
            Some(&owner),
            CREATE_TENANT,
            json!({"c": alpha, "n": " ", "r": "jp1"})
        )
        .await
        .code(),
        "INVALID_INPUT"
    );
    let sibling = gql
        .q(
            Some(&alpha_owner),
            CREATE_TENANT,
            json!({"c": beta, "n": "sneaky", "r": "jp1"}),
        )
        .await;
    assert_eq!(sibling.code(), "NOT_FOUND");
    assert_eq!(
        gql.q(
            Some(&owner),
            CREATE_TENANT,
            json!({"c": gamma, "n": "late", "r": "jp1"})
        )
        .await
        .code(),
        "CONFLICT",
        "abolished"
    );

    // The walk: contract → children → tenants, one bus request per level, not per node.
    const WALK: &str = "query($id: ID!){ contract(id:$id){ name children(first: 10, filter:{status: ACTIVE}){ edges{ node{ name tenants{ totalCount edges{ node{ name region } } } } } } } }";
    let walk = gql
        .raw(
            Some(&owner),
            WALK,
            json!({"id": pid}),
            &[("X-Ecl-Trace", "1")],
        )
        .await;
    let kids = walk.data()["contract"]["children"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let tenants_of = |name: &str| {
        kids.iter().find(|k| k["node"]["name"] == name).unwrap()["node"]["tenants"]["totalCount"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        (
            tenants_of("Child Alpha"),
            tenants_of("Child Beta Renamed"),
            tenants_of("Delta")
        ),
        (2, 1, 0)
    );
    assert_eq!(
        // Every bus request counted, the contract service's own requests to others included.
        walk.body["extensions"]["busRequests"],
        4,
        "contract + children + tenants: {}",
        walk.body
    );
    // A list whose `totalCount` is not selected is read without its `COUNT`; the same list
    // asked beside it with the total (through a fragment) still counts, and both hold the same
    // edges.
    const TWICE: &str = "query($id: ID!){ contract(id:$id){ children(first: 10, filter:{status: ACTIVE}){ edges{ node{ name counted: tenants{ ...Total edges{ node{ name } } } bare: tenants{ edges{ node{ name } } } } } } } } fragment Total on TenantConnection { totalCount }";
    let twice = gql.q(Some(&owner), TWICE, json!({"id": pid})).await;
    let kids = twice.data()["contract"]["children"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert!(kids.len() >= 3, "{}", twice.body);
    for kid in &kids {
        let (counted, bare) = (&kid["node"]["counted"], &kid["node"]["bare"]);
        assert_eq!(
            counted["totalCount"].as_u64(),
            Some(counted["edges"].as_array().unwrap().len() as u64),
            "{}",
            twice.body
        );
        assert_eq!(counted["edges"], bare["edges"], "{}", twice.body);
        assert!(bare.get("totalCount").is_none(), "{}", twice.body);
    }

    // Abolishing a child with tenants is refused unless forced; forced, its tenants go and its
    // users are revoked.
    let refused = gql.abolish_contract(&owner, &alpha, false).await;
    assert_eq!(refused.code(), "CONFLICT");
    let still = gql.q(Some(&owner), GET, json!({"id": alpha})).await;
    assert_eq!(still.data()["contract"]["status"], "ACTIVE");
    let forced = gql.abolish_contract(&owner, &alpha, true).await;
    assert_eq!(forced.data()["abolishContract"]["status"], "ABOLISHED");
    let tenants_q = "query($id: ID!){ contract(id:$id){ tenants{ totalCount } } }";
    wait_until(
        std::time::Duration::from_secs(5),
        "force-abolish deletes the child's tenants",
        || async {
            let left = gql.q(Some(&op), tenants_q, json!({"id": alpha})).await;
            left.data()["contract"]["tenants"]["totalCount"] == 0
        },
    )
    .await;
    let beta_left = gql.q(Some(&op), tenants_q, json!({"id": beta})).await;
    assert_eq!(
        beta_left.data()["contract"]["tenants"]["totalCount"],
        1,
        "other children untouched"
    );
    wait_until(
        std::time::Duration::from_secs(5),
        "the abolished child's users are revoked",
        || async {
            let r = gql.try_sign_in("alpha-owner", "Owner-pass-1").await;
            r.body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        },
    )
    .await;
}

pub async fn health(base: &str) {
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ecl_http_requests_total"), "{metrics}");
    let gi = http
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(gi.to_lowercase().contains("graphiql"));
}

#[actix_rt::test]
async fn contracts_embedded() {
    let (app, gql) = spawn_embedded().await;
    contract_flow(&gql).await;
    health(&gql.base).await;
    // Request body limit: a 2 MiB query is refused before it is parsed.
    let big = "x".repeat(2 << 20);
    let r = gql
        .http
        .post(format!("{}/graphql", gql.base))
        .json(&json!({"query": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    app.stop().await;
}

#[actix_rt::test]
async fn contracts_distributed() {
    let mut d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    let gql = d.gateway();
    contract_flow(&gql).await;
    health(&gql.base).await;
    for p in &d.procs {
        let r = reqwest::get(format!("http://{}/readyz", p.addr))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{} ready", p.target);
    }

    // A second contract replica; then the first one crashes mid-stream. Every request is still
    // answered (the broker redelivers what the dead replica had not acknowledged).
    d.spawn("contract").await;
    let op = gql.operator().await;
    let ids: Vec<Value> = gql
        .q(
            Some(&op),
            "{ contracts(first: 5){ edges{ node{ id } } } }",
            json!({}),
        )
        .await
        .data()["contracts"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let id = ids[0]["node"]["id"].as_str().unwrap().to_string();
    let mut ok = 0;
    for round in 0..40 {
        let futs =
            futures::future::join_all((0..8).map(|_| gql.q(Some(&op), GET, json!({"id": id}))));
        let results = if round == 10 {
            // Crash one replica while this batch is in flight.
            let crash = async {
                // Let the batch leave first: the crash is meant to land mid-flight.
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                d.kill_one("contract");
            };
            futures::future::join(futs, crash).await.0
        } else {
            futs.await
        };
        for r in results {
            assert_eq!(
                r.data()["contract"]["id"],
                id.as_str(),
                "round {round}: {}",
                r.body
            );
            ok += 1;
        }
    }
    assert_eq!(ok, 320);
    d.cleanup().await;
}

/// A contract's place in the tree is kept once read (`services/contract/src/places.rs`), and only
/// what was found: children created while walks read their partner's places concurrently are
/// listed, and managed by the partner's owner (the tenant service asks the contract service),
/// at once.
#[actix_rt::test]
async fn children_created_while_their_partner_is_walked_are_seen_at_once() {
    const WALK: &str = "query($id: ID!){ contract(id:$id){ children(first: 50){ edges{ node{ id tenants{ totalCount } users{ totalCount } } } } } }";
    let (app, gql) = spawn_embedded().await;
    let op = gql.operator().await;
    let partner = gql
        .create_contract(&op, Kind::Partner, "Places Partner", "pl-owner")
        .await
        .id;
    let owner = gql.sign_in("pl-owner", OWNER_PASSWORD).await;
    let walk = || gql.q(Some(&owner), WALK, json!({"id": partner}));
    let first = gql
        .create_contract(&owner, Kind::ChildOf(&partner), "Placed 0", "pl0-owner")
        .await
        .id;
    let edges = |r: &Resp| r.data()["contract"]["children"]["edges"].clone();
    assert_eq!(edges(&walk().await).as_array().map(Vec::len), Some(1));

    let creating = futures::future::join_all((1..4).map(|i| {
        let (gql, owner, partner) = (&gql, &owner, &partner);
        async move {
            gql.create_contract(
                owner,
                Kind::ChildOf(partner),
                &format!("Placed {i}"),
                &format!("pl{i}-owner"),
            )
            .await
        }
    }));
    let walking = futures::future::join_all((0..8).map(|_| walk()));
    let (created, walks) = futures::join!(creating, walking);
    for w in &walks {
        assert!(w.body.get("errors").is_none(), "{}", w.body);
    }
    let mut children: Vec<String> = created.into_iter().map(|c| c.id).collect();
    children.push(first);
    for c in &children {
        gql.create_tenant(&owner, c, "placed tenant").await;
    }
    let r = walk().await;
    let listed = edges(&r);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 4, "{}", r.body);
    for e in listed {
        let id = e["node"]["id"].as_str().unwrap().to_string();
        assert!(children.contains(&id), "{id} is not one of {children:?}");
        assert_eq!(e["node"]["tenants"]["totalCount"], 1, "{}", r.body);
        assert_eq!(e["node"]["users"]["totalCount"], 1, "{}", r.body);
    }
    app.stop().await;
}
