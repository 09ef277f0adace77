//! The tenants issue end to end, embedded and distributed: a partner with 25 children × 3 tenants ×
//! 4 users walked in one query with a pinned number of bus requests (the same for 2 children);
//! child users see only their subtree; contract groups narrow a parent admin or user; access
//! grants gate what a general user sees; workspaces; force-abolish and user deletion clean up.

use crate::common;

use common::*;
use futures::future::join_all;
use serde_json::{Value, json};
use std::time::Duration;

const CHILDREN: usize = 25;
const PASSWORD: &str = "User-pass-123";

const WALK: &str = "query($id: ID!, $n: Int!){ contract(id:$id){ id children(first:$n){ totalCount edges{ node{ id name \
    tenants(first:10){ totalCount edges{ node{ id name users{ totalCount edges{ node{ loginId } } } } } } \
    users(first:10){ totalCount edges{ node{ loginId tenants{ totalCount } } } } } } } } }";

/// Bus requests of the walk: contract, children, tenants, users, Tenant.users, User.tenants —
/// one per level, whatever the number of nodes — and every request those services make to
/// others (replies carry their handlers' counts).
const WALK_BUS_REQUESTS: u64 = 14;

struct Tree {
    partner: String,
    owner: String,
    children: Vec<String>,
    /// tenants[i] = the 3 tenant ids of child i.
    tenants: Vec<Vec<String>>,
}

async fn id_of(r: Resp, field: &str) -> String {
    r.data()[field]["id"].as_str().unwrap().to_string()
}

async fn create_user(gql: &Gql, token: &str, contract: &str, login: &str, role: &str) -> String {
    id_of(
        gql.q(
            Some(token),
            "mutation($c: ID!, $l: String!, $r: Role!){ createUser(contractId:$c, input:{loginId:$l, email:\"u@example.com\", password:\"User-pass-123\", role:$r}){ id } }",
            json!({"c": contract, "l": login, "r": role}),
        )
        .await,
        "createUser",
    )
    .await
}

async fn create_tenant(gql: &Gql, token: &str, contract: &str, name: &str) -> Resp {
    gql.q(
        Some(token),
        "mutation($c: ID!, $n: String!){ createTenant(contractId:$c, input:{name:$n, region:\"jp1\"}){ id workspaceId } }",
        json!({"c": contract, "n": name}),
    )
    .await
}

async fn build(gql: &Gql) -> Tree {
    let op = gql.operator().await;
    let partner = gql
        .create_contract(&op, Kind::Partner, "Walk Partner", "wp-owner")
        .await
        .id;
    let owner = gql.sign_in("wp-owner", OWNER_PASSWORD).await;
    // Children, their tenants and users, a few at a time (each user costs an argon2id hash).
    let mut children = Vec::new();
    let mut tenants = Vec::new();
    for chunk in (0..CHILDREN).collect::<Vec<_>>().chunks(5) {
        let built = join_all(chunk.iter().map(|&i| {
            let (owner, partner) = (owner.clone(), partner.clone());
            async move {
                let c = gql
                    .create_contract(
                        &owner,
                        Kind::ChildOf(&partner),
                        &format!("Child {i:02}"),
                        &format!("c{i}-owner"),
                    )
                    .await
                    .id;
                let mut ts = Vec::new();
                for t in 0..3 {
                    ts.push(
                        id_of(
                            create_tenant(gql, &owner, &c, &format!("c{i}-t{t}")).await,
                            "createTenant",
                        )
                        .await,
                    );
                }
                for (u, role) in ["ADMIN", "USER", "USER"].iter().enumerate() {
                    create_user(gql, &owner, &c, &format!("c{i}-u{u}"), role).await;
                }
                (c, ts)
            }
        }))
        .await;
        for (c, ts) in built {
            children.push(c);
            tenants.push(ts);
        }
    }
    Tree {
        partner,
        owner,
        children,
        tenants,
    }
}

/// Polls `f` until it returns true (event-driven clean-ups are eventually consistent).
async fn eventually<F, Fut>(what: &str, f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    wait_until(Duration::from_secs(20), what, f).await
}

fn count(r: &Resp, path: &[&str]) -> u64 {
    let mut v: &Value = r.data();
    for p in path {
        v = &v[*p];
    }
    v["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("no totalCount at {path:?}: {}", r.body))
}

async fn scenario(gql: &Gql) {
    let t = build(gql).await;
    let owner = t.owner.as_str();

    // Grants first, so the walk shows them: a child user and a partner user in child 0's first
    // tenant.
    let c0_user = gql.sign_in("c0-u1", PASSWORD).await;
    let partner_user_id = create_user(gql, owner, &t.partner, "wp-user", "USER").await;
    let partner_user = gql.sign_in("wp-user", PASSWORD).await;
    let c0_u1_id = gql
        .q(Some(&c0_user), "{ me { id } }", json!({}))
        .await
        .data()["me"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    const GRANT: &str = "mutation($t: ID!, $u: ID!){ grantTenantAccess(tenantId:$t, userId:$u){ tenantId userId createdAt } }";
    for u in [&c0_u1_id, &partner_user_id] {
        let r = gql
            .q(Some(owner), GRANT, json!({"t": t.tenants[0][0], "u": u}))
            .await;
        assert_eq!(r.data()["grantTenantAccess"]["userId"], json!(u));
    }
    // Idempotent.
    gql.q(
        Some(owner),
        GRANT,
        json!({"t": t.tenants[0][0], "u": c0_u1_id}),
    )
    .await
    .data();

    // The walk: the whole tree, with a pinned number of bus requests.
    let walk = |n: usize| {
        let partner = t.partner.clone();
        async move {
            gql.raw(
                Some(owner),
                WALK,
                json!({"id": partner, "n": n}),
                &[("x-ecl-trace", "1")],
            )
            .await
        }
    };
    let r = walk(CHILDREN).await;
    let children = &r.data()["contract"]["children"];
    assert_eq!(children["totalCount"], CHILDREN);
    let edges = children["edges"].as_array().unwrap();
    assert_eq!(edges.len(), CHILDREN);
    for e in edges {
        let node = &e["node"];
        assert_eq!(node["tenants"]["totalCount"], 3, "{node}");
        assert_eq!(node["users"]["totalCount"], 4, "{node}");
        assert_eq!(node["tenants"]["edges"].as_array().unwrap().len(), 3);
        assert_eq!(node["users"]["edges"].as_array().unwrap().len(), 4);
    }
    let first = edges
        .iter()
        .find(|e| e["node"]["id"] == json!(t.children[0]))
        .unwrap();
    let t0 = first["node"]["tenants"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == json!(t.tenants[0][0]))
        .unwrap();
    let mut granted: Vec<&str> = t0["node"]["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["loginId"].as_str().unwrap())
        .collect();
    granted.sort();
    assert_eq!(granted, ["c0-u1", "wp-user"]);
    let u1 = first["node"]["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["loginId"] == "c0-u1")
        .unwrap();
    assert_eq!(u1["node"]["tenants"]["totalCount"], 1);
    let wide = r.body["extensions"]["busRequests"].as_u64().unwrap();
    let narrow = walk(2).await;
    assert_eq!(
        narrow.data()["contract"]["children"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let narrow = narrow.body["extensions"]["busRequests"].as_u64().unwrap();
    // Bounded by the depth whatever the width. Services cache some of their lookups of each
    // other (principals, access) for a second, so a walk right after another may need fewer.
    assert!(
        wide <= WALK_BUS_REQUESTS && narrow <= WALK_BUS_REQUESTS,
        "wide {wide}, narrow {narrow}, bound {WALK_BUS_REQUESTS}"
    );
    assert_eq!(
        wide.max(narrow),
        WALK_BUS_REQUESTS,
        "the first walk asks everything"
    );

    // A child user sees only its own subtree.
    let c0_owner = gql.sign_in("c0-owner", OWNER_PASSWORD).await;
    for other in [&t.partner, &t.children[1]] {
        let r = gql
            .q(
                Some(&c0_owner),
                "query($id: ID!){ contract(id:$id){ id } }",
                json!({"id": other}),
            )
            .await;
        assert_eq!(r.code(), "NOT_FOUND");
    }
    let r = gql
        .q(Some(&c0_owner), "query($id: ID!){ contract(id:$id){ children{ totalCount } tenants{ totalCount } users{ totalCount } } }", json!({"id": t.children[0]}))
        .await;
    assert_eq!(count(&r, &["contract", "children"]), 0);
    assert_eq!(count(&r, &["contract", "tenants"]), 3);
    assert_eq!(count(&r, &["contract", "users"]), 4);

    // Access grants gate what a general user sees: c0-u1 sees the one granted tenant.
    let mine = "{ me { tenants { totalCount edges { node { id contractId } } } } }";
    let r = gql
        .q(
            Some(&c0_user),
            "query($id: ID!){ contract(id:$id){ tenants{ totalCount edges{ node{ id } } } } }",
            json!({"id": t.children[0]}),
        )
        .await;
    assert_eq!(count(&r, &["contract", "tenants"]), 1);
    assert_eq!(
        r.data()["contract"]["tenants"]["edges"][0]["node"]["id"],
        json!(t.tenants[0][0])
    );
    assert_eq!(
        count(
            &gql.q(Some(&c0_user), mine, json!({})).await,
            &["me", "tenants"]
        ),
        1
    );
    // The partner's general user works in the child tenant without seeing the child contract.
    let r = gql.q(Some(&partner_user), mine, json!({})).await;
    assert_eq!(
        r.data()["me"]["tenants"]["edges"][0]["node"]["contractId"],
        json!(t.children[0])
    );
    let r = gql
        .q(
            Some(&partner_user),
            "query($id: ID!){ contract(id:$id){ id } }",
            json!({"id": t.children[0]}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    // Grant rules: a general user cannot grant; a user of another child cannot be granted;
    // unknown tenants are NOT_FOUND; none of it changes anything.
    let c1_u1 = gql
        .q(
            Some(&gql.sign_in("c1-u1", PASSWORD).await),
            "{ me { id } }",
            json!({}),
        )
        .await
        .data()["me"]["id"]
        .clone();
    let r = gql
        .q(
            Some(&c0_user),
            GRANT,
            json!({"t": t.tenants[0][1], "u": c0_u1_id}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = gql
        .q(
            Some(owner),
            GRANT,
            json!({"t": t.tenants[0][1], "u": c1_u1}),
        )
        .await;
    assert_eq!(
        (
            r.code().as_str(),
            &r.body["errors"][0]["extensions"]["field"]
        ),
        ("INVALID_INPUT", &json!("userId"))
    );
    let r = gql
        .q(
            Some(owner),
            GRANT,
            json!({"t": "ten0190a1b2c3d4e5f60718293a4b5c6d7e", "u": c0_u1_id}),
        )
        .await;
    assert!(
        matches!(r.code().as_str(), "NOT_FOUND" | "INVALID_INPUT"),
        "{}",
        r.body
    );
    assert_eq!(
        count(
            &gql.q(Some(&c0_user), mine, json!({})).await,
            &["me", "tenants"]
        ),
        1
    );
    // Revoked: gone.
    let r = gql
        .q(
            Some(owner),
            "mutation($t: ID!, $u: ID!){ revokeTenantAccess(tenantId:$t, userId:$u) }",
            json!({"t": t.tenants[0][0], "u": c0_u1_id}),
        )
        .await;
    assert_eq!(r.data()["revokeTenantAccess"], true);
    assert_eq!(
        count(
            &gql.q(Some(&c0_user), mine, json!({})).await,
            &["me", "tenants"]
        ),
        0
    );

    // Contract groups: an admin assigned to a group manages only that group's children.
    let g = id_of(
        gql.q(
            Some(owner),
            "mutation($p: ID!){ createContractGroup(partnerId:$p, name:\"east\"){ id } }",
            json!({"p": t.partner}),
        )
        .await,
        "createContractGroup",
    )
    .await;
    for c in &t.children[..2] {
        let r = gql.q(Some(owner), "mutation($g: ID!, $c: ID!){ addChildToGroup(groupId:$g, contractId:$c){ childIds } }", json!({"g": g, "c": c})).await;
        r.data();
    }
    let gadmin_id = create_user(gql, owner, &t.partner, "wp-gadmin", "ADMIN").await;
    create_user(gql, owner, &t.partner, "wp-admin", "ADMIN").await;
    let r = gql
        .q(Some(owner), "mutation($g: ID!, $u: ID!){ assignUserToGroup(groupId:$g, userId:$u){ userIds childIds } }", json!({"g": g, "u": gadmin_id}))
        .await;
    assert_eq!(r.data()["assignUserToGroup"]["userIds"], json!([gadmin_id]));
    assert_eq!(
        r.data()["assignUserToGroup"]["childIds"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let gadmin = gql.sign_in("wp-gadmin", PASSWORD).await;
    let admin = gql.sign_in("wp-admin", PASSWORD).await;
    let children_q = "query($id: ID!){ contract(id:$id){ children(first:100){ totalCount edges{ node{ id tenants{ totalCount } } } } groups{ totalCount } } }";
    let r = gql
        .q(Some(&gadmin), children_q, json!({"id": t.partner}))
        .await;
    assert_eq!(count(&r, &["contract", "children"]), 2);
    assert_eq!(
        r.data()["contract"]["children"]["edges"][0]["node"]["tenants"]["totalCount"],
        3
    );
    assert_eq!(
        count(&r, &["contract", "groups"]),
        0,
        "grouped admins do not manage groups"
    );
    let r = gql
        .q(Some(&admin), children_q, json!({"id": t.partner}))
        .await;
    assert_eq!(count(&r, &["contract", "children"]), CHILDREN as u64);
    assert_eq!(count(&r, &["contract", "groups"]), 1);
    let r = gql
        .q(
            Some(&gadmin),
            "query($id: ID!){ contract(id:$id){ id } }",
            json!({"id": t.children[5]}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    assert_eq!(
        create_tenant(gql, &gadmin, &t.children[5], "outside")
            .await
            .code(),
        "NOT_FOUND"
    );
    create_tenant(gql, &gadmin, &t.children[1], "inside")
        .await
        .data();
    let r = gql
        .q(
            Some(&gadmin),
            "query($id: ID!){ contract(id:$id){ users{ totalCount } } }",
            json!({"id": t.children[5]}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    // Group rules.
    let r = gql
        .q(
            Some(&gadmin),
            "mutation($p: ID!){ createContractGroup(partnerId:$p, name:\"mine\"){ id } }",
            json!({"p": t.partner}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let owner_id = gql.q(Some(owner), "{ me { id } }", json!({})).await.data()["me"]["id"].clone();
    let r = gql
        .q(
            Some(owner),
            "mutation($g: ID!, $u: ID!){ assignUserToGroup(groupId:$g, userId:$u){ id } }",
            json!({"g": g, "u": owner_id}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    let r = gql
        .q(
            Some(owner),
            "mutation($g: ID!, $u: ID!){ assignUserToGroup(groupId:$g, userId:$u){ id } }",
            json!({"g": g, "u": c0_u1_id}),
        )
        .await;
    assert_eq!(
        r.code(),
        "INVALID_INPUT",
        "a child's user is not the partner's"
    );
    // Unassigned again: all children.
    gql.q(
        Some(owner),
        "mutation($g: ID!, $u: ID!){ unassignUserFromGroup(groupId:$g, userId:$u){ id } }",
        json!({"g": g, "u": gadmin_id}),
    )
    .await
    .data();
    let r = gql
        .q(Some(&gadmin), children_q, json!({"id": t.partner}))
        .await;
    assert_eq!(count(&r, &["contract", "children"]), CHILDREN as u64);

    // Workspaces: the default one first, others by name; tenants placed in them.
    let ws = id_of(
        gql.q(
            Some(owner),
            "mutation($c: ID!){ createWorkspace(contractId:$c, name:\"analytics\"){ id } }",
            json!({"c": t.children[0]}),
        )
        .await,
        "createWorkspace",
    )
    .await;
    let r = gql
        .q(Some(owner), "mutation($c: ID!, $w: ID!){ createTenant(contractId:$c, input:{name:\"placed\", region:\"jp2\", workspaceId:$w}){ workspaceId } }", json!({"c": t.children[0], "w": ws}))
        .await;
    assert_eq!(r.data()["createTenant"]["workspaceId"], json!(ws));
    let r = gql
        .q(Some(owner), "mutation($c: ID!, $w: ID!){ createTenant(contractId:$c, input:{name:\"misplaced\", region:\"jp2\", workspaceId:$w}){ id } }", json!({"c": t.children[1], "w": ws}))
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    let r = gql
        .q(Some(owner), "query($id: ID!){ contract(id:$id){ workspaces{ totalCount edges{ node{ name isDefault } } } } }", json!({"id": t.children[0]}))
        .await;
    let ws_edges = &r.data()["contract"]["workspaces"]["edges"];
    assert_eq!(count(&r, &["contract", "workspaces"]), 2);
    assert_eq!(ws_edges[0]["node"]["isDefault"], true);
    assert_eq!(ws_edges[1]["node"]["name"], "analytics");

    // Deleting a user removes their grants (the identity service's event).
    let c2_u2 = create_user(gql, owner, &t.children[2], "c2-extra", "USER").await;
    gql.q(
        Some(owner),
        GRANT,
        json!({"t": t.tenants[2][0], "u": c2_u2}),
    )
    .await
    .data();
    let tenant_users = "query($id: ID!){ contract(id:$id){ tenants(first:10){ edges{ node{ id users{ totalCount } } } } } }";
    let granted_on = |r: &Resp, tenant: &str| -> u64 {
        r.data()["contract"]["tenants"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["id"] == json!(tenant))
            .map(|e| e["node"]["users"]["totalCount"].as_u64().unwrap())
            .unwrap_or(0)
    };
    let r = gql
        .q(Some(owner), tenant_users, json!({"id": t.children[2]}))
        .await;
    assert_eq!(granted_on(&r, &t.tenants[2][0]), 1);
    gql.q(
        Some(owner),
        "mutation($id: ID!){ deleteUser(id:$id) }",
        json!({"id": c2_u2}),
    )
    .await
    .data();
    eventually("the deleted user's grant is gone", || async {
        let r = gql
            .q(Some(owner), tenant_users, json!({"id": t.children[2]}))
            .await;
        granted_on(&r, &t.tenants[2][0]) == 0
    })
    .await;

    // Force-abolish cleans up: tenants (and their grants) deleted, users revoked.
    let last = t.children[CHILDREN - 1].clone();
    gql.q(
        Some(owner),
        GRANT,
        json!({"t": t.tenants[CHILDREN - 1][0], "u": partner_user_id}),
    )
    .await
    .data();
    assert_eq!(
        count(
            &gql.q(Some(&partner_user), mine, json!({})).await,
            &["me", "tenants"]
        ),
        2
    );
    let r = gql
        .q(
            Some(owner),
            "mutation($id: ID!){ abolishContract(id:$id){ status } }",
            json!({"id": last}),
        )
        .await;
    assert_eq!(
        r.code(),
        "CONFLICT",
        "tenants remain: refused without force"
    );
    let r = gql
        .q(
            Some(owner),
            "mutation($id: ID!){ abolishContract(id:$id, force:true){ status } }",
            json!({"id": last}),
        )
        .await;
    assert_eq!(r.data()["abolishContract"]["status"], "ABOLISHED");
    eventually("the abolished child's tenants are deleted", || async {
        let r = gql
            .q(
                Some(owner),
                "query($id: ID!){ contract(id:$id){ tenants{ totalCount } } }",
                json!({"id": last}),
            )
            .await;
        count(&r, &["contract", "tenants"]) == 0
    })
    .await;
    eventually("the partner user's grant there is gone", || async {
        count(
            &gql.q(Some(&partner_user), mine, json!({})).await,
            &["me", "tenants"],
        ) == 1
    })
    .await;
    eventually("the abolished child's owner can no longer sign in", || async {
        let r = gql
            .q(None, "mutation{ signIn(loginId:\"c24-owner\", password:\"Owner-pass-1\"){ accessToken } }", json!({}))
            .await;
        r.body.get("errors").is_some()
    })
    .await;
}

#[actix_rt::test]
async fn tenants_access_groups_embedded() {
    let (app, gql) = spawn_embedded().await;
    scenario(&gql).await;
    app.stop().await;
}

#[actix_rt::test]
async fn tenants_access_groups_distributed() {
    let d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    scenario(&d.gateway()).await;
    d.cleanup().await;
}
