//! Values carried in AMQP headers (the request's operation, principal, deadline and trace id; a
//! reply's status and bus-request count), read back as the bus's types.

use lapin::types::{AMQPValue, FieldTable};

pub(super) fn header_str(headers: &Option<FieldTable>, key: &str) -> Option<String> {
    match headers.as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

pub(super) fn header_u64(headers: &Option<FieldTable>, key: &str) -> u64 {
    match headers.as_ref().and_then(|h| h.inner().get(key)) {
        Some(AMQPValue::LongLongInt(n)) => (*n).max(0) as u64,
        _ => 0,
    }
}
