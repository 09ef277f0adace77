//! Errors as the GraphQL spec says: a field that fails is `null` in `data` (and a non-null
//! field's null moves up to its nearest nullable parent), never left out; a request that cannot
//! run — malformed body, batch, syntax error, bad token — gets `{"errors": [...]}` with a code,
//! no `data`, no Rust debug text, valid `locations`, and the HTTP status of the README's table.

mod common;

use common::*;
use serde_json::{Value, json};

/// The raw HTTP answer of a POST to /graphql.
async fn post(gql: &Gql, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = gql
        .http
        .post(format!("{}/graphql", gql.base))
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// A refusal before anything ran: one coded error, no `data`, nothing Rust-internal.
fn assert_request_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], want_code, "{body}");
    let message = errors[0]["message"].as_str().unwrap();
    for debug in [
        "Error(",
        "Some(",
        "ParseRequestError",
        "InvalidRequest",
        "{ ",
        "\n",
    ] {
        assert!(
            !message.contains(debug),
            "debug text {debug:?} in {message:?}"
        );
    }
    assert_locations_valid(body);
}

/// Locations, where given, are 1-based line and column.
fn assert_locations_valid(body: &Value) {
    for e in body["errors"].as_array().into_iter().flatten() {
        for l in e["locations"].as_array().into_iter().flatten() {
            assert!(
                l["line"].as_u64().unwrap() >= 1 && l["column"].as_u64().unwrap() >= 1,
                "{body}"
            );
        }
    }
}

#[actix_rt::test]
async fn requests_that_cannot_run_get_a_coded_graphql_error() {
    let (app, gql) = spawn_embedded().await;

    let (s, b) = post(&gql, "{not json", &[JSON]).await;
    assert_request_error(s, &b, 400, "INVALID_INPUT");
    let (s, b) = post(&gql, r#"{"variables": {}}"#, &[JSON]).await;
    assert_request_error(s, &b, 400, "INVALID_INPUT");
    let (s, b) = post(
        &gql,
        r#"{"query": "{ __typename }", "variables": 5}"#,
        &[JSON],
    )
    .await;
    assert_request_error(s, &b, 400, "INVALID_INPUT");

    let (s, b) = post(
        &gql,
        r#"[{"query": "{ __typename }"}, {"query": "{ __typename }"}]"#,
        &[JSON],
    )
    .await;
    assert_request_error(s, &b, 400, "INVALID_INPUT");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batch")
    );

    // A syntax error points at where it is, 1-based.
    let (s, b) = post(&gql, r#"{"query": "{\n  me {\n    id\n"}"#, &[JSON]).await;
    assert_request_error(s, &b, 400, "INVALID_INPUT");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("syntax error")
    );
    assert_eq!(b["errors"][0]["locations"][0]["line"], 4, "{b}");

    // Validation errors: coded, located, nothing ran.
    let (s, b) = post(&gql, r#"{"query": "{ nope }"}"#, &[JSON]).await;
    assert_request_error(s, &b, 400, "INVALID_INPUT");
    assert_eq!(
        b["errors"][0]["locations"][0],
        json!({"line": 1, "column": 3})
    );

    let (s, b) = post(
        &gql,
        r#"{"query": "{ __typename }"}"#,
        &[("content-type", "text/plain")],
    )
    .await;
    assert_request_error(s, &b, 415, "INVALID_INPUT");

    for token in ["garbage", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"] {
        let (s, b) = post(
            &gql,
            r#"{"query": "{ me { id } }"}"#,
            &[JSON, ("authorization", &format!("Bearer {token}"))],
        )
        .await;
        assert_request_error(s, &b, 401, "UNAUTHENTICATED");
    }

    // A body over the limit.
    let big = format!(r#"{{"query": "{}"}}"#, "x".repeat(2 << 20));
    let (s, b) = post(&gql, &big, &[JSON]).await;
    assert_request_error(s, &b, 413, "INVALID_INPUT");

    // A well-formed request still runs, and the platform is fine.
    let (s, b) = post(&gql, r#"{"query": "{ __typename }"}"#, &[JSON]).await;
    assert_eq!((s, &b), (200, &json!({"data": {"__typename": "Query"}})));
    app.stop().await;
}

#[actix_rt::test]
async fn a_failed_field_is_null_in_place_and_non_null_failures_move_up() {
    let (app, gql) = spawn_embedded().await;
    let op = gql.operator().await;
    let id = gql
        .q(
            Some(&op),
            "mutation($i: ContractInput!){ createDirectContract(input:$i){ id } }",
            json!({"i": contract_input("Nulls", None, "nulls-owner")}),
        )
        .await
        .data()["createDirectContract"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // `bill` (nullable) fails: it is there, null, between its siblings, and its error has the
    // path and location of the field.
    let q = "query($id: ID!){ contract(id: $id) { id bill(month: \"2026-13\") { total } name } }";
    let r = gql.q(Some(&op), q, json!({"id": id})).await;
    assert_eq!(r.status, 200);
    let text = serde_json::to_string(&r.body["data"]).unwrap();
    assert_eq!(
        r.body["data"],
        json!({"contract": {"id": id, "bill": null, "name": "Nulls"}}),
        "{text}"
    );
    let e = &r.body["errors"][0];
    assert_eq!(e["path"], json!(["contract", "bill"]));
    assert_eq!(e["extensions"]["code"], "INVALID_INPUT");
    let column = q.find("bill(").unwrap() + 1;
    assert_eq!(e["locations"][0], json!({"line": 1, "column": column}));
    assert_locations_valid(&r.body);

    // Alone in its object, the object stays (async-graphql used to answer `contract: null`).
    let r = gql
        .q(
            Some(&op),
            "query($id: ID!){ contract(id: $id) { bill(month: \"bad\") { total } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"contract": {"bill": null}}),
        "{}",
        r.body
    );

    // A non-null field's failure nulls its nearest nullable parent: `contract` is `Contract!`,
    // the root is non-null, so `data` itself is null — and every error is still reported.
    let r = gql
        .q(
            Some(&op),
            "query($id: ID!){ a: contract(id: $id) { id } b: contract(id: \"econ0000000000\") { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(r.status, 200, "the operation ran");
    assert_eq!(r.body["data"], Value::Null, "{}", r.body);
    assert_eq!(r.body["errors"][0]["path"], json!(["b"]));
    assert_eq!(r.code(), "NOT_FOUND");

    // Anonymous `me` (non-null): data null, coded, 200.
    let r = gql.q(None, "{ me { id } }", json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (200, "UNAUTHENTICATED"));
    assert_eq!(r.body["data"], Value::Null);
    assert!(
        r.body.as_object().unwrap().contains_key("data"),
        "present, null"
    );
    app.stop().await;
}

/// The bad fields of one error, as `(field, message)` pairs in the order reported.
fn bad_fields(r: &Resp) -> Vec<String> {
    let errors = r.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "one error for the whole input: {}", r.body);
    let ext = &errors[0]["extensions"];
    assert_eq!(ext["code"], "INVALID_INPUT", "{}", r.body);
    let fields = ext["fields"].as_array().expect("extensions.fields");
    // The first also as `field`, for clients that read only one.
    assert_eq!(ext["field"], fields[0]["field"], "{}", r.body);
    fields
        .iter()
        .map(|f| {
            assert!(!f["message"].as_str().unwrap().is_empty(), "{f}");
            f["field"].as_str().unwrap().to_string()
        })
        .collect()
}

#[actix_rt::test]
async fn a_form_with_several_bad_fields_learns_them_all_and_nothing_is_stored() {
    let (app, gql) = spawn_embedded().await;
    let op = gql.operator().await;
    let count = "{ contracts { totalCount } }";
    let before = gql.q(Some(&op), count, json!({})).await.data()["contracts"]["totalCount"].clone();

    // Five bad fields, two of them the owner's (checked by identity, which owns user rules).
    let create = "mutation($i: ContractInput!){ createPartnerContract(input:$i){ id } }";
    let mut input = contract_input("Five", None, "five-owner");
    input["name"] = json!("   ");
    input["externalId"] = json!("not an id!");
    input["customer"]["contactEmail"] = json!("nope");
    input["owner"]["email"] = json!("also nope");
    input["owner"]["password"] = json!("short");
    let r = gql.q(Some(&op), create, json!({"i": input})).await;
    assert_eq!(
        bad_fields(&r),
        [
            "name",
            "externalId",
            "customer.contactEmail",
            "owner.email",
            "owner.password"
        ]
    );
    assert_eq!(r.body["data"], Value::Null, "{}", r.body);

    // Nothing was stored: no contract, and the owner's login id is still free.
    let after = gql.q(Some(&op), count, json!({})).await.data()["contracts"]["totalCount"].clone();
    assert_eq!(after, before);
    let ok = gql
        .q(
            Some(&op),
            create,
            json!({"i": contract_input("Five", None, "five-owner")}),
        )
        .await;
    let cid = ok.data()["createPartnerContract"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A tenant's two bad fields, at once as well; no tenant made.
    let r = gql
        .q(
            Some(&op),
            "mutation($c: ID!){ createTenant(contractId:$c, input:{name:\"\", region:\"nowhere\"}){ id } }",
            json!({"c": cid}),
        )
        .await;
    assert_eq!(bad_fields(&r), ["name", "region"]);
    let tenants = gql
        .q(
            Some(&op),
            "query($id: ID!){ contract(id:$id){ tenants { totalCount } } }",
            json!({"id": cid}),
        )
        .await;
    assert_eq!(tenants.data()["contract"]["tenants"]["totalCount"], 0);

    // One bad field is the same shape: a list of one.
    let mut input = contract_input("One", None, "one-owner");
    input["customer"]["contactEmail"] = json!("nope");
    let r = gql.q(Some(&op), create, json!({"i": input})).await;
    assert_eq!(bad_fields(&r), ["customer.contactEmail"]);
    app.stop().await;
}
