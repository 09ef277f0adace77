//! Live updates: the `Subscription` root and the hub that feeds it.
//!
//! Each gateway process holds ONE per-process bus subscription (fan-out: every gateway replica gets
//! every event, unlike services, whose replicas share a queue) that feeds a bounded broadcast
//! channel; every open GraphQL subscription is a receiver of that channel filtering what concerns
//! it. So a thousand WebSocket clients cost one AMQP queue, not a thousand. A receiver that falls
//! more than [`CAPACITY`] events behind is told so and its subscription ends (the client
//! subscribes again): memory stays bounded whatever a slow client does.

use super::common::RequestState;
use crate::errors::gql;
use async_graphql::{Context, Enum, ID, SimpleObject, Subscription};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ecl_bus::{Bus, CallCtx, EventEnvelope, EventHandler};
use ecl_kernel::{AppError, Principal};
use ecl_proto::{
    Event,
    billing::EstimateChanged,
    contract::{ContractChange, ContractChanged, ContractKind, GetContract, GetContracts},
    identity::{UserCreated, UserDeleted},
    notification::NoticePublished,
    tenant::{TenantChange, TenantChanged},
};
use futures::Stream;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::sync::broadcast;

/// Events the hub keeps for its slowest receiver before that receiver is dropped.
pub const CAPACITY: usize = 1024;
/// Contracts a subscription remembers as "in / not in my tree" before it forgets them all.
const KNOWN_LIMIT: usize = 10_000;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ContractEventKind {
    ContractCreated,
    ContractUpdated,
    ContractAbolished,
    TenantCreated,
    /// Renamed or moved to another workspace (`updateTenant`).
    TenantUpdated,
    TenantDeleted,
    UserCreated,
    UserDeleted,
}

/// A change in a contract: to the contract itself, or to one of its tenants or users.
#[derive(SimpleObject, Clone, Debug)]
pub struct ContractEvent {
    pub kind: ContractEventKind,
    /// The contract concerned (for a partner's subscription: the partner or one of its children).
    pub contract_id: ID,
    /// Set for tenant events.
    pub tenant_id: Option<ID>,
    /// Set for user events.
    pub user_id: Option<ID>,
    /// When the change was committed.
    pub at: super::scalars::DateTime,
}

impl ContractEvent {
    /// The GraphQL view of a bus event; `None` for events no subscription is about.
    fn decode(ev: &EventEnvelope) -> Option<ContractEvent> {
        use ContractEventKind as K;
        let (kind, contract_id, tenant_id, user_id) = match ev.topic.as_str() {
            ContractChanged::TOPIC => {
                let e: ContractChanged = serde_json::from_slice(&ev.body).ok()?;
                let kind = match e.change {
                    ContractChange::Created => K::ContractCreated,
                    ContractChange::Updated => K::ContractUpdated,
                    ContractChange::Abolished => K::ContractAbolished,
                };
                (kind, e.contract.id, None, None)
            }
            TenantChanged::TOPIC => {
                let e: TenantChanged = serde_json::from_slice(&ev.body).ok()?;
                let kind = match e.change {
                    TenantChange::Created => K::TenantCreated,
                    TenantChange::Updated => K::TenantUpdated,
                    TenantChange::Deleted => K::TenantDeleted,
                };
                (kind, e.tenant.contract_id, Some(e.tenant.id), None)
            }
            UserCreated::TOPIC => {
                let e: UserCreated = serde_json::from_slice(&ev.body).ok()?;
                (K::UserCreated, e.user.contract_id?, None, Some(e.user.id))
            }
            UserDeleted::TOPIC => {
                let e: UserDeleted = serde_json::from_slice(&ev.body).ok()?;
                (K::UserDeleted, e.contract_id?, None, Some(e.user_id))
            }
            _ => return None,
        };
        Some(ContractEvent {
            kind,
            contract_id: contract_id.into(),
            tenant_id: tenant_id.map(Into::into),
            user_id: user_id.map(Into::into),
            at: committed_at(&ev.id).unwrap_or_else(Utc::now).into(),
        })
    }
}

/// Event ids are UUIDv7 minted by the outbox when the change was committed: their timestamp is the
/// change's time.
fn committed_at(id: &str) -> Option<DateTime<Utc>> {
    let (secs, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    DateTime::from_timestamp(secs as i64, nanos)
}

/// The process's one source of live events (cheap to clone): contract changes, published notices
/// (with who receives them, as the notification service decided) and bill estimate hints.
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<ContractEvent>,
    pub(crate) notices: broadcast::Sender<Arc<NoticePublished>>,
    pub(crate) estimates: broadcast::Sender<Arc<EstimateChanged>>,
    pub(crate) bus: Bus,
    pub(crate) timeout: Duration,
}

impl Hub {
    /// Opens the process's per-process bus subscription. `timeout` bounds the bus requests that
    /// subscriptions make later (membership checks).
    pub async fn start(bus: &Bus, timeout: Duration) -> anyhow::Result<Hub> {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (notices, _) = broadcast::channel(CAPACITY);
        let (estimates, _) = broadcast::channel(CAPACITY);
        let feed = Feed {
            contracts: tx.clone(),
            notices: notices.clone(),
            estimates: estimates.clone(),
        };
        bus.transport()
            .subscribe_ephemeral(
                &[
                    ContractChanged::TOPIC,
                    TenantChanged::TOPIC,
                    UserCreated::TOPIC,
                    UserDeleted::TOPIC,
                    NoticePublished::TOPIC,
                    EstimateChanged::TOPIC,
                ],
                Arc::new(feed),
            )
            .await?;
        Ok(Hub {
            tx,
            notices,
            estimates,
            bus: bus.clone(),
            timeout,
        })
    }
}

struct Feed {
    contracts: broadcast::Sender<ContractEvent>,
    notices: broadcast::Sender<Arc<NoticePublished>>,
    estimates: broadcast::Sender<Arc<EstimateChanged>>,
}

/// Decodes `ev` for `tx`'s receivers, if it has any (bursts of events are common: nobody
/// subscribed in this process means no decoding). No receiver is fine: live events are not kept.
fn pass<E: Event>(tx: &broadcast::Sender<Arc<E>>, ev: &EventEnvelope) {
    if tx.receiver_count() > 0
        && let Ok(e) = serde_json::from_slice::<E>(&ev.body)
    {
        let _ = tx.send(Arc::new(e));
    }
}

#[async_trait]
impl EventHandler for Feed {
    async fn handle(&self, ev: EventEnvelope) -> Result<(), AppError> {
        match ev.topic.as_str() {
            NoticePublished::TOPIC => pass(&self.notices, &ev),
            EstimateChanged::TOPIC => pass(&self.estimates, &ev),
            _ => {
                if self.contracts.receiver_count() == 0 {
                    return Ok(());
                }
                if let Some(e) = ContractEvent::decode(&ev) {
                    let _ = self.contracts.send(e);
                }
            }
        }
        Ok(())
    }
}

/// What one subscription lets through: its contract and, for a partner the caller may see the
/// children of, those children. Membership of other contracts is asked once each of the contract
/// service as the caller (so visibility rules stay there) and remembered: a contract's parent never
/// changes.
struct Scope {
    root: String,
    children: bool,
    known: HashMap<String, (bool, std::time::Instant)>,
    principal: Principal,
    hub: Hub,
}

/// How long a verdict on whether the subscriber sees a contract is reused. Short, so a change of
/// the subscriber's contract groups (or of the tree) takes effect on an open subscription within
/// a second, without reconnecting (issue 9).
const VERDICT_TTL: Duration = Duration::from_secs(1);

impl Scope {
    async fn includes(&mut self, ev: &ContractEvent) -> bool {
        let id = ev.contract_id.as_str();
        let is_root = id == self.root;
        if !is_root && !self.children {
            return false;
        }
        if let Some(&(known, at)) = self.known.get(id)
            && at.elapsed() < VERDICT_TTL
        {
            return known;
        }
        // The contract service judges, with the subscriber's own principal: the root itself (the
        // subscriber may have lost sight of it) or a child of the root it sees.
        let ctx = CallCtx::new(self.principal.clone(), self.hub.timeout);
        let req = GetContracts {
            ids: vec![id.to_string()],
        };
        let inside = match self.hub.bus.call(&ctx, &req).await {
            // Absent = the caller may not see it.
            Ok(views) => views.iter().any(|v| {
                v.id == id && (is_root || v.parent_id.as_deref() == Some(self.root.as_str()))
            }),
            Err(e) => {
                tracing::warn!(contract = id, "live event dropped, membership unknown: {e}");
                return false;
            }
        };
        if self.known.len() >= KNOWN_LIMIT {
            self.known.clear();
        }
        self.known
            .insert(id.to_string(), (inside, std::time::Instant::now()));
        inside
    }
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// Changes to a contract, its tenants and its users — and, for a partner contract, to its
    /// children (those the caller may see) — as they are committed. Over WebSocket only
    /// (graphql-transport-ws at `/graphql/ws`). Whether the caller may see the contract is checked
    /// once, when subscribing (`NOT_FOUND` otherwise). A subscriber that falls more than 1,024
    /// events behind gets an `UNAVAILABLE` error and its subscription ends.
    async fn contract_events(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ContractEvent>>> {
        let s = RequestState::of(ctx);
        let principal = s.require_auth()?.clone();
        let hub = ctx.data_opt::<Hub>().cloned().ok_or_else(|| {
            gql(AppError::invalid(
                "subscription",
                "subscriptions are served over WebSocket at /graphql/ws",
            ))
        })?;
        // Receiving before the check: nothing committed after the check is missed.
        let rx = hub.tx.subscribe();
        let contract = s
            .call(&GetContract {
                id: contract_id.to_string(),
            })
            .await?;
        let children = contract.kind == ContractKind::Partner;
        let scope = Scope {
            root: contract.id,
            children,
            known: HashMap::new(),
            principal,
            hub,
        };
        Ok(futures::stream::unfold(
            Some((rx, scope)),
            |state| async move {
                let (mut rx, mut scope) = state?;
                loop {
                    match rx.recv().await {
                        Ok(ev) => {
                            if scope.includes(&ev).await {
                                return Some((Ok(ev), Some((rx, scope))));
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            metrics::counter!("ecl_gateway_live_lagged_total").increment(1);
                            let e = AppError::unavailable(format!(
                                "missed {n} events (too slow): subscribe again"
                            ));
                            return Some((Err(gql(e)), None));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}
