//! A graphql-transport-ws client (`/graphql/ws`) for tests that watch a subscription while
//! other requests change things.

use super::Gql;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

pub struct Ws(WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>);

impl Ws {
    /// An acknowledged connection for `token`.
    pub async fn connect(gql: &Gql, token: &str) -> Ws {
        let url = format!("{}/graphql/ws", gql.base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket upgrade");
        let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
        socket
            .send(Message::Text(init.to_string().into()))
            .await
            .unwrap();
        let mut ws = Ws(socket);
        let ack = ws.recv(Duration::from_secs(10)).await;
        assert_eq!(
            ack.as_ref().map(|m| m["type"].clone()),
            Some(json!("connection_ack")),
            "{ack:?}"
        );
        ws
    }

    /// The next protocol message within `wait` (pings answered), `None` on timeout.
    pub async fn recv(&mut self, wait: Duration) -> Option<Value> {
        let until = Instant::now() + wait;
        loop {
            let left = until.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.0.next()).await.ok()?? {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "ping" {
                        let pong = json!({"type": "pong"}).to_string();
                        self.0.send(Message::Text(pong.into())).await.unwrap();
                        continue;
                    }
                    return Some(v);
                }
                Ok(Message::Close(f)) => panic!("closed: {f:?}"),
                Ok(_) => continue,
                Err(e) => panic!("WebSocket error: {e}"),
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let msg = json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}});
        self.0
            .send(Message::Text(msg.to_string().into()))
            .await
            .unwrap();
    }

    /// The data of the next `next` message within `wait` (panics on errors).
    pub async fn next_data(&mut self, wait: Duration) -> Option<Value> {
        let m = self.recv(wait).await?;
        assert_eq!(m["type"], "next", "{m}");
        assert!(m["payload"].get("errors").is_none(), "{m}");
        Some(m["payload"]["data"].clone())
    }
}
