//! The messages between processes: one module per service holding its requests, replies and
//! events. This crate is the contract; the gateway and the services meet only here.
//!
//! A request type implements [`Call`]: it names its target service, a stable operation name and its
//! reply type, so `bus.call(&ctx, &req)` is typed end to end. Operation names are versioned by suffix
//! (`contract.create.v1`) so a new shape can be served beside the old one during a rolling upgrade.

use serde::{Serialize, de::DeserializeOwned};

/// A closed set of values, each with one spelling: on the wire (serde), in the tables that store
/// it (a sea-orm active enum over a string column, so a row keeps the text it had when the field
/// was a `String`) and in logs (`Display`). `as_str`/`parse` give the spelling both ways.
///
/// ```ignore
/// closed_set! {
///     /// Doc of the enum.
///     pub enum ContractChange { Created = "created", Updated = "updated" }
/// }
/// ```
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(sea_orm::sea_query::StringLen::None)")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $text)]
                #[sea_orm(string_value = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The value's one spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value spelled `s`, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Serde for an optional closed-set value whose absence travels as `""`: fields that were `String`s
/// (empty when unknown) before they were typed keep their wire.
pub mod empty_as_none {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => v.serialize(s),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(None);
        }
        T::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(s)).map(Some)
    }
}

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
