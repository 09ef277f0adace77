//! What a request or a reply carries: JSON bytes where it crosses a process (AMQP), the typed
//! value itself where it does not (the in-process bus). Profiling the embedded walk showed JSON
//! encoding and decoding of every in-process message among its largest costs, for values that
//! never leave the process: handing the value across costs one move.

use bytes::Bytes;
use ecl_kernel::AppError;
use serde::{Serialize, de::DeserializeOwned};
use std::{any::Any, fmt};

/// A value that can travel typed, and still be encoded should the transport need bytes.
pub trait Typed: Send + 'static {
    fn to_json(&self) -> serde_json::Result<Vec<u8>>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Serialize + Send + 'static> Typed for T {
    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The payload of a request or reply.
pub enum Body {
    /// Encoded: what came over the wire (or what a caller built by hand).
    Json(Bytes),
    /// The value itself, from a caller in this process.
    Value(Box<dyn Typed>),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Json(b) => write!(f, "Json({} bytes)", b.len()),
            Body::Value(_) => f.write_str("Value(..)"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Json(b)
    }
}

impl Body {
    pub fn typed<T: Serialize + Send + 'static>(value: T) -> Self {
        Body::Value(Box::new(value))
    }

    /// The bytes to put on the wire.
    pub fn into_json(self) -> Result<Bytes, AppError> {
        match self {
            Body::Json(b) => Ok(b),
            Body::Value(v) => v.to_json().map(Bytes::from).map_err(AppError::internal),
        }
    }

    /// The value as `T`: moved out when it is one, decoded when it is bytes. A typed value of
    /// another Rust type with the same wire shape (a test's own request type, say) goes through
    /// JSON, so the in-process bus accepts exactly what AMQP accepts.
    pub fn decode<T: DeserializeOwned + 'static>(self) -> Result<T, serde_json::Error> {
        match self {
            Body::Json(b) => serde_json::from_slice(&b),
            Body::Value(v) if v.as_any().is::<T>() => match v.into_any().downcast::<T>() {
                Ok(t) => Ok(*t),
                Err(_) => unreachable!("checked to be a T"),
            },
            Body::Value(v) => serde_json::from_slice(&v.to_json()?),
        }
    }
}
