//! The partner's tree read back (SPEC §9: cursor pagination on every list), page by page, in the
//! platform's order: the data the floor serves, so both answer the same.

use super::{floor, gql};
use serde_json::{Value, json};

/// The partner's whole tree as the platform shows its owner, page by page, in the platform's order.
pub(super) async fn fetch_tree(
    http: &reqwest::Client,
    url: &str,
    owner: &str,
    partner: &str,
) -> anyhow::Result<floor::Tree> {
    const PAGE_Q: &str = "query($id: ID!, $a: String) { contract(id: $id) { id name children(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id name tenants(first: 10) { edges { node { id name } } } users(first: 10) { edges { node { id loginId } } } } } } } }";
    let mut tree = floor::Tree::default();
    let mut after = Value::Null;
    loop {
        let v = gql(http, url, owner, PAGE_Q, json!({"id": partner, "a": after})).await?;
        let c = &v["data"]["contract"];
        tree.root = floor::Node {
            id: c["id"].as_str().unwrap_or_default().to_string(),
            name: c["name"].as_str().unwrap_or_default().to_string(),
            ..Default::default()
        };
        let page = &c["children"];
        for e in page["edges"].as_array().into_iter().flatten() {
            let n = &e["node"];
            let pairs = |field: &str, key: &str| -> Vec<(String, String)> {
                n[field]["edges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        (
                            e["node"]["id"].as_str().unwrap_or_default().to_string(),
                            e["node"][key].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            };
            tree.children.push(floor::Node {
                id: n["id"].as_str().unwrap_or_default().to_string(),
                name: n["name"].as_str().unwrap_or_default().to_string(),
                tenants: pairs("tenants", "name"),
                users: pairs("users", "loginId"),
            });
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    Ok(tree)
}
