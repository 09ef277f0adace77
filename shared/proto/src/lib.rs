//! The messages between processes: one module per service holding its requests, replies and
//! events. This crate is the contract; the gateway and the services meet only here.
//!
//! A request type implements [`Call`]: it names its target service, a stable operation name and its
//! reply type, so `bus.call(&ctx, &req)` is typed end to end. Operation names are versioned by suffix
//! (`contract.create.v1`) so a new shape can be served beside the old one during a rolling upgrade.

use serde::{Serialize, de::DeserializeOwned};

pub mod billing;
pub mod commercial;
pub mod contract;
pub mod identity;
pub mod metering;
pub mod notification;
pub mod page;
pub mod sla;
pub mod tenant;

pub use page::{Page, PageArgs};

/// A request/reply operation of one target.
/// `Clone`: the in-process bus hands the request itself to the handler (no encoding), and the
/// caller keeps its own.
pub trait Call: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const TARGET: &'static str;
    const OP: &'static str;
    type Reply: Serialize + DeserializeOwned + Send + 'static;
    /// What an API key needs to use this operation; the receiving router checks it before the
    /// handler runs, so every service enforces key scopes the same way. Keys are refused unless
    /// the operation says otherwise.
    const KEY: ecl_kernel::KeyUse = ecl_kernel::KeyUse::Denied;
}

#[doc(hidden)]
pub use ecl_kernel as __kernel;

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
    // `key: Tree` or `key: Scope(Tenants, Write)` — what an API key needs (see `KeyUse`).
    ($req:ty => $reply:ty, $target:literal, $op:literal, key: $($use:tt)+) => {
        impl $crate::Call for $req {
            const TARGET: &'static str = $target;
            const OP: &'static str = $op;
            type Reply = $reply;
            const KEY: $crate::__kernel::KeyUse = {
                #[allow(unused_imports)]
                use $crate::__kernel::{Area::*, KeyUse::*, Level::*};
                $($use)+
            };
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
