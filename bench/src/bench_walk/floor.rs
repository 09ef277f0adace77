//! The floor: the walk answered by a plain async-graphql schema over the tree held in memory —
//! no bus, no services, no database, no DataLoader, no authentication.

use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};
use std::{collections::HashMap, sync::Arc};

#[derive(Default, Clone)]
pub struct Node {
    pub id: String,
    pub name: String,
    /// (id, name)
    pub tenants: Vec<(String, String)>,
    /// (id, login id)
    pub users: Vec<(String, String)>,
}

#[derive(Default, Clone)]
pub struct Tree {
    pub root: Node,
    pub children: Vec<Node>,
}

struct Data {
    contracts: HashMap<String, Arc<Node>>,
    children: HashMap<String, Vec<Arc<Node>>>,
}

pub struct Query;

#[Object]
impl Query {
    async fn contract(&self, ctx: &Context<'_>, id: ID) -> Option<Contract> {
        let data = ctx.data_unchecked::<Arc<Data>>();
        data.contracts.get(id.as_str()).cloned().map(Contract)
    }
}

pub struct Contract(Arc<Node>);

#[derive(SimpleObject)]
struct ContractEdge {
    node: Contract,
}
#[derive(SimpleObject)]
struct ContractConnection {
    edges: Vec<ContractEdge>,
    total_count: usize,
}
#[derive(SimpleObject)]
struct Tenant {
    id: ID,
    name: String,
}
#[derive(SimpleObject)]
struct TenantEdge {
    node: Tenant,
}
#[derive(SimpleObject)]
struct TenantConnection {
    edges: Vec<TenantEdge>,
    total_count: usize,
}
#[derive(SimpleObject)]
struct User {
    id: ID,
    login_id: String,
}
#[derive(SimpleObject)]
struct UserEdge {
    node: User,
}
#[derive(SimpleObject)]
struct UserConnection {
    edges: Vec<UserEdge>,
    total_count: usize,
}

#[Object]
impl Contract {
    async fn id(&self) -> ID {
        self.0.id.clone().into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn children(&self, ctx: &Context<'_>, first: Option<usize>) -> ContractConnection {
        let data = ctx.data_unchecked::<Arc<Data>>();
        let all = data
            .children
            .get(&self.0.id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        ContractConnection {
            edges: all
                .iter()
                .take(first.unwrap_or(20))
                .map(|c| ContractEdge {
                    node: Contract(c.clone()),
                })
                .collect(),
            total_count: all.len(),
        }
    }
    async fn tenants(&self, first: Option<usize>) -> TenantConnection {
        TenantConnection {
            edges: self
                .0
                .tenants
                .iter()
                .take(first.unwrap_or(20))
                .map(|(id, name)| TenantEdge {
                    node: Tenant {
                        id: id.clone().into(),
                        name: name.clone(),
                    },
                })
                .collect(),
            total_count: self.0.tenants.len(),
        }
    }
    async fn users(&self, first: Option<usize>) -> UserConnection {
        UserConnection {
            edges: self
                .0
                .users
                .iter()
                .take(first.unwrap_or(20))
                .map(|(id, login)| UserEdge {
                    node: User {
                        id: id.clone().into(),
                        login_id: login.clone(),
                    },
                })
                .collect(),
            total_count: self.0.users.len(),
        }
    }
}

/// Serves the floor schema over HTTP on 127.0.0.1, port 0; returns its address.
pub async fn serve(tree: Tree) -> anyhow::Result<std::net::SocketAddr> {
    let root = Arc::new(tree.root);
    let children: Vec<Arc<Node>> = tree.children.into_iter().map(Arc::new).collect();
    let mut contracts: HashMap<String, Arc<Node>> =
        children.iter().map(|c| (c.id.clone(), c.clone())).collect();
    contracts.insert(root.id.clone(), root.clone());
    let data = Arc::new(Data {
        contracts,
        children: HashMap::from([(root.id.clone(), children)]),
    });
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(data)
        .finish();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post_service(async_graphql_axum::GraphQL::new(schema)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
