//! Typed settings: defaults → optional `ecl.toml` (or the file named by `ECL_CONFIG`) → `ECL_*`
//! environment. Every problem is reported at once at startup.

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};
use std::{fmt, net::SocketAddr, path::PathBuf};

/// A string that never prints (config dumps, debug logs).
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Where this process listens (GraphQL on the gateway; health and metrics everywhere).
    pub http_addr: SocketAddr,
    /// Embedded mode keeps its SQLite files here.
    pub data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…`; unset = one SQLite file per service under `data_dir`.
    pub database_url: Option<String>,
    /// `memory:` (in-process bus) or `amqp://…`.
    pub amqp_url: String,
    /// `memory:` or `redis://…`.
    pub redis_url: String,
    /// Prefix for queues, exchanges and cache keys, so several deployments (or test runs) can share
    /// one broker and one Redis.
    pub namespace: String,
    /// Password of the `operator` account created on first start; random (printed once) when unset.
    pub bootstrap_operator_password: Option<Secret>,
    /// Deadline of a bus request issued by the gateway, in milliseconds.
    pub request_timeout_ms: u64,
    /// Largest accepted HTTP request body, in bytes.
    pub body_limit_bytes: usize,
    /// Log as JSON lines (for log shippers) instead of human-readable text.
    pub log_json: bool,
    /// Failed sign-ins within `lockout_window_secs` that lock an account.
    pub lockout_threshold: u32,
    pub lockout_window_secs: u64,
    /// How long a locked account stays locked.
    pub lockout_secs: u64,
    /// Requests per second each API key may make on average (token bucket refill rate).
    pub api_key_rate_per_sec: f64,
    /// Requests an API key may make in a burst (token bucket size).
    pub api_key_burst: u32,
    /// Origins allowed to call the API from a browser (CORS), comma-separated
    /// (`https://portal.example.com,http://localhost:5173`), or `*` for any; empty = CORS off.
    pub cors_origins: String,
    /// Sign-in attempts (`signIn`, `verifyTfa`) per second each client address may make on
    /// average, beside the per-account lockout (token bucket refill rate, shared by replicas).
    pub sign_in_rate_per_sec: f64,
    /// Sign-in attempts a client address may make in a burst (token bucket size).
    pub sign_in_burst: u32,
    /// Proxies in front of the gateway that append the client's address to `X-Forwarded-For`.
    /// 0 (default): the client is the TCP peer and the header is ignored (anyone can forge it);
    /// n: the client is the n-th address from the right of the header.
    pub trusted_proxy_hops: u32,
    /// Largest GraphQL response body, in bytes; a larger result is refused with a coded error.
    pub max_response_bytes: usize,
    /// Where notification mails go: `smtp://host:port` (plain; `?tls=required` for STARTTLS),
    /// `smtps://user:pass@host` (TLS from the first byte). Unset: each mail is written as an `.eml` file
    /// under `<data_dir>/mail/`, so an offline embedded run shows what would have been sent.
    pub smtp_url: Option<Secret>,
    /// The `From:` of notification mails.
    pub mail_from: String,
    /// Longest wait between two attempts of a mail the server deferred (4xx) or could not take
    /// (connection refused): backoff doubles from 500 ms up to this, with jitter.
    pub smtp_retry_max_ms: u64,
    /// Mails in flight at once (and pooled SMTP connections).
    pub smtp_concurrency: u32,
    /// How long a sender holds the mails it claimed: a killed sender's mails go out again (from
    /// another replica, or itself restarted) after this.
    pub smtp_lease_ms: u64,
    /// A FIXED bill is due at the end of the month this many months after its own (SPEC §6).
    pub payment_due_months: u32,
    /// Connections each service's database pool may open; unset: 2 on SQLite files (each its own
    /// worker thread; SQLite has one writer at a time), 16 on PostgreSQL (count them against the
    /// server's `max_connections` across replicas).
    pub db_max_connections: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            http_addr: "127.0.0.1:8080".parse().expect("valid default address"),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            amqp_url: "memory:".into(),
            redis_url: "memory:".into(),
            namespace: "ecl".into(),
            bootstrap_operator_password: None,
            request_timeout_ms: 5_000,
            body_limit_bytes: 1 << 20,
            log_json: false,
            lockout_threshold: 5,
            lockout_window_secs: 15 * 60,
            lockout_secs: 15 * 60,
            api_key_rate_per_sec: 20.0,
            api_key_burst: 60,
            cors_origins: String::new(),
            sign_in_rate_per_sec: 1.0,
            sign_in_burst: 20,
            trusted_proxy_hops: 0,
            max_response_bytes: 16 << 20,
            smtp_url: None,
            mail_from: "ECL <noreply@ecl.invalid>".into(),
            smtp_retry_max_ms: 60_000,
            smtp_concurrency: 16,
            smtp_lease_ms: 30_000,
            payment_due_months: 1,
            db_max_connections: None,
        }
    }
}

impl Settings {
    /// Loads and validates; on failure returns every problem found, one per line.
    pub fn load() -> Result<Settings, String> {
        let file = std::env::var("ECL_CONFIG").unwrap_or_else(|_| "ecl.toml".into());
        Self::from_figment(
            Figment::from(Serialized::defaults(Settings::default()))
                .merge(Toml::file(file))
                .merge(Env::prefixed("ECL_").ignore(&["CONFIG"])),
        )
    }

    pub fn from_figment(fig: Figment) -> Result<Settings, String> {
        let settings: Settings = fig.extract().map_err(|e| {
            e.into_iter()
                .map(|e| format!("configuration: {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        let problems = settings.problems();
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The CORS origins of `cors_origins`, trimmed; empty when CORS is off.
    pub fn cors_origin_list(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for o in self.cors_origin_list() {
            // An origin is scheme://host[:port], nothing after it: a browser never sends more.
            let ok = o == "*"
                || ((o.starts_with("http://") || o.starts_with("https://"))
                    && !o
                        .split_once("://")
                        .is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/'))
                    && o.bytes().all(|b| b.is_ascii_graphic()));
            if !ok {
                p.push(format!(
                    "configuration: ECL_CORS_ORIGINS entries must be * or http(s)://host[:port], got {o:?}"
                ));
            }
        }
        if let Some(db) = &self.database_url
            && !(db.starts_with("sqlite:")
                || db.starts_with("postgres://")
                || db.starts_with("postgresql://"))
        {
            p.push(format!(
                "configuration: ECL_DATABASE_URL must start with sqlite: or postgres://, got {db:?}"
            ));
        }
        if !(self.amqp_url == "memory:"
            || self.amqp_url.starts_with("amqp://")
            || self.amqp_url.starts_with("amqps://"))
        {
            p.push(format!(
                "configuration: ECL_AMQP_URL must be memory: or amqp://…, got {:?}",
                self.amqp_url
            ));
        }
        if !(self.api_key_rate_per_sec.is_finite() && self.api_key_rate_per_sec > 0.0)
            || self.api_key_burst == 0
        {
            p.push(
                "configuration: ECL_API_KEY_RATE_PER_SEC and ECL_API_KEY_BURST must be positive"
                    .into(),
            );
        }
        if !(self.sign_in_rate_per_sec.is_finite() && self.sign_in_rate_per_sec > 0.0)
            || self.sign_in_burst == 0
        {
            p.push(
                "configuration: ECL_SIGN_IN_RATE_PER_SEC and ECL_SIGN_IN_BURST must be positive"
                    .into(),
            );
        }
        if self.max_response_bytes < 1024 {
            p.push("configuration: ECL_MAX_RESPONSE_BYTES must be at least 1024".into());
        }
        if !(self.redis_url == "memory:"
            || self.redis_url.starts_with("redis://")
            || self.redis_url.starts_with("rediss://"))
        {
            p.push(format!(
                "configuration: ECL_REDIS_URL must be memory: or redis://…, got {:?}",
                self.redis_url
            ));
        }
        if self.namespace.is_empty()
            || !self
                .namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            p.push(format!(
                "configuration: ECL_NAMESPACE must be non-empty [A-Za-z0-9_-], got {:?}",
                self.namespace
            ));
        }
        if self.lockout_threshold == 0 {
            p.push("configuration: ECL_LOCKOUT_THRESHOLD must be positive".into());
        }
        if self.request_timeout_ms == 0 {
            p.push("configuration: ECL_REQUEST_TIMEOUT_MS must be positive".into());
        }
        if let Some(url) = &self.smtp_url
            && !(url.expose().starts_with("smtp://") || url.expose().starts_with("smtps://"))
        {
            // The URL may hold a password: name the scheme only.
            p.push("configuration: ECL_SMTP_URL must start with smtp:// or smtps://".into());
        }
        if self.smtp_concurrency == 0 || self.smtp_retry_max_ms == 0 {
            p.push(
                "configuration: ECL_SMTP_CONCURRENCY and ECL_SMTP_RETRY_MAX_MS must be positive"
                    .into(),
            );
        }
        if self.db_max_connections == Some(0) {
            p.push("configuration: ECL_DB_MAX_CONNECTIONS must be positive".into());
        }
        if self.smtp_lease_ms < 1_000 {
            p.push("configuration: ECL_SMTP_LEASE_MS must be at least 1000".into());
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults_and_all_problems_are_reported() {
        let fig = Figment::from(Serialized::defaults(Settings::default())).merge(Serialized::globals(
            serde_json::json!({"amqp_url": "kafka://x", "redis_url": "mongo://", "namespace": ""}),
        ));
        let err = Settings::from_figment(fig).unwrap_err();
        assert_eq!(err.lines().count(), 3, "{err}");
        assert!(
            err.contains("ECL_AMQP_URL")
                && err.contains("ECL_REDIS_URL")
                && err.contains("ECL_NAMESPACE")
        );
    }

    #[test]
    fn a_pool_of_no_connections_is_refused() {
        let with = |n: u32| {
            Settings::from_figment(
                Figment::from(Serialized::defaults(Settings::default())).merge(
                    Serialized::globals(serde_json::json!({"db_max_connections": n})),
                ),
            )
        };
        let err = with(0).unwrap_err();
        assert!(err.contains("ECL_DB_MAX_CONNECTIONS"), "{err}");
        assert_eq!(with(3).unwrap().db_max_connections, Some(3));
        assert_eq!(Settings::default().db_max_connections, None);
    }

    #[test]
    fn cors_origins_are_a_checked_comma_separated_list() {
        let with = |v: &str| {
            Settings::from_figment(
                Figment::from(Serialized::defaults(Settings::default()))
                    .merge(Serialized::globals(serde_json::json!({"cors_origins": v}))),
            )
        };
        assert!(Settings::default().cors_origin_list().is_empty());
        let s = with(" https://portal.example.com, http://localhost:5173 ").unwrap();
        assert_eq!(
            s.cors_origin_list(),
            ["https://portal.example.com", "http://localhost:5173"]
        );
        assert_eq!(with("*").unwrap().cors_origin_list(), ["*"]);
        let err = with("https://ok.example,portal.example.com,https://x.example/path").unwrap_err();
        assert_eq!(err.lines().count(), 2, "{err}");
        assert!(err.contains("ECL_CORS_ORIGINS"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings {
            bootstrap_operator_password: Some(Secret::new("hunter2")),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
