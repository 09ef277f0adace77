//! What partners earn and charge, end to end through the GraphQL API and the export route:
//! price rules and the end-user bill with provenance, coupons, tax settings, agency statements;
//! embedded (on a clock the test moves) and distributed (over RabbitMQ, PostgreSQL, Redis).

use crate::common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use ecl_kernel::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;

const RECORD: &str =
    "mutation($e: [UsageEventInput!]!){ recordUsage(events:$e){ id outcome code message } }";
const BILL: &str = "query($id: ID!, $m: Month!){ contract(id:$id){ bill(month:$m){ status subtotal taxPercent tax total lines{ kind label detail amount } } } }";
const END_USER_BILL: &str = "query($id: ID!, $m: Month!){ contract(id:$id){ endUserBill(month:$m){ status wholesaleSubtotal subtotal tax total lines{ kind label amount resourceId ruleId ruleKind wholesaleAmount } } } }";
const SET_RULE: &str = "mutation($p: ID!, $i: PriceRuleInput!){ setPriceRule(partnerId:$p, input:$i){ id kind scope effectiveFrom lastMonth } }";
const CLOSE: &str = "mutation($m: Month!){ closeMonth(month:$m){ month alreadyClosed } }";

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

async fn create(
    gql: &Gql,
    token: &str,
    mutation: &str,
    parent: Option<&str>,
    name: &str,
    login: &str,
) -> String {
    let (q, vars) = match parent {
        Some(p) => (
            format!(
                "mutation($p: ID!, $i: ContractInput!){{ {mutation}(parentId:$p, input:$i){{ id }} }}"
            ),
            json!({"p": p, "i": contract_input(name, None, login)}),
        ),
        None => (
            format!("mutation($i: ContractInput!){{ {mutation}(input:$i){{ id }} }}"),
            json!({"i": contract_input(name, None, login)}),
        ),
    };
    let r = gql.q(Some(token), &q, vars).await;
    r.data()[mutation]["id"].as_str().unwrap().to_string()
}

async fn tenant(gql: &Gql, token: &str, contract: &str, name: &str) -> String {
    let r = gql
        .q(
            Some(token),
            "mutation($id: ID!, $n: String!){ createTenant(contractId:$id, input:{name:$n, region:\"jp1\"}){ id } }",
            json!({"id": contract, "n": name}),
        )
        .await;
    r.data()["createTenant"]["id"].as_str().unwrap().to_string()
}

/// A resource of `menu`/`plan` running from `start` for `minutes` (or on, when `None`).
fn run(
    id: &str,
    tenant: &str,
    menu: &str,
    plan: &str,
    start: DateTime<Utc>,
    minutes: Option<i64>,
) -> Vec<Value> {
    let mut evs = vec![
        json!({"id": format!("{id}-start"), "tenantId": tenant, "resourceId": id, "menuCode": menu, "kind": "START", "at": start.to_rfc3339(), "plan": plan}),
    ];
    if let Some(m) = minutes {
        evs.push(json!({"id": format!("{id}-stop"), "tenantId": tenant, "resourceId": id, "menuCode": menu, "kind": "STOP", "at": (start + Duration::minutes(m)).to_rfc3339()}));
    }
    evs
}

/// Records events; metering learns of a new tenant from the tenant service's events, so this
/// waits (with a deadline) until none is refused as unknown.
async fn record(gql: &Gql, token: &str, events: Vec<Value>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = gql.q(Some(token), RECORD, json!({"e": events})).await;
        let results = r.data()["recordUsage"].as_array().unwrap().clone();
        if results
            .iter()
            .all(|x| x["outcome"] == "ACCEPTED" || x["outcome"] == "DUPLICATE")
        {
            return;
        }
        assert!(
            results
                .iter()
                .filter(|x| x["outcome"] == "REJECTED")
                .all(|x| x["code"] == "UNKNOWN_TENANT")
                && std::time::Instant::now() < deadline,
            "usage refused: {results:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits (with a deadline) until `f` holds of the bill of `contract` for `month`.
async fn bill_when(
    gql: &Gql,
    token: &str,
    contract: &str,
    month: &str,
    f: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = gql
            .q(Some(token), BILL, json!({"id": contract, "m": month}))
            .await;
        let b = r.data()["contract"]["bill"].clone();
        if f(&b) {
            return b;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bill never matched: {b}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn end_user_bill(gql: &Gql, token: &str, contract: &str, month: &str) -> Value {
    let r = gql
        .q(
            Some(token),
            END_USER_BILL,
            json!({"id": contract, "m": month}),
        )
        .await;
    r.data()["contract"]["endUserBill"].clone()
}

/// `Tenant.usage(month)` of each of a contract's tenants, as `token` sees them: the totals of
/// those shown (a tenant whose usage is hidden from the caller answers `null`).
async fn tenant_usage_totals(gql: &Gql, token: &str, contract: &str, month: &str) -> Vec<Value> {
    let r = gql
        .q(
            Some(token),
            "query($id: ID!, $m: Month!){ contract(id:$id){ tenants{ edges{ node{ usage(month:$m){ total lines{ amount } } } } } } }",
            json!({"id": contract, "m": month}),
        )
        .await;
    r.data()["contract"]["tenants"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["usage"]["total"].clone())
        .collect()
}

/// Σ of the shown tenant totals (JPY, integers).
fn sum_of(totals: &[Value]) -> i64 {
    totals
        .iter()
        .map(|t| t.as_str().expect("shown").parse::<i64>().unwrap())
        .sum()
}

async fn export(gql: &Gql, token: &str, contract: &str, month: &str, query: &str) -> (u16, String) {
    let r = gql
        .http
        .get(format!(
            "{}/exports/bills/{contract}/{month}.csv?{query}",
            gql.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn charge_lines(b: &Value) -> Vec<Value> {
    b["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "USAGE")
        .cloned()
        .collect()
}

/// What the partner scenario expects for resources running `minutes` (1000 embedded; 500
/// distributed, where the month so far may be short).
struct Expect {
    minutes: i64,
    /// compute, volume at wholesale; compute FIXED at 0.2; volume +20 %
    compute: &'static str,
    volume: &'static str,
    fixed: &'static str,
    marked_up: &'static str,
    partner_subtotal: &'static str,
    partner_total: &'static str,
    c1_wholesale: &'static str,
    c1: [&'static str; 3],
    c2: &'static str,
    margin: &'static str,
}

const THOUSAND: Expect = Expect {
    minutes: 1000,
    compute: "173.612000",
    volume: "14.881000",
    fixed: "200.000000",
    marked_up: "17.857200",
    // c1 floor(188.493) = 188, c2 14 → 202, tax 20
    partner_subtotal: "202",
    partner_total: "222",
    c1_wholesale: "188",
    // floor(217.8572) = 217, tax 21, total 238
    c1: ["217", "21", "238"],
    c2: "17",
    margin: "29",
};

const FIVE_HUNDRED: Expect = Expect {
    minutes: 500,
    compute: "86.806000",
    volume: "7.440500",
    fixed: "100.000000",
    marked_up: "8.928600",
    partner_subtotal: "101",
    partner_total: "111",
    c1_wholesale: "94",
    c1: ["108", "10", "118"],
    c2: "8",
    margin: "14",
};

/// The partner scenario on any platform, in month `m` (the clock's current month): a 20 %
/// markup on everything for all children, a FIXED price of one plan for one child.
async fn price_rules_scenario(
    gql: &Gql,
    m: &str,
    start: DateTime<Utc>,
    tag: &str,
    x: &Expect,
) -> (String, String) {
    let op = gql.operator().await;
    let partner = create(
        gql,
        &op,
        "createPartnerContract",
        None,
        "Reseller",
        &format!("{tag}-p-owner"),
    )
    .await;
    let other = create(
        gql,
        &op,
        "createPartnerContract",
        None,
        "Other reseller",
        &format!("{tag}-o-owner"),
    )
    .await;
    let p = gql.sign_in(&format!("{tag}-p-owner"), OWNER_PASSWORD).await;
    let o = gql.sign_in(&format!("{tag}-o-owner"), OWNER_PASSWORD).await;
    let c1 = create(
        gql,
        &p,
        "createChildContract",
        Some(&partner),
        "End user one",
        &format!("{tag}-c1-owner"),
    )
    .await;
    let c2 = create(
        gql,
        &p,
        "createChildContract",
        Some(&partner),
        "End user two",
        &format!("{tag}-c2-owner"),
    )
    .await;
    let other_child = create(
        gql,
        &o,
        "createChildContract",
        Some(&other),
        "Not yours",
        &format!("{tag}-x-owner"),
    )
    .await;
    let t1 = tenant(gql, &p, &c1, "t1").await;
    let t2 = tenant(gql, &p, &c2, "t2").await;
    let mut evs = run("vm1", &t1, "compute", "1CPU-4GB", start, Some(x.minutes));
    evs.extend(run("vol1", &t1, "volume", "15GB", start, Some(x.minutes)));
    evs.extend(run("vol2", &t2, "volume", "15GB", start, Some(x.minutes)));
    record(gql, &op, evs).await;
    // the partner's wholesale bill: its children's tenants
    let before = bill_when(gql, &p, &partner, m, |b| {
        b["subtotal"] == x.partner_subtotal
    })
    .await;

    let all = json!({"scope": "ALL", "kind": "MARKUP", "percent": "20", "effectiveFrom": m});
    let fixed = json!({"childId": c1, "scope": "MENU", "scopeValue": "compute", "kind": "FIXED", "plan": "1CPU-4GB", "unitPrice": "0.2", "effectiveFrom": m});
    let markup = gql
        .q(Some(&p), SET_RULE, json!({"p": partner, "i": all}))
        .await;
    let markup_id = markup.data()["setPriceRule"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let fix = gql
        .q(Some(&p), SET_RULE, json!({"p": partner, "i": fixed}))
        .await;
    let fixed_id = fix.data()["setPriceRule"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(fix.data()["setPriceRule"]["kind"], "FIXED");

    // bad input: coded, and nothing stored
    let past = Month::parse(m).unwrap().prev().to_string();
    for (input, partner_id, code) in [
        (
            json!({"scope": "ALL", "kind": "MARKUP", "percent": "100.5", "effectiveFrom": m}),
            &partner,
            "INVALID_INPUT",
        ),
        (
            json!({"scope": "ALL", "kind": "DISCOUNT", "percent": "-1", "effectiveFrom": m}),
            &partner,
            "INVALID_INPUT",
        ),
        (
            json!({"scope": "ALL", "kind": "MARKUP", "percent": "5", "effectiveFrom": past}),
            &partner,
            "INVALID_INPUT",
        ),
        (
            json!({"childId": other_child, "scope": "ALL", "kind": "MARKUP", "percent": "5", "effectiveFrom": m}),
            &partner,
            "INVALID_INPUT",
        ),
        (
            json!({"scope": "MENU", "scopeValue": "not-for-resale", "kind": "MARKUP", "percent": "5", "effectiveFrom": m}),
            &partner,
            "INVALID_INPUT",
        ),
        (
            json!({"scope": "ALL", "kind": "MARKUP", "percent": "5", "effectiveFrom": m}),
            &other,
            "NOT_FOUND",
        ),
    ] {
        let r = gql
            .q(Some(&p), SET_RULE, json!({"p": partner_id, "i": input}))
            .await;
        assert_eq!(r.code(), code, "{input}: {}", r.body);
    }
    let rules = gql
        .q(Some(&p), "query($id: ID!){ contract(id:$id){ priceRules(first: 10){ totalCount edges{ node{ id kind } } } } }", json!({"id": partner}))
        .await;
    assert_eq!(rules.data()["contract"]["priceRules"]["totalCount"], 2);
    // newest first; backward from the end gives the oldest, and the page before it the newest
    let newest = rules.data()["contract"]["priceRules"]["edges"][0]["node"]["id"].clone();
    let oldest = rules.data()["contract"]["priceRules"]["edges"][1]["node"]["id"].clone();
    const RULES_BACK: &str = "query($id: ID!, $b: String){ contract(id:$id){ priceRules(last: 1, before: $b){ edges{ node{ id } } pageInfo{ hasPreviousPage hasNextPage startCursor } } } }";
    let r = gql.q(Some(&p), RULES_BACK, json!({"id": partner})).await;
    let page = &r.data()["contract"]["priceRules"];
    assert_eq!(page["edges"][0]["node"]["id"], oldest);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
    let start = page["pageInfo"]["startCursor"].clone();
    let r = gql
        .q(Some(&p), RULES_BACK, json!({"id": partner, "b": start}))
        .await;
    let page = &r.data()["contract"]["priceRules"];
    assert_eq!(page["edges"][0]["node"]["id"], newest);
    assert_eq!(
        (
            &page["pageInfo"]["hasPreviousPage"],
            &page["pageInfo"]["hasNextPage"]
        ),
        (&json!(false), &json!(true))
    );

    // c1: compute at the FIXED 0.2, volume at +20 %
    let eu = end_user_bill(gql, &p, &c1, m).await;
    assert_eq!(eu["wholesaleSubtotal"], x.c1_wholesale);
    assert_eq!(
        [&eu["subtotal"], &eu["tax"], &eu["total"]],
        x.c1.map(|v| json!(v)).each_ref()
    );
    let lines = charge_lines(&eu);
    let line = |rid: &str| {
        lines
            .iter()
            .find(|l| l["resourceId"] == rid)
            .unwrap()
            .clone()
    };
    let (vm, vol) = (line("vm1"), line("vol1"));
    assert_eq!(
        (&vm["amount"], &vm["wholesaleAmount"]),
        (&json!(x.fixed), &json!(x.compute))
    );
    assert_eq!(
        (&vm["ruleId"], &vm["ruleKind"]),
        (&json!(fixed_id), &json!("FIXED"))
    );
    assert_eq!(
        (&vol["amount"], &vol["wholesaleAmount"]),
        (&json!(x.marked_up), &json!(x.volume))
    );
    assert_eq!(
        (&vol["ruleId"], &vol["ruleKind"]),
        (&json!(markup_id), &json!("MARKUP"))
    );
    // c2: the partner-wide markup only
    let eu2 = end_user_bill(gql, &p, &c2, m).await;
    assert_eq!(charge_lines(&eu2)[0]["ruleId"], json!(markup_id));
    assert_eq!(eu2["subtotal"], x.c2);

    // the partner's own bill is unchanged
    let after = bill_when(gql, &p, &partner, m, |_| true).await;
    assert_eq!(after["total"], before["total"]);
    assert_eq!(after["total"], x.partner_total);

    // the detail CSV at end-user prices, with the provenance columns
    let (status, csv) = export(gql, &p, &c1, m, "format=detail&price=end-user").await;
    assert_eq!(status, 200, "{csv}");
    let mut rows = csv.lines();
    assert!(
        rows.next()
            .unwrap()
            .ends_with("Price Rule ID,Price Rule Kind,Wholesale Amount")
    );
    let vm_row = csv
        .lines()
        .find(|r| r.contains("vm1") && r.contains(x.fixed))
        .expect("compute row");
    assert!(
        vm_row.ends_with(&format!("{fixed_id},FIXED,{}", x.compute)),
        "{vm_row}"
    );
    let (status, _) = export(gql, &p, &c1, m, "format=detail&price=retail").await;
    assert_eq!(status, 400);

    // margins per child
    let r = gql.q(Some(&p), "query($id: ID!, $m: Month!){ contract(id:$id){ margins(month:$m){ childId wholesale endUser margin } } }", json!({"id": partner, "m": m})).await;
    let margins = r.data()["contract"]["margins"].as_array().unwrap().clone();
    let m1 = margins.iter().find(|x| x["childId"] == json!(c1)).unwrap();
    assert_eq!(
        (&m1["wholesale"], &m1["endUser"], &m1["margin"]),
        (&json!(x.c1_wholesale), &json!(x.c1[0]), &json!(x.margin))
    );

    // the child's owner sees the end-user bill by default, as its `bill` and its exports too;
    // the partner keeps seeing the wholesale bill as `bill`
    let c1_owner = gql
        .sign_in(&format!("{tag}-c1-owner"), OWNER_PASSWORD)
        .await;
    assert_eq!(
        end_user_bill(gql, &c1_owner, &c1, m).await["total"],
        x.c1[2]
    );
    let own = bill_when(gql, &c1_owner, &c1, m, |_| true).await;
    assert_eq!(
        [&own["subtotal"], &own["tax"], &own["total"]],
        x.c1.map(|v| json!(v)).each_ref(),
        "{own}"
    );
    assert!(
        own["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "PLAN" && l["amount"] == x.fixed),
        "{own}"
    );
    let wholesale = bill_when(gql, &p, &c1, m, |_| true).await;
    assert_eq!(wholesale["subtotal"], x.c1_wholesale);
    // its tenants' usage too is at end-user prices for its own users, wholesale for the partner
    let own_usage = tenant_usage_totals(gql, &c1_owner, &c1, m).await;
    assert_eq!(
        json!(sum_of(&own_usage).to_string()),
        own["subtotal"],
        "{own_usage:?}"
    );
    let partner_usage = tenant_usage_totals(gql, &p, &c1, m).await;
    assert_eq!(
        json!(sum_of(&partner_usage).to_string()),
        x.c1_wholesale,
        "{partner_usage:?}"
    );
    let (status, csv) = export(gql, &c1_owner, &c1, m, "format=summary").await;
    assert_eq!(status, 200, "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("total,") && l.contains(&format!(",{},", x.c1[2]))),
        "{csv}"
    );
    let bills = "query($id: ID!){ contract(id:$id){ bills(first: 3){ totalCount edges{ node{ total } } } } }";
    let r = gql.q(Some(&c1_owner), bills, json!({"id": c1})).await;
    assert_eq!(
        r.data()["contract"]["bills"]["edges"][0]["node"]["total"],
        x.c1[2]
    );
    let r = gql
        .q(
            Some(&p),
            "mutation($c: ID!){ setChildBillVisibility(childId:$c, view: NONE){ view } }",
            json!({"c": c1}),
        )
        .await;
    assert_eq!(r.data()["setChildBillVisibility"]["view"], "NONE");
    assert_eq!(end_user_bill(gql, &c1_owner, &c1, m).await, Value::Null);
    // shown nothing: no bill, no bills, no export; the partner still sees both
    let r = gql
        .q(Some(&c1_owner), BILL, json!({"id": c1, "m": m}))
        .await;
    assert_eq!(r.data()["contract"]["bill"], Value::Null, "{}", r.body);
    let r = gql.q(Some(&c1_owner), bills, json!({"id": c1})).await;
    assert_eq!(r.data()["contract"]["bills"]["totalCount"], 0, "{}", r.body);
    let (status, body) = export(gql, &c1_owner, &c1, m, "format=detail").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("FORBIDDEN"), "{body}");
    let hidden = tenant_usage_totals(gql, &c1_owner, &c1, m).await;
    assert!(
        !hidden.is_empty() && hidden.iter().all(Value::is_null),
        "{hidden:?}"
    );
    assert_eq!(
        bill_when(gql, &p, &c1, m, |_| true).await["subtotal"],
        x.c1_wholesale
    );
    assert_eq!(end_user_bill(gql, &p, &c1, m).await["total"], x.c1[2]);
    // shown the wholesale bill: the child's users see what the partner pays for them
    let r = gql
        .q(
            Some(&p),
            "mutation($c: ID!){ setChildBillVisibility(childId:$c, view: WHOLESALE){ view } }",
            json!({"c": c1}),
        )
        .await;
    assert_eq!(r.data()["setChildBillVisibility"]["view"], "WHOLESALE");
    let own = bill_when(gql, &c1_owner, &c1, m, |_| true).await;
    assert_eq!(own["subtotal"], x.c1_wholesale, "{own}");
    let shown = tenant_usage_totals(gql, &c1_owner, &c1, m).await;
    assert_eq!(
        json!(sum_of(&shown).to_string()),
        x.c1_wholesale,
        "{shown:?}"
    );
    assert_eq!(end_user_bill(gql, &c1_owner, &c1, m).await, Value::Null);
    let r = gql
        .q(
            Some(&c1_owner),
            "mutation($c: ID!){ setChildBillVisibility(childId:$c, view: END_USER){ view } }",
            json!({"c": c1}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    (partner, c1)
}

use ecl_billing::rating::Month;

#[actix_rt::test]
async fn partner_prices_its_children_end_user_bill_with_provenance_and_close_keeps_it() {
    let clock = ManualClock::default();
    clock.set(at(2026, 3, 20));
    let (_app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let op = gql.operator().await;
    // a menu a child may not use, for the "not resellable" refusal
    let menu = json!({"code": "not-for-resale", "category": "Dedicated", "name": "Dedicated", "unit": "MINUTE", "pattern": "PAYG", "currency": "JPY", "resellable": false, "effectiveFrom": "2026-01", "plans": [{"plan": "p", "unitPrice": "1"}]});
    let r = gql
        .q(
            Some(&op),
            "mutation($i: MenuInput!){ upsertMenu(input:$i){ code } }",
            json!({"i": menu}),
        )
        .await;
    r.data();
    let (partner, c1) = price_rules_scenario(&gql, "2026-03", at(2026, 3, 1), "e", &THOUSAND).await;

    // a rule set in April does not touch March; March closed keeps its end-user bill
    clock.set(at(2026, 4, 2));
    let p = gql.sign_in("e-p-owner", OWNER_PASSWORD).await;
    let op = gql.operator().await;
    let r = gql.q(Some(&p), SET_RULE, json!({"p": partner, "i": {"scope": "ALL", "kind": "MARKUP", "percent": "50", "effectiveFrom": "2026-04"}})).await;
    r.data();
    let r = gql.q(Some(&op), CLOSE, json!({"m": "2026-03"})).await;
    assert_eq!(r.data()["closeMonth"]["alreadyClosed"], false);
    let fixed = end_user_bill(&gql, &p, &c1, "2026-03").await;
    assert_eq!(fixed["status"], "FIXED");
    assert_eq!(fixed["total"], "238");
    // the older ALL rule ended the month before the new one
    let rules = gql
        .q(Some(&p), "query($id: ID!){ contract(id:$id){ priceRules(first: 10){ edges{ node{ scope effectiveFrom lastMonth } } } } }", json!({"id": partner}))
        .await;
    let ends: Vec<Value> = rules.data()["contract"]["priceRules"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["scope"] == "ALL")
        .map(|e| e["node"]["lastMonth"].clone())
        .collect();
    assert_eq!(ends, [Value::Null, json!("2026-03")]);
}

#[actix_rt::test]
async fn a_coupon_registered_in_march_applies_from_april_for_its_months_only() {
    let clock = ManualClock::default();
    clock.set(at(2026, 3, 10));
    let (_app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let op = gql.operator().await;
    let d = create(
        &gql,
        &op,
        "createDirectContract",
        None,
        "Coupon Co",
        "cp-owner",
    )
    .await;
    let owner = gql.sign_in("cp-owner", OWNER_PASSWORD).await;
    let t = tenant(&gql, &owner, &d, "t").await;
    // compute runs all along: capped at 7000 a month
    record(
        &gql,
        &op,
        run("vm", &t, "compute", "1CPU-4GB", at(2026, 3, 1), None),
    )
    .await;
    const CREATE: &str =
        "mutation($i: CouponInput!){ createCoupon(input:$i){ code kind percent months } }";
    let r = gql
        .q(
            Some(&op),
            CREATE,
            json!({"i": {"code": "APRIL10PCT26", "kind": "PERCENT", "percent": "10", "months": 1}}),
        )
        .await;
    assert_eq!(r.data()["createCoupon"]["months"], 1);
    let r = gql.q(Some(&op), CREATE, json!({"i": {"code": "OLDCOUPON001", "kind": "PERCENT", "percent": "5", "months": 1, "registerUntil": at(2026, 3, 1).to_rfc3339()}})).await;
    r.data();
    for bad in [
        json!({"code": "TOOMUCH00001", "kind": "PERCENT", "percent": "101", "months": 1}),
        json!({"code": "short", "kind": "PERCENT", "percent": "1", "months": 1}),
    ] {
        assert_eq!(
            gql.q(Some(&op), CREATE, json!({"i": bad})).await.code(),
            "INVALID_INPUT"
        );
    }
    assert_eq!(
        gql.q(
            Some(&owner),
            CREATE,
            json!({"i": {"code": "MINE00000001", "kind": "PERCENT", "percent": "1", "months": 1}})
        )
        .await
        .code(),
        "FORBIDDEN"
    );

    const REGISTER: &str = "mutation($c: ID!, $code: String!){ registerCoupon(contractId:$c, code:$code){ firstMonth lastMonth coupon{ code } } }";
    for (code, err) in [
        ("APRIL10PCT2", "INVALID_INPUT"),   // 11 characters
        ("APRIL10PCT266", "INVALID_INPUT"), // 13
        ("april10pct26", "INVALID_INPUT"),  // lower case
        ("UNKNOWN00000", "INVALID_INPUT"),
        ("OLDCOUPON001", "INVALID_INPUT"), // expired
    ] {
        let r = gql
            .q(Some(&owner), REGISTER, json!({"c": d, "code": code}))
            .await;
        assert_eq!(r.code(), err, "{code}");
    }
    let r = gql
        .q(
            Some(&owner),
            REGISTER,
            json!({"c": d, "code": "APRIL10PCT26"}),
        )
        .await;
    let reg = &r.data()["registerCoupon"];
    assert_eq!(
        (&reg["firstMonth"], &reg["lastMonth"]),
        (&json!("2026-04"), &json!("2026-04"))
    );
    let r = gql
        .q(
            Some(&owner),
            REGISTER,
            json!({"c": d, "code": "APRIL10PCT26"}),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    let r = gql
        .q(
            Some(&owner),
            "query($id: ID!){ contract(id:$id){ coupons{ coupon{ code } firstMonth } } }",
            json!({"id": d}),
        )
        .await;
    assert_eq!(r.data()["contract"]["coupons"].as_array().unwrap().len(), 1);

    clock.set(at(2026, 6, 2));
    let op = gql.operator().await;
    let owner = gql.sign_in("cp-owner", OWNER_PASSWORD).await;
    for m in ["2026-03", "2026-04", "2026-05"] {
        gql.q(Some(&op), CLOSE, json!({"m": m})).await.data();
    }
    let totals: Vec<(Value, Value)> = {
        let mut v = Vec::new();
        for m in ["2026-03", "2026-04", "2026-05"] {
            let b = bill_when(&gql, &owner, &d, m, |_| true).await;
            let adj: Vec<Value> = b["lines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["kind"] == "ADJUSTMENT")
                .map(|l| l["amount"].clone())
                .collect();
            v.push((json!(adj), b["total"].clone()));
        }
        v
    };
    assert_eq!(
        totals,
        [
            (json!([]), json!("7700")),
            // 7000 − 700, tax 10 % of 6300
            (json!(["-700"]), json!("6930")),
            (json!([]), json!("7700")),
        ]
    );
    // the coupon is a negative line of all three CSVs, before the tax, and each adds up
    let (status, summary) = export(&gql, &owner, &d, "2026-04", "format=summary").await;
    assert_eq!(status, 200, "{summary}");
    let rows: Vec<&str> = summary.lines().collect();
    let coupon = rows
        .iter()
        .position(|r| r.starts_with("coupon,"))
        .expect("coupon row");
    assert!(rows[coupon].contains(",-700,JPY,"), "{summary}");
    assert!(
        rows[coupon + 1].starts_with("tax,") && rows[coupon + 1].contains(",630,"),
        "{summary}"
    );
    let (_, detail) = export(&gql, &owner, &d, "2026-04", "format=detail").await;
    let amounts: Vec<rust_decimal::Decimal> = detail
        .lines()
        .skip(1)
        .map(|r| r.split(',').nth(17).unwrap().parse().unwrap())
        .collect();
    assert!(
        detail.lines().any(|r| r.starts_with("coupon,")
            && r.contains("APRIL10PCT26")
            && r.contains(",-700,")),
        "{detail}"
    );
    assert_eq!(
        amounts.iter().sum::<rust_decimal::Decimal>(),
        rust_decimal::Decimal::from(6930)
    );
    let (_, legacy) = export(&gql, &owner, &d, "2026-04", "format=legacy").await;
    let items: Vec<&str> = legacy
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("3"))
        .collect();
    let coupon = items
        .iter()
        .position(|l| l.contains(",2,\"  クーポン値引\",\"APRIL10PCT26\",\"\",\"-700\""))
        .unwrap_or_else(|| panic!("{legacy}"));
    assert!(items[coupon + 1].contains("消費税相当額"), "{legacy}");
    assert!(items[0].ends_with(",\"6930\""), "{legacy}");
}

#[actix_rt::test]
async fn a_usd_contract_is_taxed_at_its_setting() {
    let clock = ManualClock::default();
    clock.set(at(2026, 4, 2));
    let (_app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let op = gql.operator().await;
    let d = create(
        &gql,
        &op,
        "createDirectContract",
        None,
        "Dollar Inc",
        "usd-owner",
    )
    .await;
    let owner = gql.sign_in("usd-owner", OWNER_PASSWORD).await;
    let t = tenant(&gql, &owner, &d, "t").await;
    // a whole March of a 15GB volume: capped at 6.60
    record(
        &gql,
        &op,
        run("vol", &t, "volume-usd", "15GB", at(2026, 3, 1), None),
    )
    .await;
    let b = bill_when(&gql, &owner, &d, "2026-03", |b| b["subtotal"] == "6.60").await;
    assert_eq!(
        (&b["taxPercent"], &b["total"]),
        (&json!("0"), &json!("6.60"))
    );
    const SET: &str = "mutation($c: ID!, $i: TaxSettingInput!){ setTaxSetting(contractId:$c, input:$i){ kind percent } }";
    for (input, who, code) in [
        (
            json!({"currency": "JPY", "kind": "RATE", "percent": "5"}),
            &op,
            "INVALID_INPUT",
        ),
        (
            json!({"currency": "USD", "kind": "RATE", "percent": "101"}),
            &op,
            "INVALID_INPUT",
        ),
        (
            json!({"currency": "USD", "kind": "RATE", "percent": "5"}),
            &owner,
            "FORBIDDEN",
        ),
    ] {
        assert_eq!(
            gql.q(Some(who), SET, json!({"c": d, "i": input}))
                .await
                .code(),
            code
        );
    }
    let b = bill_when(&gql, &owner, &d, "2026-03", |_| true).await;
    assert_eq!(b["taxPercent"], "0", "a refused setting changed nothing");
    let r = gql
        .q(
            Some(&op),
            SET,
            json!({"c": d, "i": {"currency": "USD", "kind": "RATE", "percent": "7.5"}}),
        )
        .await;
    assert_eq!(r.data()["setTaxSetting"]["percent"], "7.5");
    // 6.60 × 7.5 % = 0.495 → 0.49
    let b = bill_when(&gql, &owner, &d, "2026-03", |_| true).await;
    assert_eq!(
        (&b["taxPercent"], &b["tax"], &b["total"]),
        (&json!("7.5"), &json!("0.49"), &json!("7.09"))
    );
    gql.q(Some(&op), CLOSE, json!({"m": "2026-03"}))
        .await
        .data();
    let b = bill_when(&gql, &owner, &d, "2026-03", |b| b["status"] == "FIXED").await;
    assert_eq!(b["total"], "7.09");
}

#[actix_rt::test]
async fn an_agency_sees_its_statements_of_two_closed_months_and_nothing_else() {
    let clock = ManualClock::default();
    clock.set(at(2026, 1, 5));
    let (_app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let op = gql.operator().await;
    const AGENCY: &str = "mutation($i: AgencyInput!){ createAgency(input:$i){ contract{ id } agreement{ ratePercent } } }";
    let bad =
        json!({"contract": contract_input("Bad agency", None, "bad-ag"), "ratePercent": "120"});
    assert_eq!(
        gql.q(Some(&op), AGENCY, json!({"i": bad})).await.code(),
        "INVALID_INPUT"
    );
    let r = gql
        .q(
            None,
            "mutation{ signIn(loginId:\"bad-ag\", password:\"Owner-pass-1\"){ accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "bad terms created no contract");
    let r = gql.q(Some(&op), AGENCY, json!({"i": {"contract": contract_input("Agency", None, "ag-owner"), "ratePercent": "10"}})).await;
    let agency = r.data()["createAgency"]["contract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    const DIRECT: &str =
        "mutation($i: ContractInput!){ createDirectContract(input:$i){ id name } }";
    let mut i = contract_input("Referred Co", None, "ref-owner");
    i["referredBy"] = json!(agency);
    let r = gql.q(Some(&op), DIRECT, json!({"i": i})).await;
    let referred = r.data()["createDirectContract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut i = contract_input("Wrong Co", None, "wrong-owner");
    i["referredBy"] = json!(referred);
    assert_eq!(
        gql.q(Some(&op), DIRECT, json!({"i": i})).await.code(),
        "INVALID_INPUT"
    );

    let owner = gql.sign_in("ref-owner", OWNER_PASSWORD).await;
    let t = tenant(&gql, &owner, &referred, "t").await;
    // January 173.612 → 173; February 2000 min → 347.224 → 347
    record(
        &gql,
        &op,
        run("jan", &t, "compute", "1CPU-4GB", at(2026, 1, 1), Some(1000)),
    )
    .await;
    clock.set(at(2026, 2, 10));
    let op = gql.operator().await;
    record(
        &gql,
        &op,
        run("feb", &t, "compute", "1CPU-4GB", at(2026, 2, 1), Some(2000)),
    )
    .await;
    clock.set(at(2026, 3, 5));
    let op = gql.operator().await;
    for m in ["2026-01", "2026-02"] {
        gql.q(Some(&op), CLOSE, json!({"m": m})).await.data();
    }
    let ag = gql.sign_in("ag-owner", OWNER_PASSWORD).await;
    let r = gql
        .q(Some(&ag), "query($id: ID!){ contract(id:$id){ commissions(first: 5){ totalCount edges{ node{ month lines{ kind contractId contractName billMonth base commission } totals{ currency amount } } } } } }", json!({"id": agency}))
        .await;
    let c = &r.data()["contract"]["commissions"];
    assert_eq!(c["totalCount"], 2);
    let node = |i: usize| c["edges"][i]["node"].clone();
    assert_eq!(node(0)["month"], "2026-02");
    assert_eq!(node(0)["lines"][0]["contractName"], "Referred Co");
    assert_eq!(
        (
            &node(0)["lines"][0]["base"],
            &node(0)["lines"][0]["commission"]
        ),
        (&json!("347"), &json!("34"))
    );
    assert_eq!(
        (
            &node(1)["lines"][0]["base"],
            &node(1)["lines"][0]["commission"]
        ),
        (&json!("173"), &json!("17"))
    );
    assert_eq!(node(1)["totals"][0]["amount"], "17");
    // the agency sees nothing else of the referred contract
    let r = gql
        .q(
            Some(&ag),
            "query($id: ID!){ contract(id:$id){ id } }",
            json!({"id": referred}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = gql
        .q(
            Some(&owner),
            "query($id: ID!){ contract(id:$id){ commissions(first: 5){ totalCount } } }",
            json!({"id": agency}),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

const COMMISSIONS: &str = "query($id: ID!){ contract(id:$id){ commissions(first: 5){ totalCount edges{ node{ month lines{ kind contractId contractName billMonth base commission } totals{ currency amount } } } } } }";
const CORRECT: &str = "mutation($c: ID!, $m: Month!, $i: BillCorrectionInput!){ correctBill(contractId:$c, month:$m, input:$i){ correction{ id contractId month amount currency reason } bill{ status subtotal tax total lines{ kind label detail amount } } } }";

/// How the platform of the agency scenario reaches its months: embedded, the test moves the
/// clock; distributed, the clock is the wall's, so the scenario's months are the three before the
/// current one, and the referral (made now) is back-dated in the database to the first of them,
/// as if the agency had referred the contract then.
#[derive(Clone, Copy)]
enum Platform<'a> {
    Embedded(&'a ManualClock),
    Distributed(&'a Distributed),
}

/// The agency's statements, newest first: (month, lines as (kind, bill month, base, commission),
/// totals as (currency, amount)).
async fn statements(gql: &Gql, token: &str, agency: &str) -> Vec<Value> {
    let r = gql.q(Some(token), COMMISSIONS, json!({"id": agency})).await;
    let c = &r.data()["contract"]["commissions"];
    c["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            let lines: Vec<Value> = n["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| json!([l["kind"], l["billMonth"], l["base"], l["commission"]]))
                .collect();
            let totals: Vec<Value> = n["totals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| json!([t["currency"], t["amount"]]))
                .collect();
            json!([n["month"], lines, totals])
        })
        .collect()
}

/// The lines of a bill of `kind`, as (label, amount).
fn lines_of(b: &Value, kind: &str) -> Vec<(String, String)> {
    b["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == kind)
        .map(|l| {
            (
                l["label"].as_str().unwrap().to_string(),
                l["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An agency at 10 %, a contract it referred with usage in two months (173.612 → 173, then
/// 347.224 → 347), both months closed: commissions of 17 and 34. Then bad corrections, each
/// refused with nothing stored; the operator credits the first month's bill 100 (173 → 73 before
/// tax, tax 7, total 80: its lines and its three CSVs add up), and the third month's close claws
/// back 17 − 7 = 10 = 100 × 10 % on the agency's statement.
async fn agency_statement_with_a_clawback(
    gql: &Gql,
    platform: Platform<'_>,
    p: &str,
    m: [Month; 3],
) -> Vec<Value> {
    let [first, second, third] = m.map(|x| x.to_string());
    let op = gql.operator().await;
    const AGENCY: &str = "mutation($i: AgencyInput!){ createAgency(input:$i){ contract{ id } agreement{ ratePercent } } }";
    let (ag_login, ref_login) = (format!("{p}-ag-owner"), format!("{p}-ref-owner"));
    let r = gql.q(Some(&op), AGENCY, json!({"i": {"contract": contract_input("Agency", None, &ag_login), "ratePercent": "10"}})).await;
    let agency = r.data()["createAgency"]["contract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut i = contract_input("Referred Co", None, &ref_login);
    i["referredBy"] = json!(agency);
    let r = gql
        .q(
            Some(&op),
            "mutation($i: ContractInput!){ createDirectContract(input:$i){ id } }",
            json!({"i": i}),
        )
        .await;
    let referred = r.data()["createDirectContract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let owner = gql.sign_in(&ref_login, OWNER_PASSWORD).await;
    let t = tenant(gql, &owner, &referred, "t").await;
    match platform {
        // referred in the first month; both months' usage is recorded from the third
        Platform::Embedded(clock) => clock.set(m[2].start() + Duration::days(4)),
        Platform::Distributed(d) => {
            use sea_orm::ConnectionTrait;
            let db = d.database().await;
            let now = Month::containing(Utc::now());
            db.execute_unprepared(&format!(
                "UPDATE billing.agency_referrals SET month = '{first}', \
                 body = replace(body, '\"first_month\":\"{now}\"', '\"first_month\":\"{first}\"') \
                 WHERE id = '{referred}'"
            ))
            .await
            .unwrap();
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!("SELECT body FROM billing.agency_referrals WHERE id = '{referred}'"),
                ))
                .await
                .unwrap()
                .unwrap();
            let body: String = row.try_get("", "body").unwrap();
            assert!(
                body.contains(&format!("\"first_month\":\"{first}\"")),
                "{body}"
            );
            db.close().await.ok();
        }
    }
    let op = gql.operator().await;
    let owner = gql.sign_in(&ref_login, OWNER_PASSWORD).await;
    record(
        gql,
        &op,
        run(
            &format!("{p}-m1"),
            &t,
            "compute",
            "1CPU-4GB",
            m[0].start(),
            Some(1000),
        ),
    )
    .await;
    record(
        gql,
        &op,
        run(
            &format!("{p}-m2"),
            &t,
            "compute",
            "1CPU-4GB",
            m[1].start(),
            Some(2000),
        ),
    )
    .await;
    bill_when(gql, &owner, &referred, &first, |b| b["subtotal"] == "173").await;
    bill_when(gql, &owner, &referred, &second, |b| b["subtotal"] == "347").await;
    for month in [&first, &second] {
        gql.q(Some(&op), CLOSE, json!({"m": month})).await.data();
    }
    let ag = gql.sign_in(&ag_login, OWNER_PASSWORD).await;
    assert_eq!(
        statements(gql, &ag, &agency).await,
        [
            json!([
                second,
                [["COMMISSION", second, "347", "34"]],
                [["JPY", "34"]]
            ]),
            json!([first, [["COMMISSION", first, "173", "17"]], [["JPY", "17"]]]),
        ]
    );

    // bad corrections: each refused, nothing stored
    let correct = |token: String, contract: String, month: String, amount: &str, reason: &str| {
        let vars = json!({"c": contract, "m": month, "i": {"amount": amount, "reason": reason}});
        async move { gql.q(Some(&token), CORRECT, vars).await }
    };
    let reason = "Goodwill credit for the outage";
    let (long, unknown) = ("x".repeat(201), "econ9999999999".to_string());
    for (token, contract, month, amount, why, code, field) in [
        // only operators correct bills: not the customer, not the agency
        (&owner, &referred, &first, "-100", reason, "FORBIDDEN", None),
        (&ag, &referred, &first, "-100", reason, "FORBIDDEN", None),
        // the third month is not closed
        (&op, &referred, &third, "-100", reason, "CONFLICT", None),
        // 173 before tax: a credit of 174 would take it below zero
        (
            &op,
            &referred,
            &first,
            "-174",
            reason,
            "INVALID_INPUT",
            Some("amount"),
        ),
        (
            &op,
            &referred,
            &first,
            "0",
            reason,
            "INVALID_INPUT",
            Some("amount"),
        ),
        // less than one yen
        (
            &op,
            &referred,
            &first,
            "-0.5",
            reason,
            "INVALID_INPUT",
            Some("amount"),
        ),
        (
            &op,
            &referred,
            &first,
            "-100",
            "   ",
            "INVALID_INPUT",
            Some("reason"),
        ),
        (
            &op,
            &referred,
            &first,
            "-100",
            long.as_str(),
            "INVALID_INPUT",
            Some("reason"),
        ),
        (&op, &unknown, &first, "-100", reason, "NOT_FOUND", None),
    ] {
        let r = correct(token.clone(), contract.clone(), month.clone(), amount, why).await;
        assert_eq!(r.code(), code, "{amount} {why:?}: {}", r.body);
        if let Some(f) = field {
            assert_eq!(r.body["errors"][0]["extensions"]["field"], f, "{}", r.body);
        }
    }
    let b = bill_when(gql, &owner, &referred, &first, |_| true).await;
    assert_eq!(
        (&b["status"], &b["total"]),
        (&json!("FIXED"), &json!("190"))
    );
    assert!(lines_of(&b, "ADJUSTMENT").is_empty(), "{b}");

    // the operator credits the first month 100
    let r = correct(op.clone(), referred.clone(), first.clone(), "-100", reason).await;
    let c = r.data()["correctBill"].clone();
    assert_eq!(
        (
            &c["correction"]["amount"],
            &c["correction"]["currency"],
            &c["correction"]["reason"],
            &c["correction"]["month"]
        ),
        (&json!("-100"), &json!("JPY"), &json!(reason), &json!(first))
    );
    let id = c["correction"]["id"].as_str().unwrap().to_string();
    // subtotal 173 (the tenants'), 173 − 100 = 73 before tax, tax 10 % → 7, total 80
    let expect = |b: &Value| {
        assert_eq!(
            (&b["status"], &b["subtotal"], &b["tax"], &b["total"]),
            (&json!("FIXED"), &json!("173"), &json!("7"), &json!("80")),
            "{b}"
        );
        assert_eq!(
            lines_of(b, "ADJUSTMENT"),
            [("請求訂正".to_string(), "-100".to_string())],
            "{b}"
        );
        assert_eq!(lines_of(b, "TAX")[0].1, "7");
        assert_eq!(lines_of(b, "CONTRACT")[0].1, "80");
        let detail = b["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["kind"] == "ADJUSTMENT")
            .unwrap()["detail"]
            .clone();
        assert_eq!(detail, json!(format!("Id:{id}, Reason:{reason}")));
    };
    expect(&c["bill"]);
    // the customer reads the same corrected bill
    expect(&bill_when(gql, &owner, &referred, &first, |_| true).await);
    // and owes the corrected total: 80 − 30 paid = 50
    let r = gql
        .q(
            Some(&op),
            "mutation($i: RecordPaymentInput!){ recordPayment(input:$i){ outstanding } }",
            json!({"i": {"contractId": referred, "month": first, "amount": "30", "paidAt": Utc::now().to_rfc3339()}}),
        )
        .await;
    assert_eq!(r.data()["recordPayment"]["outstanding"], "50", "{}", r.body);

    // the correction is in all three CSVs, before the tax, and each adds up to 80
    let (status, summary) = export(gql, &owner, &referred, &first, "format=summary").await;
    assert_eq!(status, 200, "{summary}");
    let rows: Vec<&str> = summary.lines().collect();
    let at = rows
        .iter()
        .position(|r| r.starts_with("correction,"))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(rows[at].contains(",-100,JPY,"), "{summary}");
    assert!(
        rows[at + 1].starts_with("tax,") && rows[at + 1].contains(",7,"),
        "{summary}"
    );
    assert!(
        rows[at + 2].starts_with("total,") && rows[at + 2].contains(",80,"),
        "{summary}"
    );
    let money = |r: &str| {
        r.split(',')
            .nth(5)
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let parts: rust_decimal::Decimal = rows[1..rows.len() - 1].iter().map(|r| money(r)).sum();
    assert_eq!(parts, rust_decimal::Decimal::from(80), "{summary}");
    let (_, detail) = export(gql, &owner, &referred, &first, "format=detail").await;
    assert!(
        detail.lines().any(|r| r.starts_with("correction,")
            && r.contains(&id)
            && r.contains(reason)
            && r.contains(",-100,")),
        "{detail}"
    );
    let amounts: rust_decimal::Decimal = detail
        .lines()
        .skip(1)
        .map(|r| {
            r.split(',')
                .nth(17)
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(amounts, rust_decimal::Decimal::from(80), "{detail}");
    let (_, legacy) = export(gql, &owner, &referred, &first, "format=legacy").await;
    let items: Vec<&str> = legacy
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("3"))
        .collect();
    let at = items
        .iter()
        .position(|l| l.contains(",2,\"  請求訂正\",") && l.ends_with(",\"\",\"-100\""))
        .unwrap_or_else(|| panic!("{legacy}"));
    assert!(
        items[at + 1].contains("消費税相当額") && items[at + 1].ends_with(",\"7\""),
        "{legacy}"
    );
    assert!(items[0].ends_with(",\"80\""), "{legacy}");
    let last = |l: &str| {
        l.rsplit(',')
            .next()
            .unwrap()
            .trim_matches('"')
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let tier2: rust_decimal::Decimal = items
        .iter()
        .filter(|l| l.split(',').nth(2) == Some("2"))
        .map(|l| last(l))
        .sum();
    assert_eq!(tier2, rust_decimal::Decimal::from(80), "{legacy}");

    // the third month closed: its statement claws back what the credit took off the first
    let op = match platform {
        Platform::Embedded(clock) => {
            clock.set(m[2].next().start() + Duration::days(1));
            gql.operator().await
        }
        Platform::Distributed(_) => op,
    };
    gql.q(Some(&op), CLOSE, json!({"m": third})).await.data();
    // nothing was billed to the referred contract in the third month: nothing to correct
    let r = correct(op.clone(), referred.clone(), third.clone(), "10", reason).await;
    assert_eq!(r.code(), "CONFLICT", "{}", r.body);
    let ag = gql.sign_in(&ag_login, OWNER_PASSWORD).await;
    statements(gql, &ag, &agency).await
}

/// The agency's statements after the three closes, newest first: the third has only the
/// clawback, −100 × 10 % = −10 (the commission on 73, 7, less the one paid on 173, 17).
fn statements_with_a_clawback(m: [Month; 3]) -> Vec<Value> {
    let [first, second, third] = m.map(|x| x.to_string());
    vec![
        json!([
            third,
            [["CLAWBACK", first, "-100", "-10"]],
            [["JPY", "-10"]]
        ]),
        json!([
            second,
            [["COMMISSION", second, "347", "34"]],
            [["JPY", "34"]]
        ]),
        json!([first, [["COMMISSION", first, "173", "17"]], [["JPY", "17"]]]),
    ]
}

#[actix_rt::test]
async fn an_agency_s_third_statement_claws_back_the_operator_s_credit_on_a_referred_bill() {
    let clock = ManualClock::default();
    clock.set(at(2026, 1, 5));
    let (_app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let months = ["2026-01", "2026-02", "2026-03"].map(|m| Month::parse(m).unwrap());
    let all = agency_statement_with_a_clawback(&gql, Platform::Embedded(&clock), "e", months).await;
    assert_eq!(all, statements_with_a_clawback(months));
}

#[actix_rt::test]
async fn distributed_an_agency_s_third_statement_claws_back_the_operator_s_credit() {
    let d = Distributed::start(&[
        "identity", "contract", "tenant", "metering", "billing", "gateway",
    ])
    .await;
    let gql = d.gateway();
    let this = Month::containing(Utc::now());
    let first = this.prev().prev().prev();
    let months = [first, first.next(), first.next().next()];
    let all = agency_statement_with_a_clawback(&gql, Platform::Distributed(&d), "d", months).await;
    d.cleanup().await;
    assert_eq!(all, statements_with_a_clawback(months));
}

#[actix_rt::test]
async fn distributed_partner_prices_its_children_end_user_bill() {
    let d = Distributed::start(&[
        "identity", "contract", "tenant", "metering", "billing", "gateway",
    ])
    .await;
    let gql = d.gateway();
    let now = Utc::now();
    let m = Month::containing(now);
    let op = gql.operator().await;
    let menu = json!({"code": "not-for-resale", "category": "Dedicated", "name": "Dedicated", "unit": "MINUTE", "pattern": "PAYG", "currency": "JPY", "resellable": false, "effectiveFrom": m.to_string(), "plans": [{"plan": "p", "unitPrice": "1"}]});
    gql.q(
        Some(&op),
        "mutation($i: MenuInput!){ upsertMenu(input:$i){ code } }",
        json!({"i": menu}),
    )
    .await
    .data();
    let (partner, c1) =
        price_rules_scenario(&gql, &m.to_string(), m.start(), "d", &FIVE_HUNDRED).await;
    // what the partner earns on the child, read back over the distributed platform
    let p = gql.sign_in("d-p-owner", OWNER_PASSWORD).await;
    let r = gql.q(Some(&p), "query($id: ID!, $m: Month!){ contract(id:$id){ margins(month:$m){ childId wholesale endUser margin } } }", json!({"id": partner, "m": m.to_string()})).await;
    let margins = r.data()["contract"]["margins"].clone();
    d.cleanup().await;
    let m1 = margins
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["childId"] == json!(c1))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&m1["wholesale"], &m1["endUser"], &m1["margin"]),
        (
            &json!(FIVE_HUNDRED.c1_wholesale),
            &json!(FIVE_HUNDRED.c1[0]),
            &json!(FIVE_HUNDRED.margin)
        ),
        "{margins}"
    );
}

/// The commercial fields of every child on a page: one bus request per field and level however
/// many children, so 25 children cost what 2 do.
const WALK: &str = "query($id: ID!, $m: Month!){ contract(id:$id){ priceRules(first: 5){ totalCount } margins(month:$m){ childId margin } children(first: 30){ edges{ node{ id endUserBill(month:$m){ total lines{ kind ruleKind } } margins(month:$m){ margin } coupons{ firstMonth } priceRules(first: 2){ totalCount } commissions(first: 2){ totalCount } } } } } }";

async fn commercial_walk(gql: &Gql, token: &str, partner: &str, m: &str, children: usize) -> u64 {
    let walk = gql
        .raw(
            Some(token),
            WALK,
            json!({"id": partner, "m": m}),
            &[("x-ecl-trace", "1")],
        )
        .await;
    assert!(walk.body.get("errors").is_none(), "{}", walk.body);
    let c = &walk.body["data"]["contract"];
    let edges = c["children"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), children, "{}", walk.body);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["endUserBill"]["total"].is_string()),
        "{}",
        walk.body
    );
    assert_eq!(c["margins"].as_array().unwrap().len(), children);
    walk.body["extensions"]["busRequests"].as_u64().unwrap()
}

#[actix_rt::test]
async fn the_commercial_fields_of_a_page_of_children_cost_a_constant_number_of_requests() {
    let clock = ManualClock::default();
    clock.set(at(2026, 3, 20));
    let (_app, gql) = spawn_embedded_with_clock(Arc::new(clock.clone())).await;
    let op = gql.operator().await;
    let partner = create(
        &gql,
        &op,
        "createPartnerContract",
        None,
        "Walker",
        "w-p-owner",
    )
    .await;
    let p = gql.sign_in("w-p-owner", OWNER_PASSWORD).await;
    let rule =
        json!({"scope": "ALL", "kind": "MARKUP", "percent": "20", "effectiveFrom": "2026-03"});
    gql.q(Some(&p), SET_RULE, json!({"p": partner, "i": rule}))
        .await
        .data();
    let mut counts = Vec::new();
    let mut made = 0;
    for n in [2, 25] {
        let mut events = Vec::new();
        for i in made..n {
            let c = create(
                &gql,
                &p,
                "createChildContract",
                Some(&partner),
                &format!("Walk child {i}"),
                &format!("w-c{i}-owner"),
            )
            .await;
            let t = tenant(&gql, &p, &c, &format!("t{i}")).await;
            events.extend(run(
                &format!("vm{i}"),
                &t,
                "compute",
                "1CPU-4GB",
                at(2026, 3, 1),
                Some(100),
            ));
        }
        made = n;
        record(&gql, &op, events).await;
        counts.push(commercial_walk(&gql, &p, &partner, "2026-03", n).await);
    }
    eprintln!(
        "commercial walk bus requests: 2 children {}, 25 children {}",
        counts[0], counts[1]
    );
    assert_eq!(
        counts[0], counts[1],
        "the requests do not grow with the children"
    );
    // 18 today (the gateway's loaders, the contract service's visibility answers, one usage
    // request per end-user batch): fewer is welcome, more is a loader or a batch lost
    assert!(counts[0] <= 18, "{counts:?}");
}
