//! Seeding the walk's tree through the public API only (SPEC §2, §3, §4: a partner, its children,
//! their tenants and users, each created as a portal would): the operator creates the partner, its
//! owner creates the children, each with 3 tenants and 4 users (its owner and three more),
//! `--seed-concurrency` at once.

use super::{OPERATOR_PASSWORD, PASSWORD, WalkArgs, gql};
use anyhow::Context as _;
use futures::{StreamExt, stream};
use serde_json::{Value, json};
use std::time::Instant;

/// Creates the partner (by the operator), signs its owner in and creates the children with their
/// tenants and users, all through the GraphQL API. Returns (partner id, owner's token).
pub(super) async fn seed(
    http: &reqwest::Client,
    url: &str,
    args: &WalkArgs,
    what: &str,
) -> anyhow::Result<(String, String)> {
    let started = Instant::now();
    let sign_in =
        "mutation($l: String!, $p: String!) { signIn(loginId: $l, password: $p) { accessToken } }";
    let token = |v: Value| {
        v["data"]["signIn"]["accessToken"]
            .as_str()
            .map(str::to_string)
            .context("no access token")
    };
    let op = token(
        gql(
            http,
            url,
            "",
            sign_in,
            json!({"l": "operator", "p": OPERATOR_PASSWORD}),
        )
        .await?,
    )?;
    let partner = gql(
        http,
        url,
        &op,
        "mutation($i: ContractInput!) { createPartnerContract(input: $i) { id } }",
        json!({"i": contract_input("Walk Partner", "walk-owner")}),
    )
    .await?["data"]["createPartnerContract"]["id"]
        .as_str()
        .context("no partner id")?
        .to_string();
    let owner = token(
        gql(
            http,
            url,
            "",
            sign_in,
            json!({"l": "walk-owner", "p": PASSWORD}),
        )
        .await?,
    )?;

    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<anyhow::Result<()>> = stream::iter(0..args.children)
        .map(|i| {
            let (owner, partner, done) = (&owner, &partner, &done);
            async move {
                let child = gql(
                    http,
                    url,
                    owner,
                    "mutation($p: ID!, $i: ContractInput!) { createChildContract(parentId: $p, input: $i) { id } }",
                    json!({"p": partner, "i": contract_input(&format!("Walk child {i:04}"), &format!("w{i:04}-owner"))}),
                )
                .await?["data"]["createChildContract"]["id"]
                    .as_str()
                    .context("no child id")?
                    .to_string();
                for t in 0..3 {
                    gql(
                        http,
                        url,
                        owner,
                        "mutation($c: ID!, $n: String!) { createTenant(contractId: $c, input: { name: $n, region: \"jp1\" }) { id } }",
                        json!({"c": child, "n": format!("tenant-{i:04}-{t}")}),
                    )
                    .await?;
                }
                for u in 1..4 {
                    let login = format!("w{i:04}-user{u}");
                    gql(
                        http,
                        url,
                        owner,
                        "mutation($c: ID!, $i: UserInput!) { createUser(contractId: $c, input: $i) { id } }",
                        json!({"c": child, "i": {"loginId": login, "email": format!("{login}@example.com"), "password": PASSWORD, "role": "USER"}}),
                    )
                    .await?;
                }
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if n % 100 == 0 {
                    eprintln!("{what}: seeded {n} children ({:.0}s)", started.elapsed().as_secs_f64());
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(args.seed_concurrency.max(1))
        .collect()
        .await;
    for r in results {
        r?;
    }
    eprintln!(
        "{what}: seeded 1 partner, {} children, {} tenants, {} users through the API in {:.0}s",
        args.children,
        args.children * 3,
        args.children * 4 + 1,
        started.elapsed().as_secs_f64()
    );
    Ok((partner, owner))
}

pub(crate) fn contract_input(name: &str, owner_login: &str) -> Value {
    json!({
        "name": name,
        "customer": {"company": format!("{name} K.K."), "contactEmail": "contact@example.com"},
        "owner": {"loginId": owner_login, "email": format!("{owner_login}@example.com"), "password": PASSWORD}
    })
}
