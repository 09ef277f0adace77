//! The authorization matrix of what exists so far, walked completely through the GraphQL API:
//! every principal kind × every relation to the target contract × every operation, expected vs
//! actual. API keys are rows too (one key of the partner for each of the twelve scopes), and
//! partner admins narrowed by a contract group or by `canViewUsage`.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Operator,
    PartnerOwner,
    PartnerAdmin,
    PartnerUser,
    /// A partner admin assigned to a contract group holding the child (not the sibling).
    PartnerGroupedAdmin,
    /// A partner admin from whom the owner hid usage and bills (`canViewUsage: false`).
    PartnerAdminNoUsage,
    ChildOwner,
    ChildAdmin,
    ChildUser,
    /// A key of the partner contract holding exactly this scope (GraphQL `ApiScope` name).
    PartnerKey(&'static str),
}

const SCOPES: [&str; 12] = [
    "CONTRACTS_READ",
    "CONTRACTS_WRITE",
    "TENANTS_READ",
    "TENANTS_WRITE",
    "USERS_READ",
    "USERS_WRITE",
    "BILLING_READ",
    "BILLING_WRITE",
    "NOTIFICATIONS_READ",
    "NOTIFICATIONS_WRITE",
    "SLA_READ",
    "SLA_WRITE",
];

#[derive(Clone, Copy, Debug)]
enum Target {
    Partner,
    Child,
    Sibling,
    Unrelated,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    ReadContract,
    SeeCustomer,
    UpdateContract,
    ListChildren,
    CreateTenant,
    ListTenants,
    CreateUser,
    ListUsers,
    /// `Contract.bill(month)`: usage and bills.
    ReadBill,
}

/// Expected outcome: `Ok` (allowed), an error code, or `Empty` (allowed but shows nothing).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    Ok,
    Empty,
    Null,
    Code(&'static str),
}

/// THE matrix (SPEC §1): who may do what to which contract.
fn expected(who: Who, target: Target, op: Op) -> Want {
    use Op::*;
    use Target::*;
    use Want::*;
    use Who::*;
    let nf = Code("NOT_FOUND");
    let forbidden = Code("FORBIDDEN");
    if let PartnerKey(scope) = who {
        // A key acts as an admin of the partner within its scopes (write includes read); every
        // key reads the contract tree; the scope is checked before anything else.
        let has = |area: &str, write: bool| {
            scope.starts_with(area) && (!write || scope.ends_with("_WRITE"))
        };
        let visible = !matches!(target, Unrelated);
        return match op {
            ReadContract => {
                if visible {
                    Ok
                } else {
                    nf
                }
            }
            SeeCustomer if !visible => nf,
            SeeCustomer => {
                if has("CONTRACTS", false) {
                    Ok
                } else {
                    Null
                }
            }
            ListChildren if !visible => nf,
            ListChildren => {
                if matches!(target, Partner) {
                    Ok
                } else {
                    Empty
                }
            }
            UpdateContract if !has("CONTRACTS", true) => forbidden,
            UpdateContract => match target {
                Unrelated => nf,
                Partner => forbidden, // the partner's own name: its owner only
                _ => Ok,
            },
            CreateTenant | CreateUser => {
                let area = if matches!(op, CreateTenant) {
                    "TENANTS"
                } else {
                    "USERS"
                };
                if !has(area, true) {
                    forbidden
                } else if visible {
                    Ok
                } else {
                    nf
                }
            }
            ListTenants | ListUsers => {
                let area = if matches!(op, ListTenants) {
                    "TENANTS"
                } else {
                    "USERS"
                };
                if !visible {
                    nf
                } else if has(area, false) {
                    Ok
                } else {
                    forbidden
                }
            }
            ReadBill if !visible => nf,
            ReadBill if has("BILLING", false) => Ok,
            ReadBill => forbidden,
        };
    }
    // Visibility: the operator sees all; members their own contract; partner owner/admins also the
    // children; child members never the parent or siblings; nobody the unrelated contract.
    let visible = matches!(
        (who, target),
        (Operator, _)
            | (PartnerOwner | PartnerAdmin, Partner | Child | Sibling)
            | (PartnerUser, Partner)
            | (PartnerGroupedAdmin, Partner | Child)
            | (PartnerAdminNoUsage, Partner | Child | Sibling)
            | (ChildOwner | ChildAdmin | ChildUser, Child)
    );
    if !visible {
        return match op {
            // Lists of a contract one cannot see are empty, not errors (they are fields of a
            // contract the caller could not have fetched), except for the direct calls.
            ReadContract | SeeCustomer | UpdateContract | CreateTenant | CreateUser => nf,
            ListChildren | ListTenants | ListUsers | ReadBill => nf,
        };
    }
    let manager = matches!(
        (who, target),
        (Operator, _)
            | (PartnerOwner | PartnerAdmin | PartnerAdminNoUsage, _)
            | (PartnerGroupedAdmin, Partner | Child)
            | (ChildOwner | ChildAdmin, Child)
    );
    match op {
        ReadContract => Ok,
        SeeCustomer => {
            let sees = matches!(
                (who, target),
                (Operator, _) | (PartnerOwner, Partner | Child | Sibling) | (ChildOwner, Child)
            );
            if sees { Ok } else { Null }
        }
        UpdateContract => {
            let may = matches!(
                (who, target),
                (Operator, _)
                    | (
                        PartnerOwner | PartnerAdmin | PartnerAdminNoUsage,
                        Child | Sibling
                    )
                    | (PartnerGroupedAdmin, Child)
                    | (PartnerOwner, Partner)
                    | (ChildOwner, Child)
            );
            if may { Ok } else { forbidden }
        }
        ListChildren => {
            if manager && matches!(target, Partner) {
                Ok
            } else {
                Empty
            }
        }
        CreateTenant | CreateUser => {
            if manager {
                Ok
            } else {
                forbidden
            }
        }
        ListTenants => {
            if manager {
                Ok
            } else {
                Empty
            }
        }
        // General users see themselves in their own contract.
        ListUsers => Ok,
        // Usage and bills: owners, and admins unless the owner hid them (SPEC §1).
        ReadBill => {
            if manager && !matches!(who, PartnerAdminNoUsage) {
                Ok
            } else {
                forbidden
            }
        }
    }
}

struct World {
    ids: std::collections::HashMap<&'static str, String>,
    tokens: Vec<(Who, String)>,
}

async fn build(gql: &Gql) -> World {
    let op = gql.operator().await;
    let mut ids = std::collections::HashMap::new();
    let mk_partner = |name: &'static str, login: &'static str| {
        let op = op.clone();
        async move {
            gql.create_contract(&op, Kind::Partner, name, login)
                .await
                .id
        }
    };
    let partner = mk_partner("Matrix Partner", "mx-p-owner").await;
    let unrelated = mk_partner("Other Partner", "mx-o-owner").await;
    let p_owner = gql.sign_in("mx-p-owner", OWNER_PASSWORD).await;
    let child_of = |name: &'static str, login: &'static str| {
        let (p_owner, partner) = (p_owner.clone(), partner.clone());
        async move {
            gql.create_contract(&p_owner, Kind::ChildOf(&partner), name, login)
                .await
                .id
        }
    };
    let child = child_of("Matrix Child", "mx-c-owner").await;
    let sibling = child_of("Matrix Sibling", "mx-s-owner").await;
    let user = |c: String, login: &'static str, role: &'static str| {
        let p_owner = p_owner.clone();
        async move {
            gql.q(
                Some(&p_owner),
                "mutation($c: ID!, $l: String!, $r: Role!){ createUser(contractId:$c, input:{loginId:$l, email:\"m@example.com\", password:\"User-pass-123\", role:$r}){ id } }",
                json!({"c": c, "l": login, "r": role}),
            )
            .await
            .data();
        }
    };
    user(partner.clone(), "mx-p-admin", "ADMIN").await;
    user(partner.clone(), "mx-p-user", "USER").await;
    user(partner.clone(), "mx-p-gadmin", "ADMIN").await;
    // The grouped admin's group holds the child only.
    let group = gql
        .q(
            Some(&p_owner),
            "mutation($p: ID!){ createContractGroup(partnerId:$p, name:\"matrix\"){ id } }",
            json!({"p": partner}),
        )
        .await
        .data()["createContractGroup"]["id"]
        .clone();
    gql.q(
        Some(&p_owner),
        "mutation($g: ID!, $c: ID!){ addChildToGroup(groupId:$g, contractId:$c){ id } }",
        json!({"g": group, "c": child}),
    )
    .await
    .data();
    let hidden = gql
        .q(
            Some(&p_owner),
            "mutation($c: ID!){ createUser(contractId:$c, input:{loginId:\"mx-p-nousage\", email:\"m@example.com\", password:\"User-pass-123\", role:ADMIN}){ id } }",
            json!({"c": partner}),
        )
        .await
        .data()["createUser"]["id"]
        .clone();
    gql.q(
        Some(&p_owner),
        "mutation($id: ID!){ updateUser(id:$id, input:{canViewUsage:false}){ canViewUsage } }",
        json!({"id": hidden}),
    )
    .await
    .data();
    let gadmin_token = gql.sign_in("mx-p-gadmin", "User-pass-123").await;
    let gadmin_id = gql
        .q(Some(&gadmin_token), "{ me { id } }", json!({}))
        .await
        .data()["me"]["id"]
        .clone();
    gql.q(
        Some(&p_owner),
        "mutation($g: ID!, $u: ID!){ assignUserToGroup(groupId:$g, userId:$u){ id } }",
        json!({"g": group, "u": gadmin_id}),
    )
    .await
    .data();
    user(child.clone(), "mx-c-admin", "ADMIN").await;
    user(child.clone(), "mx-c-user", "USER").await;
    ids.insert("partner", partner);
    ids.insert("child", child);
    ids.insert("sibling", sibling);
    ids.insert("unrelated", unrelated);
    let tokens = vec![
        (Who::Operator, op),
        (Who::PartnerOwner, p_owner.clone()),
        (
            Who::PartnerAdmin,
            gql.sign_in("mx-p-admin", "User-pass-123").await,
        ),
        (
            Who::PartnerUser,
            gql.sign_in("mx-p-user", "User-pass-123").await,
        ),
        (Who::PartnerGroupedAdmin, gadmin_token),
        (
            Who::PartnerAdminNoUsage,
            gql.sign_in("mx-p-nousage", "User-pass-123").await,
        ),
        (
            Who::ChildOwner,
            gql.sign_in("mx-c-owner", OWNER_PASSWORD).await,
        ),
        (
            Who::ChildAdmin,
            gql.sign_in("mx-c-admin", "User-pass-123").await,
        ),
        (
            Who::ChildUser,
            gql.sign_in("mx-c-user", "User-pass-123").await,
        ),
    ];
    let mut tokens = tokens;
    for scope in SCOPES {
        let r = gql
            .q(
                Some(&p_owner),
                "mutation($s: ApiScope!){ createApiKey(input:{name:\"matrix\", scopes:[$s]}){ secret } }",
                json!({"s": scope}),
            )
            .await;
        let secret = r.data()["createApiKey"]["secret"]
            .as_str()
            .unwrap()
            .to_string();
        tokens.push((Who::PartnerKey(scope), secret));
    }
    World { ids, tokens }
}

/// Sends with the row's credential: a bearer token, or an API key.
async fn send(gql: &Gql, who: Who, credential: &str, query: &str, vars: Value) -> Resp {
    match who {
        Who::PartnerKey(_) => gql.key_q(credential, query, vars).await,
        _ => gql.q(Some(credential), query, vars).await,
    }
}

fn outcome(r: &Resp, path: &[&str], list: bool) -> Want {
    if let Some(code) = r.body["errors"][0]["extensions"]["code"].as_str() {
        return Want::Code(match code {
            "NOT_FOUND" => "NOT_FOUND",
            "FORBIDDEN" => "FORBIDDEN",
            "INVALID_INPUT" => "INVALID_INPUT",
            "UNAUTHENTICATED" => "UNAUTHENTICATED",
            "CONFLICT" => "CONFLICT",
            _ => "OTHER",
        });
    }
    let mut v: &Value = &r.body["data"];
    for p in path {
        v = &v[*p];
    }
    if list {
        if v["totalCount"].as_u64().unwrap_or(0) == 0 {
            Want::Empty
        } else {
            Want::Ok
        }
    } else if v.is_null() {
        Want::Null
    } else {
        Want::Ok
    }
}

async fn run(
    gql: &Gql,
    w: &World,
    who: Who,
    token: &str,
    target: Target,
    op: Op,
    n: usize,
) -> Want {
    let id = w.ids[match target {
        Target::Partner => "partner",
        Target::Child => "child",
        Target::Sibling => "sibling",
        Target::Unrelated => "unrelated",
    }]
    .clone();
    let v = json!({"id": id});
    match op {
        Op::ReadContract => outcome(&send(gql, who, token, "query($id: ID!){ contract(id:$id){ id } }", v).await, &["contract"], false),
        Op::SeeCustomer => outcome(&send(gql, who, token, "query($id: ID!){ contract(id:$id){ customer{ company } } }", v).await, &["contract", "customer"], false),
        Op::UpdateContract => outcome(
            &send(gql, who, token, "mutation($id: ID!, $n: String!){ updateContract(id:$id, input:{name:$n}){ id } }", json!({"id": id, "n": format!("Renamed {who:?} {n}")})).await,
            &["updateContract"],
            false,
        ),
        Op::ListChildren => outcome(&send(gql, who, token, "query($id: ID!){ contract(id:$id){ children{ totalCount } } }", v).await, &["contract", "children"], true),
        Op::CreateTenant => outcome(
            &send(gql, who, token, "mutation($id: ID!, $n: String!){ createTenant(contractId:$id, input:{name:$n, region:\"jp1\"}){ id } }", json!({"id": id, "n": format!("t{n}")})).await,
            &["createTenant"],
            false,
        ),
        Op::ListTenants => outcome(&send(gql, who, token, "query($id: ID!){ contract(id:$id){ tenants{ totalCount } } }", v).await, &["contract", "tenants"], true),
        Op::CreateUser => outcome(
            &send(
                gql,
                who,
                token,
                "mutation($id: ID!, $l: String!){ createUser(contractId:$id, input:{loginId:$l, email:\"n@example.com\", password:\"User-pass-123\", role:USER}){ id } }",
                json!({"id": id, "l": format!("mx-new-{n}")}),
            )
            .await,
            &["createUser"],
            false,
        ),
        Op::ListUsers => outcome(&send(gql, who, token, "query($id: ID!){ contract(id:$id){ users{ totalCount } } }", v).await, &["contract", "users"], true),
        Op::ReadBill => outcome(&send(gql, who, token, "query($id: ID!){ contract(id:$id){ bill(month:\"2026-10\"){ status } } }", v).await, &["contract", "bill"], false),
    }
}

async fn walk(gql: &Gql) -> (usize, Vec<String>) {
    let w = build(gql).await;
    // Give every contract a tenant first, so "empty" means hidden, not absent.
    for key in ["partner", "child", "sibling", "unrelated"] {
        let op = &w.tokens[0].1;
        gql.q(Some(op), "mutation($id: ID!){ createTenant(contractId:$id, input:{name:\"seed\", region:\"jp1\"}){ id } }", json!({"id": w.ids[key]}))
            .await
            .data();
    }
    let ops = [
        Op::ReadContract,
        Op::SeeCustomer,
        Op::ListChildren,
        Op::ListTenants,
        Op::ListUsers,
        Op::UpdateContract,
        Op::CreateTenant,
        Op::CreateUser,
        Op::ReadBill,
    ];
    let targets = [
        Target::Partner,
        Target::Child,
        Target::Sibling,
        Target::Unrelated,
    ];
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for (who, token) in &w.tokens {
        for target in targets {
            for op in ops {
                cells += 1;
                let want = expected(*who, target, op);
                let got = run(gql, &w, *who, token, target, op, cells).await;
                if want != got {
                    mismatches.push(format!(
                        "{who:?} × {target:?} × {op:?}: expected {want:?}, got {got:?}"
                    ));
                }
            }
        }
    }
    (cells, mismatches)
}

/// Every cell of the matrix was tried, and each answered as the matrix says.
fn assert_matrix_holds((cells, mismatches): (usize, Vec<String>)) {
    assert_eq!(cells, (9 + SCOPES.len()) * 4 * 9);
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[actix_rt::test]
async fn authorization_matrix_embedded() {
    let (app, gql) = spawn_embedded().await;
    let seen = walk(&gql).await;
    app.stop().await;
    assert_matrix_holds(seen);
}

#[actix_rt::test]
async fn authorization_matrix_distributed() {
    let d = Distributed::start(&[
        "identity", "contract", "tenant", "metering", "billing", "gateway",
    ])
    .await;
    let seen = walk(&d.gateway()).await;
    d.cleanup().await;
    assert_matrix_holds(seen);
}
