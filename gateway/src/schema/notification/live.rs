//! The live `notices` and `billEstimate` subscriptions (SPEC §7, §9): over WebSocket, what a
//! subscriber would receive by mail the moment it is published, and the current month's estimate
//! each time its usage changes.

use super::Notice;
use crate::errors::{IntoGql, gql};
use crate::schema::{billing::Bill, common::RequestState, live::Hub};
use async_graphql::{Context, ID, Subscription};
use chrono::Utc;
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, Principal};
use ecl_proto::{
    PageArgs,
    billing::GetBills,
    notification::{self as proto, ListNotices, NoticeFilter as ProtoFilter},
};
use futures::Stream;
use tokio::sync::broadcast;

fn hub(ctx: &Context<'_>) -> async_graphql::Result<Hub> {
    ctx.data_opt::<Hub>().cloned().ok_or_else(|| {
        gql(AppError::invalid(
            "subscription",
            "subscriptions are served over WebSocket at /graphql/ws",
        ))
    })
}

fn lagged(n: u64) -> async_graphql::Error {
    metrics::counter!("ecl_gateway_live_lagged_total").increment(1);
    gql(AppError::unavailable(format!(
        "missed {n} events (too slow): subscribe again"
    )))
}

/// Whether `who` is among a published notice's receivers (the notification service's list).
fn receives(who: &Principal, ev: &proto::NoticePublished) -> bool {
    match who {
        Principal::User { user_id, .. } => ev.user_ids.binary_search(user_id).is_ok(),
        Principal::ApiKey { contract_id, .. } => ev.contract_ids.binary_search(contract_id).is_ok(),
        _ => false,
    }
}

#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// Every notice the caller receives by mail, with the same choices and suppression, the
    /// moment it is published (an API key: what its contract's users receive; it needs the
    /// notifications scope). Over WebSocket only. A subscriber more than 1,024 notices behind
    /// gets an `UNAVAILABLE` error and its subscription ends.
    async fn notices(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Notice>>> {
        let s = RequestState::of(ctx);
        let principal = s.require_auth()?.clone();
        let hub = hub(ctx)?;
        let rx = hub.notices.subscribe();
        // The service's own check of the caller (an API key's scope) before anything streams.
        s.call(&ListNotices {
            filter: ProtoFilter::default(),
            page: PageArgs::forward(Some(1), None),
        })
        .await?;
        Ok(futures::stream::unfold(Some(rx), move |rx| {
            let principal = principal.clone();
            async move {
                let mut rx = rx?;
                loop {
                    match rx.recv().await {
                        Ok(ev) if receives(&principal, &ev) => {
                            return Some((Ok(Notice(ev.notice.clone())), Some(rx)));
                        }
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            return Some((Err(lagged(n)), None));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        }))
    }

    /// The contract's estimated bill of the current month: first as it stands, then again each
    /// time its usage changes (a partner's includes its children's). For those who may see the
    /// contract's bills (`NOT_FOUND` otherwise). Over WebSocket only.
    async fn bill_estimate(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Bill>>> {
        let s = RequestState::of(ctx);
        let principal = s.require_auth()?.clone();
        let hub = hub(ctx)?;
        let rx = hub.estimates.subscribe();
        let id = contract_id.0;
        let month = ecl_kernel::Month::containing(Utc::now());
        let first = estimate(&hub, &principal, &id, month)
            .await?
            .ok_or_else(|| gql(AppError::not_found(format!("bill of contract {id}"))))?;
        let state = Some((rx, hub, principal, id));
        let updates = futures::stream::unfold(state, |state| async move {
            let (mut rx, hub, principal, id) = state?;
            loop {
                let month = match rx.recv().await {
                    Ok(ev) if ev.contract_ids.contains(&id) => ev.month,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        return Some((Err(lagged(n)), None));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                // A burst of usage is one new estimate: skip hints already queued for it.
                while rx.try_recv().is_ok() {}
                match estimate(&hub, &principal, &id, month).await {
                    Ok(Some(b)) => return Some((Ok(b), Some((rx, hub, principal, id)))),
                    Ok(None) => continue,
                    Err(e) => return Some((Err(e), Some((rx, hub, principal, id)))),
                }
            }
        });
        Ok(futures::stream::StreamExt::chain(
            futures::stream::once(async move { Ok(first) }),
            updates,
        ))
    }
}

/// The estimate as billing answers the subscriber (a fresh deadline per request: a subscription
/// outlives any one request's).
async fn estimate(
    hub: &Hub,
    principal: &Principal,
    contract_id: &str,
    month: ecl_kernel::Month,
) -> async_graphql::Result<Option<Bill>> {
    let ctx = CallCtx::new(principal.clone(), hub.timeout);
    let req = GetBills {
        contract_ids: vec![contract_id.to_string()],
        month,
        day: None,
    };
    hub.bus
        .call(&ctx, &req)
        .await
        .gql()?
        .into_iter()
        .find(|b| b.contract_id == contract_id)
        .map(Bill::try_from)
        .transpose()
}
