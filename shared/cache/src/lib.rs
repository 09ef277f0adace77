//! A small cache/coordination store behind one trait: `memory:` for one process, `redis://` when
//! replicas must agree (lockout counters, TOTP replay, rate limits, the gateway's principal cache).
//! It is only ever a cache or a short-lived counter; losing it loses no business data.

use async_trait::async_trait;
use ecl_kernel::{AppError, AppResult};
use parking_lot::Mutex;
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

#[async_trait]
pub trait Cache: Send + Sync + 'static {
    async fn get(&self, key: &str) -> AppResult<Option<Vec<u8>>>;
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<()>;
    /// Sets only if absent; true when this call set it (replay protection, locks).
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<bool>;
    /// Increments a counter, starting its time-to-live on first increment; returns the new value.
    async fn incr(&self, key: &str, ttl: Duration) -> AppResult<i64>;
    async fn del(&self, key: &str) -> AppResult<()>;
    async fn ping(&self) -> bool;
    /// Token bucket `key` (refilled at `rate` per second up to `burst`): takes one token and
    /// returns `None`, or returns how long until one is available. Atomic across replicas.
    async fn take_token(&self, key: &str, rate: f64, burst: u32) -> AppResult<Option<Duration>>;
}

/// One step of a token bucket: the state after `elapsed_ms` and the wait, if any (ms).
/// (The Redis script below is the same arithmetic, run inside Redis.)
fn bucket_step(tokens: f64, elapsed_ms: f64, rate: f64, burst: u32) -> (f64, Option<u64>) {
    let tokens = (tokens + elapsed_ms.max(0.0) * rate / 1000.0).min(burst as f64);
    if tokens >= 1.0 {
        (tokens - 1.0, None)
    } else {
        (tokens, Some(((1.0 - tokens) * 1000.0 / rate).ceil() as u64))
    }
}

/// The hex SHA-256 of a credential (bearer token or API-key secret). Identity stores API keys by
/// this hash, and the gateway caches resolved principals under it, so revoking a key can drop the
/// cached principal without ever knowing the secret again.
pub fn credential_hash(credential: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(credential.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the gateway caches the principal of a credential with hash `hash`.
pub fn principal_key(hash: &str) -> String {
    format!("principal:{hash}")
}

/// Picks the implementation from the URL; `namespace` prefixes every key.
pub async fn connect(url: &str, namespace: &str) -> anyhow::Result<Arc<dyn Cache>> {
    if url == "memory:" {
        Ok(Arc::new(MemoryCache::default()))
    } else if url.starts_with("redis://") || url.starts_with("rediss://") {
        Ok(Arc::new(RedisCache::connect(url, namespace).await?))
    } else {
        anyhow::bail!("unsupported cache URL {url:?} (expected memory: or redis://…)")
    }
}

/// In-process cache with expiry; bounded so a flood of distinct keys cannot grow it without limit.
#[derive(Default)]
pub struct MemoryCache {
    map: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

const MEMORY_MAX_KEYS: usize = 100_000;

impl MemoryCache {
    fn live_get(&self, key: &str) -> Option<Vec<u8>> {
        let mut map = self.map.lock();
        match map.get(key) {
            Some((v, exp)) if *exp > Instant::now() => Some(v.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }
    fn insert(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        let mut map = self.map.lock();
        if map.len() >= MEMORY_MAX_KEYS {
            let now = Instant::now();
            map.retain(|_, (_, exp)| *exp > now);
            if map.len() >= MEMORY_MAX_KEYS {
                map.clear();
            }
        }
        map.insert(key.to_string(), (value, Instant::now() + ttl));
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> AppResult<Option<Vec<u8>>> {
        Ok(self.live_get(key))
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<()> {
        self.insert(key, value.to_vec(), ttl);
        Ok(())
    }
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<bool> {
        // Check and insert under one lock so two callers cannot both win.
        let mut map = self.map.lock();
        let now = Instant::now();
        if map.get(key).is_some_and(|(_, exp)| *exp > now) {
            return Ok(false);
        }
        map.insert(key.to_string(), (value.to_vec(), now + ttl));
        Ok(true)
    }
    async fn incr(&self, key: &str, ttl: Duration) -> AppResult<i64> {
        let mut map = self.map.lock();
        let now = Instant::now();
        let entry = map
            .entry(key.to_string())
            .or_insert_with(|| (b"0".to_vec(), now + ttl));
        if entry.1 <= now {
            *entry = (b"0".to_vec(), now + ttl);
        }
        let n: i64 = std::str::from_utf8(&entry.0)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
            + 1;
        entry.0 = n.to_string().into_bytes();
        Ok(n)
    }
    async fn del(&self, key: &str) -> AppResult<()> {
        self.map.lock().remove(key);
        self.buckets.lock().remove(key);
        Ok(())
    }
    async fn ping(&self) -> bool {
        true
    }
    async fn take_token(&self, key: &str, rate: f64, burst: u32) -> AppResult<Option<Duration>> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MEMORY_MAX_KEYS {
            buckets.clear(); // a full bucket is the fresh state anyway
        }
        let (tokens, at) = buckets.get(key).copied().unwrap_or((burst as f64, now));
        let (tokens, wait) = bucket_step(
            tokens,
            now.duration_since(at).as_secs_f64() * 1000.0,
            rate,
            burst,
        );
        buckets.insert(key.to_string(), (tokens, now));
        Ok(wait.map(Duration::from_millis))
    }
}

/// Redis through a self-reconnecting connection manager. A database number in the URL
/// (`redis://host/3`) is honoured by the client.
pub struct RedisCache {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisCache {
    pub async fn connect(url: &str, namespace: &str) -> anyhow::Result<RedisCache> {
        let client = redis::Client::open(url)?;
        let conn = client.get_connection_manager().await?;
        Ok(RedisCache {
            conn,
            prefix: format!("{namespace}:"),
        })
    }
    fn key(&self, k: &str) -> String {
        format!("{}{k}", self.prefix)
    }
}

/// The token bucket, atomically in Redis on Redis's own clock (replicas' clocks may differ).
static TOKEN_BUCKET: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
",
    )
});

fn redis_err(e: redis::RedisError) -> AppError {
    tracing::warn!("redis: {e}");
    AppError::unavailable("cache unavailable")
}

fn ttl_ms(ttl: Duration) -> u64 {
    ttl.as_millis().max(1) as u64
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> AppResult<Option<Vec<u8>>> {
        let mut c = self.conn.clone();
        redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut c)
            .await
            .map_err(redis_err)
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<()> {
        let mut c = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms(ttl))
            .query_async(&mut c)
            .await
            .map_err(redis_err)
    }
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<bool> {
        let mut c = self.conn.clone();
        let r: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms(ttl))
            .query_async(&mut c)
            .await
            .map_err(redis_err)?;
        Ok(r.is_some())
    }
    async fn incr(&self, key: &str, ttl: Duration) -> AppResult<i64> {
        let mut c = self.conn.clone();
        let k = self.key(key);
        // INCR and set the expiry only when the key is new, atomically.
        let (n,): (i64,) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&k)
            .cmd("PEXPIRE")
            .arg(&k)
            .arg(ttl_ms(ttl))
            .arg("NX")
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(redis_err)?;
        Ok(n)
    }
    async fn del(&self, key: &str) -> AppResult<()> {
        let mut c = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async(&mut c)
            .await
            .map_err(redis_err)
    }
    async fn ping(&self) -> bool {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .is_ok()
    }
    async fn take_token(&self, key: &str, rate: f64, burst: u32) -> AppResult<Option<Duration>> {
        let mut c = self.conn.clone();
        let wait: i64 = TOKEN_BUCKET
            .key(self.key(key))
            .arg(rate)
            .arg(burst)
            .invoke_async(&mut c)
            .await
            .map_err(redis_err)?;
        Ok((wait > 0).then(|| Duration::from_millis(wait as u64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exercise(cache: &dyn Cache) {
        let k = format!("t-{}", std::process::id());
        cache.del(&k).await.unwrap();
        assert_eq!(cache.get(&k).await.unwrap(), None);
        assert!(
            cache
                .set_nx(&k, b"a", Duration::from_secs(5))
                .await
                .unwrap()
        );
        assert!(
            !cache
                .set_nx(&k, b"b", Duration::from_secs(5))
                .await
                .unwrap()
        );
        assert_eq!(cache.get(&k).await.unwrap().as_deref(), Some(&b"a"[..]));
        let c = format!("{k}-n");
        cache.del(&c).await.unwrap();
        assert_eq!(cache.incr(&c, Duration::from_secs(5)).await.unwrap(), 1);
        assert_eq!(cache.incr(&c, Duration::from_secs(5)).await.unwrap(), 2);
        cache
            .set(&k, b"x", Duration::from_millis(30))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(cache.get(&k).await.unwrap(), None, "expired");
        cache.del(&c).await.unwrap();

        // Token bucket: a burst of 3, then a wait of about a second at 1 per second.
        let b = format!("{k}-bucket");
        cache.del(&b).await.unwrap();
        for _ in 0..3 {
            assert_eq!(cache.take_token(&b, 1.0, 3).await.unwrap(), None);
        }
        let wait = cache
            .take_token(&b, 1.0, 3)
            .await
            .unwrap()
            .expect("limited");
        assert!(
            wait > Duration::from_millis(500) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // A fast bucket refills quickly.
        let f = format!("{k}-fast");
        cache.del(&f).await.unwrap();
        assert_eq!(cache.take_token(&f, 100.0, 1).await.unwrap(), None);
        assert!(cache.take_token(&f, 100.0, 1).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(cache.take_token(&f, 100.0, 1).await.unwrap(), None);
        cache.del(&b).await.unwrap();
        cache.del(&f).await.unwrap();
    }

    #[tokio::test]
    async fn memory_cache_semantics() {
        exercise(&MemoryCache::default()).await;
    }

    /// Runs against the Redis that ./scripts/test brings up (or ECL_TEST_REDIS_URL).
    #[tokio::test]
    async fn redis_cache_semantics() {
        let url = std::env::var("ECL_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
        let cache = RedisCache::connect(&url, "ecl-cache-test")
            .await
            .expect("Redis reachable (run ./scripts/test, which starts it)");
        assert!(cache.ping().await);
        exercise(&cache).await;
    }
}
