//! Resolving the caller: `Authorization: Bearer <jwt>` is verified by the identity service (which
//! also knows whether the user still exists), and the answer is cached briefly so a burst of
//! requests with the same token costs one bus round-trip.

use ecl_bus::{Bus, CallCtx};
use ecl_cache::Cache;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::identity::Authenticate;
use sha2::{Digest, Sha256};
use std::{sync::Arc, time::Duration};

/// How long a verified token's principal is reused. Revocation (user deleted, password changed)
/// takes effect within this time.
const PRINCIPAL_TTL: Duration = Duration::from_secs(5);

pub async fn resolve(
    bus: &Bus,
    cache: &Arc<dyn Cache>,
    authorization: Option<&str>,
    timeout: Duration,
) -> AppResult<Principal> {
    let Some(header) = authorization else {
        return Ok(Principal::Anonymous);
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() < 4096)
        .ok_or_else(AppError::unauthenticated)?;
    let key = cache_key(token);
    if let Ok(Some(bytes)) = cache.get(&key).await
        && let Ok(p) = serde_json::from_slice::<Principal>(&bytes)
    {
        return Ok(p);
    }
    let principal = bus
        .call(
            &CallCtx::new(Principal::Anonymous, timeout),
            &Authenticate {
                token: token.to_string(),
            },
        )
        .await?;
    if let Ok(bytes) = serde_json::to_vec(&principal) {
        let _ = cache.set(&key, &bytes, PRINCIPAL_TTL).await;
    }
    Ok(principal)
}

/// Where the principal of `token` is cached (signing out drops it at once).
pub fn cache_key(token: &str) -> String {
    format!("principal:{}", hex(&Sha256::digest(token.as_bytes())))
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
