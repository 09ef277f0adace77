//! The walk's requests (SPEC §9: one GraphQL endpoint; a bounded number of service round-trips per
//! query): one GraphQL request that fails on any error, and the walk itself, traced, with the bus
//! requests the platform made for it (`extensions.busRequests`).

use super::WALK;
use anyhow::{bail, ensure};
use serde_json::{Value, json};

/// One GraphQL request; fails on transport errors and on GraphQL errors.
pub(crate) async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> anyhow::Result<Value> {
    let mut req = http
        .post(url)
        .json(&json!({"query": query, "variables": vars}));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let v: Value = req.send().await?.json().await?;
    if v.get("errors").is_some() {
        bail!("query failed: {v}");
    }
    Ok(v)
}

/// The walk, traced: the answer and its `extensions.busRequests`.
pub(super) async fn walk(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    partner: &str,
    first: usize,
) -> anyhow::Result<(Value, Option<u64>)> {
    let query = WALK.replace("first: 100", &format!("first: {first}"));
    let mut req = http
        .post(url)
        .header("X-Ecl-Trace", "1")
        .json(&json!({"query": query, "variables": {"id": partner}}));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let v: Value = req.send().await?.json().await?;
    ensure!(v.get("errors").is_none(), "walk failed: {v}");
    let edges = v["data"]["contract"]["children"]["edges"]
        .as_array()
        .map(Vec::len);
    ensure!(edges.is_some(), "walk answered no children: {v}");
    let n = v["extensions"]["busRequests"].as_u64();
    Ok((v, n))
}
