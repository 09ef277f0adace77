//! The messages between processes: one module per service holding its requests, replies and
//! events. This crate is the contract; the gateway and the services meet only here.
//!
//! A request type implements [`Call`]: it names its target service, a stable operation name and its
//! reply type, so `bus.call(&ctx, &req)` is typed end to end. Operation names are versioned by suffix
//! (`contract.create.v1`) so a new shape can be served beside the old one during a rolling upgrade.

use serde::{Serialize, de::DeserializeOwned};

pub mod billing;
pub mod contract;
pub mod identity;
pub mod metering;
pub mod page;
pub mod tenant;

pub use page::{Page, PageArgs};

/// A request/reply operation of one target.
pub trait Call: Serialize + DeserializeOwned + Send + Sync + 'static {
    const TARGET: &'static str;
    const OP: &'static str;
    type Reply: Serialize + DeserializeOwned + Send + 'static;
}

/// A published fact. Topics are `<service>.<event>` so subscribers bind with patterns like
/// `contract.*`.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    const TOPIC: &'static str;
}

/// Declares a [`Call`] impl in one line.
#[macro_export]
macro_rules! call {
    ($req:ty => $reply:ty, $target:literal, $op:literal) => {
        impl $crate::Call for $req {
            const TARGET: &'static str = $target;
            const OP: &'static str = $op;
            type Reply = $reply;
        }
    };
}

/// Declares an [`Event`] impl in one line.
#[macro_export]
macro_rules! event {
    ($ev:ty, $topic:literal) => {
        impl $crate::Event for $ev {
            const TOPIC: &'static str = $topic;
        }
    };
}
