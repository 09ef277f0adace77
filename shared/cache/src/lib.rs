//! A small cache/coordination store behind one trait: `memory:` for one process, `redis://` when
//! replicas must agree (lockout counters, TOTP replay, rate limits, the gateway's principal cache).
//! It is only ever a cache or a short-lived counter; losing it loses no business data.

use async_trait::async_trait;
use ecl_kernel::{AppError, AppResult};
use std::{
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

/// In-process cache with per-entry expiry, bounded by `moka` (TinyLFU admission, LRU eviction):
/// a flood of distinct keys evicts the least useful entries, never everything at once (a
/// clear-all would also forget every token bucket and challenge in flight).
pub struct MemoryCache {
    map: moka::sync::Cache<String, Arc<Entry>>,
    buckets: moka::sync::Cache<String, (f64, Instant)>,
}

/// A value and the instant it expires.
#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

impl Entry {
    fn new(value: Vec<u8>, ttl: Duration) -> Arc<Entry> {
        Arc::new(Entry {
            value,
            expires: Instant::now() + ttl,
        })
    }
    fn live(&self) -> bool {
        self.expires > Instant::now()
    }
}

/// Each entry lives until its own `expires`.
struct PerEntry;

impl moka::Expiry<String, Arc<Entry>> for PerEntry {
    fn expire_after_create(&self, _: &String, v: &Arc<Entry>, now: Instant) -> Option<Duration> {
        Some(v.expires.saturating_duration_since(now))
    }
    fn expire_after_update(
        &self,
        _: &String,
        v: &Arc<Entry>,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.expires.saturating_duration_since(now))
    }
}

/// How many keys (and, separately, token buckets) one process keeps at most.
const MEMORY_MAX_KEYS: u64 = 100_000;

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::with_capacity(MEMORY_MAX_KEYS)
    }
}

impl MemoryCache {
    pub fn with_capacity(max_keys: u64) -> Self {
        MemoryCache {
            map: moka::sync::Cache::builder()
                .max_capacity(max_keys)
                .expire_after(PerEntry)
                .build(),
            // An evicted bucket is a full one again: acceptable for an idle key, and the
            // capacity keeps a flood of distinct keys from growing memory.
            buckets: moka::sync::Cache::builder()
                .max_capacity(max_keys)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        }
    }

    /// Runs pending evictions (tests read sizes after it).
    pub fn run_pending_tasks(&self) {
        self.map.run_pending_tasks();
        self.buckets.run_pending_tasks();
    }

    /// Entries held now (approximate until [`MemoryCache::run_pending_tasks`]).
    pub fn len(&self) -> u64 {
        self.map.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> AppResult<Option<Vec<u8>>> {
        Ok(self
            .map
            .get(key)
            .filter(|e| e.live())
            .map(|e| e.value.clone()))
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<()> {
        self.map
            .insert(key.to_string(), Entry::new(value.to_vec(), ttl));
        Ok(())
    }
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> AppResult<bool> {
        // Decided under moka's per-key lock, so two callers cannot both win.
        use moka::ops::compute::{CompResult, Op};
        let res = self
            .map
            .entry(key.to_string())
            .and_compute_with(|cur| match cur {
                Some(e) if e.value().live() => Op::Nop,
                _ => Op::Put(Entry::new(value.to_vec(), ttl)),
            });
        Ok(matches!(
            res,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        ))
    }
    async fn incr(&self, key: &str, ttl: Duration) -> AppResult<i64> {
        use moka::ops::compute::Op;
        let res = self.map.entry(key.to_string()).and_compute_with(|cur| {
            let (n, expires) = match cur {
                Some(e) if e.value().live() => {
                    let n: i64 = std::str::from_utf8(&e.value().value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    (n + 1, e.value().expires)
                }
                _ => (1, Instant::now() + ttl),
            };
            Op::Put(Arc::new(Entry {
                value: n.to_string().into_bytes(),
                expires,
            }))
        });
        let n = res
            .into_entry()
            .and_then(|e| std::str::from_utf8(&e.value().value).ok()?.parse().ok())
            .unwrap_or(1);
        Ok(n)
    }
    async fn del(&self, key: &str) -> AppResult<()> {
        self.map.invalidate(key);
        self.buckets.invalidate(key);
        Ok(())
    }
    async fn ping(&self) -> bool {
        true
    }
    async fn take_token(&self, key: &str, rate: f64, burst: u32) -> AppResult<Option<Duration>> {
        use moka::ops::compute::Op;
        let mut wait = None;
        self.buckets.entry(key.to_string()).and_compute_with(|cur| {
            let now = Instant::now();
            let (tokens, at) = cur.map(|e| *e.value()).unwrap_or((burst as f64, now));
            let (tokens, w) = bucket_step(
                tokens,
                now.duration_since(at).as_secs_f64() * 1000.0,
                rate,
                burst,
            );
            wait = w;
            Op::Put((tokens, now))
        });
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

    async fn assert_cache_semantics(cache: &dyn Cache) {
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
        assert_cache_semantics(&MemoryCache::default()).await;
    }

    /// A flood of distinct keys evicts some entries; it never empties the cache (issue 9: the old
    /// map cleared itself completely at its limit, forgetting every TOTP claim and challenge).
    #[tokio::test]
    async fn memory_cache_evicts_instead_of_clearing() {
        let cache = MemoryCache::with_capacity(1_000);
        let ttl = Duration::from_secs(60);
        cache.set("kept", b"1", ttl).await.unwrap();
        for _ in 0..50 {
            cache.get("kept").await.unwrap(); // frequently used: TinyLFU keeps it
        }
        for i in 0..20_000 {
            cache.set(&format!("flood-{i}"), b"x", ttl).await.unwrap();
        }
        cache.run_pending_tasks();
        assert!(cache.len() <= 1_000, "bounded: {}", cache.len());
        assert!(cache.len() >= 500, "evicted, not cleared: {}", cache.len());
        assert_eq!(cache.get("kept").await.unwrap().as_deref(), Some(&b"1"[..]));
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
        assert_cache_semantics(&cache).await;
    }
}
