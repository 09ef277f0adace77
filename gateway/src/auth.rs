//! Resolving the caller. `Authorization: Bearer <jwt>` is verified by the identity service (which
//! also knows whether the user still exists); `X-Api-Key: ecl_…` is looked up by it too. The answer
//! is cached briefly so a burst of requests with the same credential costs one bus round-trip.
//! API keys are rate limited here, where requests enter: a token bucket per key in the shared cache.

use axum::http::HeaderMap;
use ecl_bus::{Bus, CallCtx};
use ecl_cache::Cache;
use ecl_kernel::{AppError, AppResult, ErrorCode, Principal};
use ecl_proto::identity::{Authenticate, AuthenticateKey};
use std::{sync::Arc, time::Duration};

/// How long a verified credential's principal is reused. Revocation by deleting a user or changing
/// a password takes effect within this time; signing out and revoking a key drop it at once.
const PRINCIPAL_TTL: Duration = Duration::from_secs(5);

/// The per-key token bucket.
#[derive(Debug, Clone, Copy)]
pub struct KeyLimit {
    pub rate_per_sec: f64,
    pub burst: u32,
}

pub struct Auth {
    pub bus: Bus,
    pub cache: Arc<dyn Cache>,
    pub timeout: Duration,
    pub key_limit: KeyLimit,
}

impl Auth {
    /// The resolver of a gateway process, from its settings.
    pub fn from_ctx(ctx: &ecl_runtime::Ctx) -> Arc<Auth> {
        Arc::new(Auth {
            bus: ctx.bus.clone(),
            cache: ctx.cache.clone(),
            timeout: Duration::from_millis(ctx.settings.request_timeout_ms),
            key_limit: KeyLimit {
                rate_per_sec: ctx.settings.api_key_rate_per_sec,
                burst: ctx.settings.api_key_burst,
            },
        })
    }
}

enum Credential<'a> {
    Bearer(&'a str),
    Key(&'a str),
}

impl Auth {
    /// The principal of a request's headers (`Anonymous` without credentials). Bad or expired
    /// credentials are `UNAUTHENTICATED`; a key over its rate `RATE_LIMITED` with a retry hint.
    pub async fn resolve(&self, headers: &HeaderMap) -> AppResult<Principal> {
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or(""));
        let credential = match (header("authorization"), header("x-api-key")) {
            (None, None) => return Ok(Principal::Anonymous),
            (Some(_), Some(_)) => {
                return Err(AppError::new(
                    ErrorCode::Unauthenticated,
                    "send either a bearer token or an API key, not both",
                ));
            }
            (Some(h), None) => Credential::Bearer(bearer(h).ok_or_else(AppError::unauthenticated)?),
            (None, Some(k)) => Credential::Key(k.trim()),
        };
        let token = match credential {
            Credential::Bearer(t) | Credential::Key(t) => t,
        };
        if token.is_empty() || token.len() >= 4096 {
            return Err(AppError::unauthenticated());
        }
        let key = cache_key(token);
        let cached = match self.cache.get(&key).await {
            Ok(Some(bytes)) => serde_json::from_slice::<Principal>(&bytes).ok(),
            _ => None,
        };
        let principal = match cached {
            Some(p) => p,
            None => {
                let ctx = CallCtx::new(Principal::Anonymous, self.timeout);
                let p = match credential {
                    Credential::Bearer(t) => {
                        let req = Authenticate {
                            token: t.to_string(),
                        };
                        self.bus.call(&ctx, &req).await?
                    }
                    Credential::Key(k) => {
                        let req = AuthenticateKey {
                            secret: k.to_string(),
                        };
                        self.bus.call(&ctx, &req).await?
                    }
                };
                if let Ok(bytes) = serde_json::to_vec(&p) {
                    let _ = self.cache.set(&key, &bytes, PRINCIPAL_TTL).await;
                }
                p
            }
        };
        if let Principal::ApiKey { key_id, .. } = &principal {
            let bucket = format!("ratelimit:{key_id}");
            let limit = self.key_limit;
            if let Some(wait) = self
                .cache
                .take_token(&bucket, limit.rate_per_sec, limit.burst)
                .await?
            {
                metrics::counter!("ecl_gateway_rate_limited_total").increment(1);
                let mut e = AppError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "this API key is over its rate ({} requests/s, bursts of {}); retry later",
                        limit.rate_per_sec, limit.burst
                    ),
                );
                e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
                return Err(e);
            }
        }
        Ok(principal)
    }
}

/// Where the principal of `token` is cached (signing out and revoking a key drop it at once).
pub fn cache_key(token: &str) -> String {
    ecl_cache::principal_key(&ecl_cache::credential_hash(token))
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
}
