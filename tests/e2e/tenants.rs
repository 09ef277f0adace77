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
                    ts.push(gql.create_tenant(&owner, &c, &format!("c{i}-t{t}")).await);
                }
                for (u, role) in ["ADMIN", "USER", "USER"].iter().enumerate() {
                    gql.create_member(&owner, &c, &format!("c{i}-u{u}"), role)
                        .await;
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

async fn scenario(gql: &Gql) -> Resp {
    let t = build(gql).await;
    let owner = t.owner.as_str();

    // Grants first, so the walk shows them: a child user and a partner user in child 0's first
    // tenant.
    let c0_user = gql.sign_in("c0-u1", PASSWORD).await;
    let partner_user_id = gql
        .create_member(owner, &t.partner, "wp-user", "USER")
        .await;
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
            "mutation($t: ID!, $u: ID!){ revokeTenantAccess(tenantId:$t, userId:$u){ id } }",
            json!({"t": t.tenants[0][0], "u": c0_u1_id}),
        )
        .await;
    assert_eq!(
        r.data()["revokeTenantAccess"]["id"],
        format!("grt_{}@{}", t.tenants[0][0], c0_u1_id).as_str(),
        "the payload names the grant that is gone"
    );
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
    let gadmin_id = gql
        .create_member(owner, &t.partner, "wp-gadmin", "ADMIN")
        .await;
    gql.create_member(owner, &t.partner, "wp-admin", "ADMIN")
        .await;
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
    let c2_u2 = gql
        .create_member(owner, &t.children[2], "c2-extra", "USER")
        .await;
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
        "mutation($id: ID!){ deleteUser(id:$id){ id } }",
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
    let r = gql.abolish_contract(owner, &last, false).await;
    assert_eq!(
        r.code(),
        "CONFLICT",
        "tenants remain: refused without force"
    );
    let r = gql.abolish_contract(owner, &last, true).await;
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
    eventually(
        "the abolished child's owner can no longer sign in",
        || async {
            let r = gql.try_sign_in("c24-owner", "Owner-pass-1").await;
            r.body.get("errors").is_some()
        },
    )
    .await;
    gql.try_sign_in("c24-owner", "Owner-pass-1").await
}

#[actix_rt::test]
async fn tenants_access_groups_embedded() {
    let (app, gql) = spawn_embedded().await;
    let abolished_owner = scenario(&gql).await;
    app.stop().await;
    assert!(
        abolished_owner.body.get("errors").is_some(),
        "{}",
        abolished_owner.body
    );
}

#[actix_rt::test]
async fn tenants_access_groups_distributed() {
    let d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    let abolished_owner = scenario(&d.gateway()).await;
    d.cleanup().await;
    assert!(
        abolished_owner.body.get("errors").is_some(),
        "{}",
        abolished_owner.body
    );
}

/// The fields of one error: `extensions.fields[].field` (every bad field of the input).
fn bad_fields(r: &Resp) -> Vec<String> {
    assert_eq!(r.code(), "INVALID_INPUT", "{}", r.body);
    r.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no extensions.fields: {}", r.body))
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect()
}

/// A page of a contract's tenants: names in list order and the page info.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantPage {
    total_count: u64,
    edges: Vec<TenantEdge>,
    page_info: PageInfo,
}
#[derive(Debug, serde::Deserialize)]
struct TenantEdge {
    node: TenantNode,
}
#[derive(Debug, serde::Deserialize)]
struct TenantNode {
    name: String,
}
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    has_previous_page: bool,
    start_cursor: Option<String>,
    end_cursor: Option<String>,
}
impl TenantPage {
    fn names(&self) -> Vec<&str> {
        self.edges.iter().map(|e| e.node.name.as_str()).collect()
    }
}

const TENANT_PAGE: &str = "query($id: ID!, $f: TenantFilter, $first: Int, $after: String, $last: Int, $before: String){ contract(id:$id){ \
    tenants(filter:$f, first:$first, after:$after, last:$last, before:$before){ totalCount edges{ node{ name } } \
    pageInfo{ hasNextPage hasPreviousPage startCursor endCursor } } } }";

async fn tenant_page(gql: &Gql, token: &str, contract: &str, args: Value) -> TenantPage {
    let mut vars = json!({"id": contract});
    vars.as_object_mut()
        .unwrap()
        .extend(args.as_object().unwrap().clone());
    let r = gql.q(Some(token), TENANT_PAGE, vars).await;
    serde_json::from_value(r.data()["contract"]["tenants"].clone())
        .unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

/// `tenant(id)`, `node(id)`, tenant filters, backward pages, `updateTenant`/`updateWorkspace`
/// and the delete payloads, through GraphQL: a lookup sees what walking sees, filters run in the
/// tenant service before pagination, every bad field is reported at once, and nothing changes
/// on bad input.
async fn lookups_filters_and_changes(gql: &Gql) -> Resp {
    let op = gql.operator().await;
    let partner = gql
        .create_contract(&op, Kind::Partner, "Lookup Partner", "lk-owner")
        .await;
    let owner = partner.owner(gql).await;
    let child = gql
        .create_contract(
            &owner,
            Kind::ChildOf(&partner.id),
            "Lookup Child",
            "lkc-owner",
        )
        .await;
    let child_owner = child.owner(gql).await;
    let other = gql
        .create_contract(&op, Kind::Partner, "Other Partner", "lko-owner")
        .await;
    let outsider = other.owner(gql).await;
    let worker_id = gql
        .create_user(&owner, &child.id, "lk-worker", "USER")
        .await;
    let worker = gql.sign_in("lk-worker", OWNER_PASSWORD).await;

    // Five tenants in list order (creation order).
    const CREATE: &str = "mutation($c: ID!, $n: String!, $r: String!){ createTenant(contractId:$c, input:{name:$n, region:$r}){ id } }";
    let mut ids = Vec::new();
    for (name, region) in [
        ("Alpha One", "jp1"),
        ("alpha two", "jp1"),
        ("Beta", "jp2"),
        ("Gamma_%", "us1"),
        ("Delta", "jp1"),
    ] {
        let r = gql
            .q(
                Some(&owner),
                CREATE,
                json!({"c": child.id, "n": name, "r": region}),
            )
            .await;
        ids.push(r.data()["createTenant"]["id"].as_str().unwrap().to_string());
    }
    let all = ["Alpha One", "alpha two", "Beta", "Gamma_%", "Delta"];

    // Backward pages: `last` from the end, then `before` each page's start.
    let p = tenant_page(gql, &owner, &child.id, json!({"last": 2})).await;
    assert_eq!(p.names(), all[3..]);
    assert_eq!(
        (p.page_info.has_previous_page, p.page_info.has_next_page),
        (true, false)
    );
    let p = tenant_page(
        gql,
        &owner,
        &child.id,
        json!({"last": 2, "before": p.page_info.start_cursor}),
    )
    .await;
    assert_eq!(p.names(), all[1..3]);
    assert_eq!(
        (p.page_info.has_previous_page, p.page_info.has_next_page),
        (true, true)
    );
    let p = tenant_page(
        gql,
        &owner,
        &child.id,
        json!({"last": 2, "before": p.page_info.start_cursor}),
    )
    .await;
    assert_eq!(p.names(), all[..1]);
    assert_eq!(
        (p.page_info.has_previous_page, p.page_info.has_next_page),
        (false, true)
    );
    assert_eq!(p.total_count, 5);
    // Forward after a cursor knows a page precedes it.
    let p = tenant_page(
        gql,
        &owner,
        &child.id,
        json!({"first": 3, "after": p.page_info.end_cursor}),
    )
    .await;
    assert_eq!(p.names(), all[1..4]);
    assert_eq!(
        (p.page_info.has_previous_page, p.page_info.has_next_page),
        (true, true)
    );
    // One direction per page, and every bad argument at once.
    let r = gql
        .q(
            Some(&owner),
            TENANT_PAGE,
            json!({"id": child.id, "first": 2, "last": 2}),
        )
        .await;
    assert_eq!(bad_fields(&r), ["last"]);
    let r = gql
        .q(
            Some(&owner),
            TENANT_PAGE,
            json!({"id": child.id, "last": 0, "before": "garbage!"}),
        )
        .await;
    assert_eq!(bad_fields(&r), ["last", "before"]);
    // Backward on the other lists too (the helper is shared): the contract's users.
    let r = gql
        .q(
            Some(&owner),
            "query($id: ID!){ contract(id:$id){ users(last:1){ edges{ node{ loginId } } pageInfo{ hasPreviousPage hasNextPage } } } }",
            json!({"id": child.id}),
        )
        .await;
    let users = &r.data()["contract"]["users"];
    assert_eq!(users["edges"][0]["node"]["loginId"], "lk-worker");
    assert_eq!(users["pageInfo"]["hasPreviousPage"], true, "{}", r.body);

    // Filters, in the query: totals and pages are the filtered list's.
    let p = tenant_page(
        gql,
        &owner,
        &child.id,
        json!({"f": {"name": "ALPHA"}, "first": 1}),
    )
    .await;
    assert_eq!((p.total_count, p.names()), (2, vec!["Alpha One"]));
    assert!(p.page_info.has_next_page);
    let p = tenant_page(
        gql,
        &owner,
        &child.id,
        json!({"f": {"name": "alpha"}, "first": 1, "after": p.page_info.end_cursor}),
    )
    .await;
    assert_eq!(p.names(), ["alpha two"]);
    assert!(!p.page_info.has_next_page);
    // `%` and `_` are matched as themselves.
    let p = tenant_page(gql, &owner, &child.id, json!({"f": {"name": "_%"}})).await;
    assert_eq!(p.names(), ["Gamma_%"]);
    let p = tenant_page(gql, &owner, &child.id, json!({"f": {"region": "jp1"}})).await;
    assert_eq!(p.names(), ["Alpha One", "alpha two", "Delta"]);
    let p = tenant_page(
        gql,
        &owner,
        &child.id,
        json!({"f": {"region": "jp1", "name": "a"}, "last": 1}),
    )
    .await;
    assert_eq!((p.total_count, p.names()), (3, vec!["Delta"]));
    let r = gql
        .q(
            Some(&owner),
            TENANT_PAGE,
            json!({"id": child.id, "f": {"region": "mars", "workspaceId": " ", "name": "x".repeat(101)}}),
        )
        .await;
    let mut fields = bad_fields(&r);
    fields.sort();
    assert_eq!(
        fields,
        ["filter.name", "filter.region", "filter.workspaceId"]
    );

    // Lookups see what walking sees: NOT_FOUND outside one's tree.
    const TENANT: &str = "query($id: ID!){ tenant(id:$id){ id name region contract{ id } workspace{ name isDefault } } }";
    for who in [&owner, &child_owner, &op] {
        let r = gql.q(Some(who), TENANT, json!({"id": ids[0]})).await;
        assert_eq!(r.data()["tenant"]["name"], "Alpha One");
        assert_eq!(r.data()["tenant"]["workspace"]["isDefault"], true);
    }
    for (who, why) in [
        (&outsider, "another partner"),
        (&worker, "a general user not granted"),
    ] {
        let r = gql.q(Some(who), TENANT, json!({"id": ids[0]})).await;
        assert_eq!(r.code(), "NOT_FOUND", "{why}: {}", r.body);
    }
    let malformed = gql.q(Some(&owner), TENANT, json!({"id": "nope"})).await;
    assert_eq!(malformed.code(), "NOT_FOUND");
    // Granted, the general user sees it (without the workspace: not a manager), and through
    // the grant's links.
    let r = gql
        .q(
            Some(&owner),
            "mutation($t: ID!, $u: ID!){ grantTenantAccess(tenantId:$t, userId:$u){ id tenant{ name } user{ loginId } } }",
            json!({"t": ids[0], "u": worker_id}),
        )
        .await;
    let grant = &r.data()["grantTenantAccess"];
    assert_eq!(grant["id"], format!("grt_{}@{worker_id}", ids[0]).as_str());
    assert_eq!(grant["tenant"]["name"], "Alpha One");
    assert_eq!(grant["user"]["loginId"], "lk-worker");
    // Tenant.users(filter:) narrows the tenant's granted users as Contract.users does (identity
    // judges the user fields), before pagination; a bad filter is refused field by field.
    let admin_id = gql
        .create_user(&owner, &child.id, "lk-admin", "ADMIN")
        .await;
    gql.q(
        Some(&owner),
        "mutation($t: ID!, $u: ID!){ grantTenantAccess(tenantId:$t, userId:$u){ id } }",
        json!({"t": ids[0], "u": admin_id}),
    )
    .await
    .data();
    const GRANTED: &str = "query($id: ID!, $f: UserFilter, $n: Int){ tenant(id:$id){ users(filter:$f, first:$n){ totalCount edges{ node{ loginId } } pageInfo{ hasNextPage } } } }";
    let granted = |r: &Resp| -> (u64, Vec<String>) {
        let users = &r.data()["tenant"]["users"];
        let logins = users["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["loginId"].as_str().unwrap().to_string())
            .collect();
        (users["totalCount"].as_u64().unwrap(), logins)
    };
    let r = gql.q(Some(&owner), GRANTED, json!({"id": ids[0]})).await;
    assert_eq!(
        granted(&r),
        (2, vec!["lk-worker".into(), "lk-admin".into()])
    );
    let r = gql
        .q(
            Some(&owner),
            GRANTED,
            json!({"id": ids[0], "f": {"role": "ADMIN"}}),
        )
        .await;
    assert_eq!(granted(&r), (1, vec!["lk-admin".into()]));
    let r = gql
        .q(
            Some(&owner),
            GRANTED,
            json!({"id": ids[0], "f": {"search": "LK-"}, "n": 1}),
        )
        .await;
    assert_eq!(granted(&r), (2, vec!["lk-worker".into()]));
    assert_eq!(r.data()["tenant"]["users"]["pageInfo"]["hasNextPage"], true);
    let r = gql
        .q(
            Some(&owner),
            GRANTED,
            json!({"id": ids[0], "f": {"search": "nobody"}}),
        )
        .await;
    assert_eq!(granted(&r), (0, vec![]));
    // the granted user sees only their own grant, filtered too
    let r = gql
        .q(
            Some(&worker),
            GRANTED,
            json!({"id": ids[0], "f": {"role": "USER"}}),
        )
        .await;
    assert_eq!(granted(&r), (1, vec!["lk-worker".into()]));
    let r = gql
        .q(
            Some(&worker),
            GRANTED,
            json!({"id": ids[0], "f": {"role": "ADMIN"}}),
        )
        .await;
    assert_eq!(granted(&r), (0, vec![]));
    for tenant in [&ids[0], &ids[4]] {
        // refused with or without grants on the tenant
        let r = gql
            .q(
                Some(&owner),
                GRANTED,
                json!({"id": tenant, "f": {"role": "OPERATOR", "search": "x".repeat(300)}}),
            )
            .await;
        let mut fields = bad_fields(&r);
        fields.sort();
        assert_eq!(fields, ["filter.role", "filter.search"], "{}", r.body);
    }
    let r = gql.q(Some(&worker), TENANT, json!({"id": ids[0]})).await;
    assert_eq!(r.data()["tenant"]["name"], "Alpha One");
    assert_eq!(r.data()["tenant"]["workspace"], Value::Null);
    let r = gql.q(Some(&worker), TENANT, json!({"id": ids[1]})).await;
    assert_eq!(r.code(), "NOT_FOUND", "not granted that one");
    // node(id) resolves a Tenant with the same visibility.
    const NODE: &str = "query($id: ID!){ node(id:$id){ __typename id ... on Tenant { name } } }";
    let r = gql.q(Some(&child_owner), NODE, json!({"id": ids[2]})).await;
    assert_eq!(
        r.data()["node"],
        json!({"__typename": "Tenant", "id": ids[2], "name": "Beta"})
    );
    let r = gql.q(Some(&outsider), NODE, json!({"id": ids[2]})).await;
    assert_eq!(r.code(), "NOT_FOUND");
    // Filters apply to User.tenants as well.
    let r = gql
        .q(
            Some(&worker),
            "{ me { tenants(filter:{name:\"one\"}){ totalCount } none: tenants(filter:{region:\"us1\"}){ totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["me"]["tenants"]["totalCount"], 1);
    assert_eq!(r.data()["me"]["none"]["totalCount"], 0);

    // updateWorkspace: renamed by managers, names unique, bad input refused.
    let ws = gql
        .q(
            Some(&owner),
            "mutation($c: ID!){ createWorkspace(contractId:$c, name:\"Staging\"){ id } }",
            json!({"c": child.id}),
        )
        .await
        .data()["createWorkspace"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    const RENAME: &str =
        "mutation($id: ID!, $n: String){ updateWorkspace(id:$id, input:{name:$n}){ id name } }";
    let r = gql
        .q(Some(&child_owner), RENAME, json!({"id": ws, "n": "QA"}))
        .await;
    assert_eq!(r.data()["updateWorkspace"]["name"], "QA");
    // node(id) resolves a Workspace for its contract's managers only.
    const WS_NODE: &str =
        "query($id: ID!){ node(id:$id){ __typename id ... on Workspace { name isDefault } } }";
    let r = gql.q(Some(&owner), WS_NODE, json!({"id": ws})).await;
    assert_eq!(
        r.data()["node"],
        json!({"__typename": "Workspace", "id": ws, "name": "QA", "isDefault": false})
    );
    for who in [&outsider, &worker] {
        let r = gql.q(Some(who), WS_NODE, json!({"id": ws})).await;
        assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    }
    let r = gql
        .q(Some(&owner), RENAME, json!({"id": ws, "n": "default"}))
        .await;
    assert_eq!(r.code(), "CONFLICT", "the default workspace has that name");
    let r = gql
        .q(Some(&owner), RENAME, json!({"id": ws, "n": "  "}))
        .await;
    assert_eq!(bad_fields(&r), ["name"]);
    let r = gql
        .q(Some(&worker), RENAME, json!({"id": ws, "n": "Mine"}))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = gql
        .q(Some(&outsider), RENAME, json!({"id": ws, "n": "Mine"}))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");

    // updateTenant: every bad field at once, nothing changed; then a real change, announced.
    const UPDATE: &str = "mutation($id: ID!, $i: UpdateTenantInput!){ updateTenant(id:$id, input:$i){ id name workspace{ id name } } }";
    let r = gql
        .q(
            Some(&owner),
            UPDATE,
            json!({"id": ids[2], "i": {"name": "", "workspaceId": "wsp_00000000000000000000000000000000"}}),
        )
        .await;
    assert_eq!(bad_fields(&r), ["name", "workspaceId"]);
    let p = tenant_page(gql, &owner, &child.id, json!({"f": {"name": "beta"}})).await;
    assert_eq!(p.names(), ["Beta"], "nothing changed");
    let r = gql
        .q(
            Some(&worker),
            UPDATE,
            json!({"id": ids[0], "i": {"name": "Mine"}}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "granted is not managing");
    let r = gql
        .q(
            Some(&outsider),
            UPDATE,
            json!({"id": ids[0], "i": {"name": "Mine"}}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");

    let mut events = ws::Ws::connect(gql, &child_owner).await;
    events
        .subscribe(
            "1",
            "subscription($c: ID!){ contractEvents(contractId:$c){ kind tenantId } }",
            json!({"c": child.id}),
        )
        .await;
    // Renamed until the subscription (live from some moment on) reports the change: each
    // rename is an event, so the first one after the subscription went live is seen.
    let started = std::time::Instant::now();
    for round in 1.. {
        let name = format!("Beta {round}");
        let r = gql
            .q(
                Some(&owner),
                UPDATE,
                json!({"id": ids[2], "i": {"name": name}}),
            )
            .await;
        assert_eq!(r.data()["updateTenant"]["name"], name.as_str());
        let mut seen = false;
        while let Some(ev) = events.next_data(Duration::from_millis(300)).await {
            let ev = &ev["contractEvents"];
            seen |= ev["kind"] == "TENANT_UPDATED" && ev["tenantId"] == ids[2].as_str();
        }
        if seen {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "TENANT_UPDATED never reached the contract's subscriber"
        );
    }
    let r = gql
        .q(
            Some(&owner),
            UPDATE,
            json!({"id": ids[2], "i": {"name": "Beta Moved", "workspaceId": ws}}),
        )
        .await;
    assert_eq!(
        r.data()["updateTenant"],
        json!({"id": ids[2], "name": "Beta Moved", "workspace": {"id": ws, "name": "QA"}})
    );
    let p = tenant_page(gql, &owner, &child.id, json!({"f": {"workspaceId": ws}})).await;
    assert_eq!(p.names(), ["Beta Moved"]);

    // Deletes answer one payload: the global id of what is gone.
    let r = gql
        .q(
            Some(&owner),
            "mutation($t: ID!, $u: ID!){ revokeTenantAccess(tenantId:$t, userId:$u){ id } }",
            json!({"t": ids[0], "u": worker_id}),
        )
        .await;
    assert_eq!(
        r.data()["revokeTenantAccess"]["id"],
        format!("grt_{}@{worker_id}", ids[0]).as_str()
    );
    let r = gql
        .q(
            Some(&owner),
            "mutation($id: ID!){ deleteTenant(id:$id){ id } }",
            json!({"id": ids[4]}),
        )
        .await;
    assert_eq!(r.data()["deleteTenant"]["id"], ids[4].as_str());
    gql.q(Some(&owner), TENANT, json!({"id": ids[4]})).await
}

#[actix_rt::test]
async fn tenant_lookups_filters_updates_and_backward_pages_embedded() {
    let (app, gql) = spawn_embedded().await;
    let deleted = lookups_filters_and_changes(&gql).await;
    app.stop().await;
    assert_eq!(deleted.code(), "NOT_FOUND", "deleted");
}
