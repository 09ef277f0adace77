//! Resolving the caller. `Authorization: Bearer <jwt>` is verified by the identity service (which
//! also knows whether the user still exists); `X-Api-Key: ecl_…` is looked up by it too. The answer
//! is cached briefly so a burst of requests with the same credential costs one bus round-trip.
//! API keys are rate limited here, where requests enter: a token bucket per key in the shared cache.
//! Sign-in attempts are limited the same way per client address (see [`Auth::limit_sign_in`]).

use axum::http::HeaderMap;
use ecl_bus::{Bus, CallCtx};
use ecl_cache::Cache;
use ecl_kernel::{AppError, AppResult, ErrorCode, Principal};
use ecl_proto::identity::{Authenticate, AuthenticateKey};
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

/// How long a verified credential's principal is reused. Revocation by deleting a user or changing
/// a password takes effect within this time; signing out and revoking a key drop it at once.
const PRINCIPAL_TTL: Duration = Duration::from_secs(5);

/// A token bucket's shape: refilled at `rate_per_sec`, holding at most `burst`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub rate_per_sec: f64,
    pub burst: u32,
}

pub struct Auth {
    pub bus: Bus,
    pub cache: Arc<dyn Cache>,
    pub timeout: Duration,
    /// Per API key.
    pub key_limit: RateLimit,
    /// Per client address, for `signIn` and `verifyTfa`.
    pub sign_in_limit: RateLimit,
    /// See `Settings::trusted_proxy_hops`.
    pub trusted_proxy_hops: u32,
}

impl Auth {
    /// The resolver of a gateway process, from its settings.
    pub fn from_ctx(ctx: &ecl_runtime::Ctx) -> Arc<Auth> {
        Arc::new(Auth {
            bus: ctx.bus.clone(),
            cache: ctx.cache.clone(),
            timeout: Duration::from_millis(ctx.settings.request_timeout_ms),
            key_limit: RateLimit {
                rate_per_sec: ctx.settings.api_key_rate_per_sec,
                burst: ctx.settings.api_key_burst,
            },
            sign_in_limit: RateLimit {
                rate_per_sec: ctx.settings.sign_in_rate_per_sec,
                burst: ctx.settings.sign_in_burst,
            },
            trusted_proxy_hops: ctx.settings.trusted_proxy_hops,
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

impl Auth {
    /// The client of a request: the TCP peer, or — behind `trusted_proxy_hops` proxies — the
    /// address the outermost trusted proxy saw, read from the right of `X-Forwarded-For` (entries
    /// further left were written by the client itself and prove nothing).
    pub fn client_addr(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(|p| p.ip());
        if self.trusted_proxy_hops == 0 {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let hops = self.trusted_proxy_hops as usize;
        if forwarded.len() >= hops {
            Some(forwarded[forwarded.len() - hops])
        } else {
            // Fewer entries than trusted proxies: the nearest one is the best we know.
            forwarded.first().copied().or(peer)
        }
    }

    /// Takes one sign-in attempt from `client`'s bucket: `RATE_LIMITED` with a retry hint when it
    /// is empty. Beside the per-account lockout, this bounds what one address can try across
    /// accounts (and the argon2 hashing it costs); the bucket is in the shared cache, so gateway
    /// replicas agree. Checked per `signIn` field, so aliasing many into one request gains nothing.
    pub async fn limit_sign_in(&self, client: Option<IpAddr>) -> AppResult<()> {
        let Some(ip) = client else { return Ok(()) };
        let limit = self.sign_in_limit;
        if let Some(wait) = self
            .cache
            .take_token(&sign_in_bucket(ip), limit.rate_per_sec, limit.burst)
            .await?
        {
            metrics::counter!("ecl_gateway_sign_in_rate_limited_total").increment(1);
            let mut e = AppError::new(
                ErrorCode::RateLimited,
                "too many sign-in attempts from this address; retry later",
            );
            e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
            return Err(e);
        }
        Ok(())
    }
}

/// The sign-in bucket of a client. IPv6 clients are grouped by /64, the block one host usually
/// gets (anyone holding one can use all of its addresses).
fn sign_in_bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("signin:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("signin:{v4}"),
            None => {
                let s = v6.segments();
                format!("signin:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
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
