//! User management through the GraphQL API, embedded and distributed.

use crate::common;

use common::*;
use serde_json::json;

const CREATE_USER: &str = "mutation($c: ID!, $l: String!, $r: Role!){ createUser(contractId:$c, input:{loginId:$l, email:\"u@example.com\", password:\"User-pass-123\", role:$r}){ id loginId role canViewUsage contractId } }";
const UPDATE_USER: &str =
    "mutation($id: ID!, $i: UpdateUserInput!){ updateUser(id:$id, input:$i){ role canViewUsage } }";

/// What signing in gave after the password change: the old password's code, the new one's.
#[derive(Debug, PartialEq)]
struct AfterChange {
    old_password: String,
    new_password_signs_in: bool,
}

async fn users_flow(gql: &Gql) -> AfterChange {
    let op = gql.operator().await;
    let partner = gql
        .create_contract(&op, Kind::Partner, "Users Partner", "up-owner")
        .await;
    let pid = partner.id.clone();
    let owner = partner.owner(gql).await;
    let cid = gql
        .create_contract(&owner, Kind::ChildOf(&pid), "Users Child", "uc-owner")
        .await
        .id;

    // The partner's owner creates users in its own contract and in its child.
    let admin = gql
        .q(
            Some(&owner),
            CREATE_USER,
            json!({"c": pid, "l": "up-admin", "r": "ADMIN"}),
        )
        .await;
    assert_eq!(admin.data()["createUser"]["role"], "ADMIN");
    assert_eq!(admin.data()["createUser"]["canViewUsage"], true);
    let cuser = gql
        .q(
            Some(&owner),
            CREATE_USER,
            json!({"c": cid, "l": "uc-user", "r": "USER"}),
        )
        .await;
    let cuser_id = cuser.data()["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(cuser.data()["createUser"]["contractId"], cid.as_str());

    // Refusals change nothing.
    let c_owner = gql.sign_in("uc-owner", OWNER_PASSWORD).await;
    assert_eq!(
        gql.q(
            Some(&c_owner),
            CREATE_USER,
            json!({"c": pid, "l": "sneaky", "r": "ADMIN"})
        )
        .await
        .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        gql.q(
            Some(&owner),
            CREATE_USER,
            json!({"c": cid, "l": "second-owner", "r": "OWNER"})
        )
        .await
        .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        gql.q(
            Some(&owner),
            CREATE_USER,
            json!({"c": cid, "l": "uc-user", "r": "USER"})
        )
        .await
        .code(),
        "CONFLICT"
    );
    assert_eq!(
        gql.q(
            Some(&owner),
            CREATE_USER,
            json!({"c": cid, "l": "x", "r": "USER"})
        )
        .await
        .code(),
        "INVALID_INPUT"
    );
    let general = gql.sign_in("uc-user", "User-pass-123").await;
    assert_eq!(
        gql.q(
            Some(&general),
            CREATE_USER,
            json!({"c": cid, "l": "by-general", "r": "USER"})
        )
        .await
        .code(),
        "FORBIDDEN"
    );

    // The walk to users: one bus request per level.
    let walk = gql
        .raw(
            Some(&owner),
            "query($id: ID!){ contract(id:$id){ children{ edges{ node{ users{ totalCount edges{ node{ loginId role } } } } } } } }",
            json!({"id": pid}),
            &[("X-Ecl-Trace", "1")],
        )
        .await;
    let users = &walk.data()["contract"]["children"]["edges"][0]["node"]["users"];
    assert_eq!(users["totalCount"], 2, "{}", walk.body);
    // Every bus request counted, service-to-service ones included.
    assert_eq!(walk.body["extensions"]["busRequests"], 4);
    // A general user sees only themselves.
    let own = gql
        .q(
            Some(&general),
            "query($id: ID!){ contract(id:$id){ users{ totalCount edges{ node{ loginId } } } } }",
            json!({"id": cid}),
        )
        .await;
    assert_eq!(own.data()["contract"]["users"]["totalCount"], 1);
    assert_eq!(
        own.data()["contract"]["users"]["edges"][0]["node"]["loginId"],
        "uc-user"
    );

    // Changes: usage visibility and role; a role change ends the user's sessions.
    let unused = gql.sign_in("uc-user", "User-pass-123").await;
    let upd = gql
        .q(
            Some(&owner),
            UPDATE_USER,
            json!({"id": cuser_id, "i": {"canViewUsage": false, "role": "ADMIN"}}),
        )
        .await;
    assert_eq!(
        upd.data()["updateUser"],
        json!({"role": "ADMIN", "canViewUsage": false})
    );
    assert_eq!(
        gql.q(Some(&unused), "{ me { role } }", json!({}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        gql.q(
            Some(&owner),
            UPDATE_USER,
            json!({"id": cuser_id, "i": {"role": "OWNER"}})
        )
        .await
        .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        gql.q(Some(&owner), UPDATE_USER, json!({"id": "usr_bad", "i": {}}))
            .await
            .code(),
        "INVALID_INPUT"
    );

    // Delete: the owner cannot be deleted; a deleted user cannot sign in.
    let c_owner_id = gql
        .q(Some(&c_owner), "{ me { id } }", json!({}))
        .await
        .data()["me"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        gql.q(
            Some(&owner),
            "mutation($id: ID!){ deleteUser(id:$id){ id } }",
            json!({"id": c_owner_id})
        )
        .await
        .code(),
        "CONFLICT"
    );
    let before_delete = gql.sign_in("uc-user", "User-pass-123").await;
    assert_eq!(
        gql.q(
            Some(&owner),
            "mutation($id: ID!){ deleteUser(id:$id){ id } }",
            json!({"id": cuser_id})
        )
        .await
        .data()["deleteUser"]["id"],
        cuser_id.as_str(),
        "the payload names the deleted user"
    );
    assert_eq!(
        gql.q(Some(&before_delete), "{ me { id } }", json!({}))
            .await
            .code(),
        "UNAUTHENTICATED",
        "token of a deleted user"
    );
    let again = gql.try_sign_in("uc-user", "User-pass-123").await;
    assert_eq!(again.code(), "UNAUTHENTICATED");
    assert_eq!(
        gql.q(
            Some(&owner),
            "mutation($id: ID!){ deleteUser(id:$id){ id } }",
            json!({"id": cuser_id})
        )
        .await
        .code(),
        "NOT_FOUND"
    );

    // Own password: the current one is required, the policy applies, old sessions end.
    let a = gql.sign_in("up-admin", "User-pass-123").await;
    let chg = "mutation($o:String!,$n:String!){ changePassword(oldPassword:$o, newPassword:$n) }";
    assert_eq!(
        gql.q(
            Some(&a),
            chg,
            json!({"o": "Wrong-pass-1", "n": "New-pass-4567"})
        )
        .await
        .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        gql.q(Some(&a), chg, json!({"o": "User-pass-123", "n": "short"}))
            .await
            .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        gql.q(
            Some(&a),
            chg,
            json!({"o": "User-pass-123", "n": "New-pass-4567"})
        )
        .await
        .data()["changePassword"],
        true
    );
    assert_eq!(
        gql.q(Some(&a), "{ me { id } }", json!({})).await.code(),
        "UNAUTHENTICATED",
        "sessions end"
    );
    let old = gql.try_sign_in("up-admin", "User-pass-123").await;
    let new = gql.try_sign_in("up-admin", "New-pass-4567").await;
    AfterChange {
        old_password: old.code(),
        new_password_signs_in: new.body["data"]["signIn"]["accessToken"].is_string(),
    }
}

impl AfterChange {
    fn assert_only_the_new_password_signs_in(&self) {
        assert_eq!(
            self,
            &AfterChange {
                old_password: "UNAUTHENTICATED".into(),
                new_password_signs_in: true,
            }
        );
    }
}

#[actix_rt::test]
async fn users_embedded() {
    let (app, gql) = spawn_embedded().await;
    let after = users_flow(&gql).await;
    app.stop().await;
    after.assert_only_the_new_password_signs_in();
}

#[actix_rt::test]
async fn users_distributed() {
    let d = Distributed::start(&["identity", "contract", "tenant", "gateway"]).await;
    let after = users_flow(&d.gateway()).await;
    d.cleanup().await;
    after.assert_only_the_new_password_signs_in();
}

/// `Contract.users(filter:)`: by role, by a part of the login id or e-mail, by status (a user
/// locked out by failed sign-ins is `LOCKED`), applied by identity before pagination; bad
/// filters name every bad field.
/// Returns the fields an invalid filter was refused for (all of them at once).
async fn user_filters(gql: &Gql) -> Vec<String> {
    let op = gql.operator().await;
    let partner = gql
        .create_contract(&op, Kind::Partner, "Filter Partner", "fp-owner")
        .await;
    let owner = partner.owner(gql).await;
    for (login, role) in [
        ("fp-admin-1", "ADMIN"),
        ("fp-admin-2", "ADMIN"),
        ("fp_user", "USER"),
        ("fp-user-2", "USER"),
    ] {
        gql.create_member(&owner, &partner.id, login, role).await;
    }
    const USERS: &str = "query($id: ID!, $f: UserFilter, $n: Int, $a: String){ contract(id:$id){ users(filter:$f, first:$n, after:$a){ totalCount edges{ node{ loginId role status } } pageInfo{ hasNextPage endCursor } } } }";
    let logins = |r: &Resp| -> Vec<String> {
        r.data()["contract"]["users"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["loginId"].as_str().unwrap().to_string())
            .collect()
    };
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"role": "ADMIN"}, "n": 1}),
        )
        .await;
    assert_eq!(r.data()["contract"]["users"]["totalCount"], 2);
    assert_eq!(logins(&r), ["fp-admin-1"]);
    let after = r.data()["contract"]["users"]["pageInfo"]["endCursor"].clone();
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"role": "ADMIN"}, "n": 1, "a": after}),
        )
        .await;
    assert_eq!(logins(&r), ["fp-admin-2"]);
    assert_eq!(
        r.data()["contract"]["users"]["pageInfo"]["hasNextPage"],
        false
    );
    // A part of the login id or e-mail, any case; `_` is no wildcard.
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"search": "USER"}}),
        )
        .await;
    assert_eq!(logins(&r), ["fp_user", "fp-user-2"]);
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"search": "p_u"}}),
        )
        .await;
    assert_eq!(logins(&r), ["fp_user"]);
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"search": "OWNER@EXAMPLE", "role": "OWNER"}}),
        )
        .await;
    assert_eq!(logins(&r), ["fp-owner"]);
    // Locked out: five wrong passwords.
    for _ in 0..5 {
        let r = gql.try_sign_in("fp-user-2", "Wrong-pass-1").await;
        assert!(r.body.get("errors").is_some());
    }
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"status": "LOCKED"}}),
        )
        .await;
    assert_eq!(logins(&r), ["fp-user-2"]);
    assert_eq!(
        r.data()["contract"]["users"]["edges"][0]["node"]["status"],
        "LOCKED"
    );
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"status": "ACTIVE"}}),
        )
        .await;
    assert_eq!(r.data()["contract"]["users"]["totalCount"], 4);
    // Every bad field at once.
    let r = gql
        .q(
            Some(&owner),
            USERS,
            json!({"id": partner.id, "f": {"role": "OPERATOR", "search": "x".repeat(300)}}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_INPUT");
    r.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect()
}

#[actix_rt::test]
async fn user_filters_embedded() {
    let (app, gql) = spawn_embedded().await;
    let refused_for = user_filters(&gql).await;
    app.stop().await;
    assert_eq!(refused_for, ["filter.role", "filter.search"]);
}
