//! Deterministic DataLoader batches. async-graphql's loader collects keys for `delay` (1 ms) after
//! the first one and then loads what it has. If the executor takes longer than that to reach every
//! sibling (a busy CPU, a slow debug build), a level splits into two bus requests — measured: the
//! 25-children walk took 7 requests instead of 6 when two test processes shared the 2 cores.
//!
//! A query runs in one task, and all keys of one level are queued before that task next waits on
//! something (a poll that returns `Pending` without having woken itself; see [`Forward`] for the
//! polls that do). So the loader's fetch task waits until such a poll has ended before its own
//! delay starts: a level is then one batch however long queuing it took. So a gated
//! operation's loaders need no time window at all ([`PollGate::delay`] is zero): the 1 ms window
//! cost each level of the walk 1–2 ms of waiting (a tokio timer rounds up to the next tick).

use futures::future::BoxFuture;
use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};
use tokio::sync::Notify;

#[derive(Default)]
struct Gate {
    /// Made for an operation that runs inside [`PollGate::wrap`] (see [`PollGate::gated`]).
    gated: bool,
    /// Polls of the query task that have ended with the task waiting (see [`Forward`]).
    polls: AtomicU64,
    /// False until the query runs inside [`PollGate::wrap`]: fetches then wait for nothing.
    active: AtomicBool,
    notify: Notify,
}

/// Shared by one operation's execution and its DataLoaders.
#[derive(Clone, Default)]
pub struct PollGate(Arc<Gate>);

impl PollGate {
    /// The gate of an operation that will run inside [`PollGate::wrap`] (an HTTP request): its
    /// loaders batch by polls, with no delay. The default gate (a subscription's stream, whose
    /// resolvers run outside one task's polls) batches by time only.
    pub fn gated() -> Self {
        PollGate(Arc::new(Gate {
            gated: true,
            ..Default::default()
        }))
    }

    /// How long this operation's DataLoaders collect keys once the poll that queued the first
    /// has ended: nothing more can come when the operation is gated; 1 ms when it is not.
    pub fn delay(&self) -> Duration {
        if self.0.gated {
            Duration::ZERO
        } else {
            Duration::from_millis(1)
        }
    }

    /// Runs `fut` (the operation's execution), counting the ends of its polls.
    pub fn wrap<F: Future>(&self, fut: F) -> Gated<F> {
        Gated {
            inner: Box::pin(fut),
            gate: self.clone(),
            waker: Default::default(),
        }
    }

    /// The spawner for this operation's DataLoaders.
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        let gate = self.clone();
        move |fetch| {
            let gate = gate.clone();
            let queued_in = gate.0.polls.load(Ordering::SeqCst);
            tokio::spawn(async move {
                gate.poll_ended(queued_in).await;
                fetch.await
            });
        }
    }

    /// Waits until poll number `queued_in` of the query task has ended.
    async fn poll_ended(&self, queued_in: u64) {
        if !self.0.active.load(Ordering::SeqCst) {
            return;
        }
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.0.polls.load(Ordering::SeqCst) > queued_in {
                return;
            }
            notified.await;
        }
    }
}

pub struct Gated<F: Future> {
    inner: Pin<Box<F>>,
    gate: PollGate,
    waker: Arc<Forward>,
}

/// The query task's waker, seen through: it notes whether the task was woken while it was being
/// polled. `FuturesUnordered` — which async-graphql resolves a list's items with — yields by
/// waking its own task and returning `Pending` after two items woke themselves; measured: the
/// walk's 100 children then queued their tenants two at a time over 50 polls, and one level
/// became dozens of bus requests. A poll that ends with the task already woken is not an end
/// of the level: more keys come in the next one.
#[derive(Default)]
struct Forward {
    woken: AtomicBool,
    to: futures::task::AtomicWaker,
}

impl std::task::Wake for Forward {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.to.wake();
    }
}

impl<F: Future> Future for Gated<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.gate.0.active.store(true, Ordering::SeqCst);
        self.waker.to.register(cx.waker());
        self.waker.woken.store(false, Ordering::SeqCst);
        let waker = std::task::Waker::from(self.waker.clone());
        let out = self.inner.as_mut().poll(&mut Context::from_waker(&waker));
        // Done, or waiting on something else than itself: the keys this poll queued are all
        // queued now.
        if out.is_ready() || !self.waker.woken.load(Ordering::SeqCst) {
            self.gate.0.polls.fetch_add(1, Ordering::SeqCst);
            self.gate.0.notify.notify_waiters();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::PollGate;
    use async_graphql::{
        Context, EmptyMutation, EmptySubscription, Object, Schema,
        dataloader::{DataLoader, Loader},
    };
    use std::{
        collections::HashMap,
        future::Future,
        pin::Pin,
        sync::{Arc, Mutex},
        task::{Context as TaskContext, Poll},
    };

    /// Records the size of every batch it loads.
    struct Sizes(Arc<Mutex<Vec<usize>>>);

    impl Loader<u32> for Sizes {
        type Value = u32;
        type Error = String;
        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, String> {
            self.0.lock().unwrap().push(keys.len());
            Ok(keys.iter().map(|k| (*k, k * 2)).collect())
        }
    }

    /// Wakes its own task once and returns `Pending`, as a resolver that yields does.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    struct Item(u32);

    #[Object]
    impl Item {
        async fn double(&self, ctx: &Context<'_>) -> u32 {
            YieldOnce(false).await;
            let loader = ctx.data_unchecked::<DataLoader<Sizes>>();
            loader.load_one(self.0).await.unwrap().unwrap_or_default()
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn items(&self) -> Vec<Item> {
            (0..100).map(Item).collect()
        }
    }

    /// The list's `FuturesUnordered` yields after every two items that woke themselves, so the
    /// 100 keys are queued over some 50 polls: still one batch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_level_is_one_batch_even_when_its_items_yield() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let gate = PollGate::gated();
        let loader = DataLoader::new(Sizes(sizes.clone()), gate.spawner()).delay(gate.delay());
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription).finish();
        let request = async_graphql::Request::new("{ items { double } }").data(loader);
        let resp = gate.wrap(schema.execute(request)).await;
        assert!(resp.errors.is_empty(), "{:?}", resp.errors);
        assert_eq!(*sizes.lock().unwrap(), vec![100]);
    }
}
