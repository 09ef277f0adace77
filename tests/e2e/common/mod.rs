//! Test harness: boots the platform embedded (one process, in-memory SQLite, in-process bus) or
//! distributed (one `ecl serve --target …` process per target over the real RabbitMQ, PostgreSQL and
//! Redis, isolated per run by its own database and namespace), and speaks GraphQL to it.
#![allow(dead_code)]

pub mod smtp;
pub mod ws;

use ecl::App;
use ecl_kernel::Settings;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};
use std::{
    future::Future,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// How often [`wait_until`] and [`wait_for`] look again.
const POLL: Duration = Duration::from_millis(50);

/// Waits until `cond` holds, looking again every 50 ms; panics naming `what` at the deadline
/// (`limit` from now). Tests wait for eventually consistent effects (events, read models,
/// processes becoming ready) this way, never by sleeping a guessed time.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(limit, what, || {
        let fut = cond();
        async move { fut.await.then_some(()) }
    })
    .await
}

/// Waits until `probe` gives a value and returns it; panics naming `what` at the deadline.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?}: {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

pub const OPERATOR_PASSWORD: &str = "Operator-pass-1";

/// The per-client sign-in burst of test platforms (all their clients are 127.0.0.1).
pub const TEST_SIGN_IN_BURST: u32 = 100_000;

pub fn amqp_url() -> String {
    std::env::var("ECL_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}
pub fn redis_url() -> String {
    std::env::var("ECL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}
pub fn pg_url(db: &str) -> String {
    let base = std::env::var("ECL_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    format!("{base}/{db}")
}

/// The `ecl` binary the distributed suite runs: this build's, or `ECL_TEST_BIN` (the build
/// directory is shared by several checkouts here, and any of them may relink `target/debug/ecl`).
pub fn ecl_bin() -> String {
    std::env::var("ECL_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ecl").to_string())
}

/// A GraphQL client for one running platform.
pub struct Gql {
    pub base: String,
    pub http: reqwest::Client,
}

/// One GraphQL response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl Resp {
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }
    /// The data, deserialised into the test's own struct of the query's shape.
    pub fn typed<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.data().clone())
            .unwrap_or_else(|e| panic!("data of an unexpected shape ({e}): {}", self.body))
    }
    /// The `extensions.code` of the first error (panics if there is none).
    pub fn code(&self) -> String {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code, got {}", self.body))
            .to_string()
    }
}

impl Gql {
    pub fn new(addr: &str) -> Self {
        Gql {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    /// A client connecting from another loopback address (`127.0.0.2`): another client as far
    /// as the gateway's per-address limits go.
    pub fn from_local(addr: &str, local: std::net::IpAddr) -> Self {
        Gql {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .local_address(local)
                .build()
                .expect("client"),
        }
    }

    pub async fn raw(
        &self,
        token: Option<&str>,
        query: &str,
        vars: Value,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({"query": query, "variables": vars}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.expect("gateway reachable");
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body: Value = r.json().await.expect("JSON response");
        Resp {
            status,
            body,
            retry_after,
        }
    }

    pub async fn q(&self, token: Option<&str>, query: &str, vars: Value) -> Resp {
        self.raw(token, query, vars, &[]).await
    }

    pub async fn sign_in(&self, login_id: &str, password: &str) -> String {
        let r = self
            .q(
                None,
                "mutation($l:String!,$p:String!){ signIn(loginId:$l, password:$p){ accessToken } }",
                json!({"l": login_id, "p": password}),
            )
            .await;
        r.typed::<SignIn>().sign_in.access_token
    }

    /// Creates a contract of `kind` named `name` (customer filled in by [`contract_input`]),
    /// its owner `owner_login` with [`OWNER_PASSWORD`], as `token`.
    pub async fn create_contract(
        &self,
        token: &str,
        kind: Kind<'_>,
        name: &str,
        owner_login: &str,
    ) -> NewContract {
        let input = contract_input(name, None, owner_login);
        let r = match kind {
            Kind::Partner => {
                self.q(Some(token), CREATE_PARTNER, json!({"i": input}))
                    .await
            }
            Kind::Direct => {
                self.q(Some(token), CREATE_DIRECT, json!({"i": input}))
                    .await
            }
            Kind::ChildOf(p) => {
                self.q(Some(token), CREATE_CHILD, json!({"p": p, "i": input}))
                    .await
            }
        };
        let created: Created = r.typed();
        NewContract {
            id: created.contract().id.clone(),
            owner_login: owner_login.to_string(),
        }
    }

    /// Creates a tenant of `contract` in region `jp1`, as `token`; returns its id.
    pub async fn create_tenant(&self, token: &str, contract: &str, name: &str) -> String {
        let r = self
            .q(
                Some(token),
                "mutation($c: ID!, $n: String!){ createTenant(contractId:$c, input:{name:$n, region:\"jp1\"}){ id } }",
                json!({"c": contract, "n": name}),
            )
            .await;
        r.typed::<CreatedTenant>().create_tenant.id
    }

    /// Creates a user of `contract` with `role` (`ADMIN`, `USER`) and [`OWNER_PASSWORD`].
    pub async fn create_user(
        &self,
        token: &str,
        contract: &str,
        login: &str,
        role: &str,
    ) -> String {
        let r = self
            .q(
                Some(token),
                "mutation($c: ID!, $i: UserInput!){ createUser(contractId:$c, input:$i){ id } }",
                json!({"c": contract, "i": {"loginId": login, "email": format!("{login}@example.com"), "password": OWNER_PASSWORD, "role": role}}),
            )
            .await;
        r.typed::<CreatedUser>().create_user.id
    }

    /// Grants `user` access to `tenant`, as `token`.
    pub async fn grant(&self, token: &str, tenant: &str, user: &str) {
        let r = self
            .q(
                Some(token),
                "mutation($t: ID!, $u: ID!){ grantTenantAccess(tenantId:$t, userId:$u){ tenantId userId } }",
                json!({"t": tenant, "u": user}),
            )
            .await;
        let g: Granted = r.typed();
        assert_eq!(
            (
                g.grant_tenant_access.tenant_id.as_str(),
                g.grant_tenant_access.user_id.as_str()
            ),
            (tenant, user)
        );
    }

    /// Creates a member `login` of `contract` with `role` (`ADMIN`, `USER`), e-mail
    /// `{login}@example.com` and [`USER_PASSWORD`], as `token`; returns their id.
    pub async fn create_member(
        &self,
        token: &str,
        contract: &str,
        login: &str,
        role: &str,
    ) -> String {
        let r = self
            .q(
                Some(token),
                "mutation($c: ID!, $i: UserInput!){ createUser(contractId:$c, input:$i){ id } }",
                json!({"c": contract, "i": {"loginId": login, "email": format!("{login}@example.com"), "password": USER_PASSWORD, "role": role}}),
            )
            .await;
        r.typed::<CreatedUser>().create_user.id
    }

    /// A sign-in attempt, whatever its outcome (for the refusals).
    pub async fn try_sign_in(&self, login_id: &str, password: &str) -> Resp {
        self.q(
            None,
            "mutation($l:String!,$p:String!){ signIn(loginId:$l, password:$p){ accessToken } }",
            json!({"l": login_id, "p": password}),
        )
        .await
    }

    /// Abolishes `contract` (with `force`, its tenants go too) as `token`: the response, whose
    /// data is `abolishContract { status }`.
    pub async fn abolish_contract(&self, token: &str, contract: &str, force: bool) -> Resp {
        self.q(
            Some(token),
            "mutation($id: ID!, $f: Boolean){ abolishContract(id:$id, force:$f){ status } }",
            json!({"id": contract, "f": force}),
        )
        .await
    }

    /// A request authenticated with an API key (`X-Api-Key`).
    pub async fn key_q(&self, key: &str, query: &str, vars: Value) -> Resp {
        self.raw(None, query, vars, &[("x-api-key", key)]).await
    }

    pub async fn operator(&self) -> String {
        self.sign_in("operator", OPERATOR_PASSWORD).await
    }
}

/// Input for a contract with its owner.
pub fn contract_input(name: &str, external_id: Option<&str>, owner_login: &str) -> Value {
    json!({
        "name": name,
        "externalId": external_id,
        "customer": {"company": format!("{name} K.K."), "address": "1-1 Otemachi, Tokyo", "contactName": "Hanako Sato", "contactEmail": "contact@example.com"},
        "owner": {"loginId": owner_login, "email": format!("{owner_login}@example.com"), "password": "Owner-pass-1"}
    })
}

pub const OWNER_PASSWORD: &str = "Owner-pass-1";

/// The password of members made by [`Gql::create_member`].
pub const USER_PASSWORD: &str = "User-pass-123";

pub const CREATE_PARTNER: &str =
    "mutation($i: ContractInput!){ createPartnerContract(input:$i){ id } }";
pub const CREATE_DIRECT: &str =
    "mutation($i: ContractInput!){ createDirectContract(input:$i){ id } }";
pub const CREATE_CHILD: &str =
    "mutation($p: ID!, $i: ContractInput!){ createChildContract(parentId:$p, input:$i){ id } }";

/// Which contract [`Gql::create_contract`] creates (schema.graphql: `createPartnerContract`,
/// `createDirectContract`, `createChildContract`).
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    Partner,
    Direct,
    ChildOf(&'a str),
}

/// A contract just created, with its owner's credentials.
#[derive(Debug, Clone)]
pub struct NewContract {
    pub id: String,
    pub owner_login: String,
}

impl NewContract {
    /// The owner, signed in.
    pub async fn owner(&self, gql: &Gql) -> String {
        gql.sign_in(&self.owner_login, OWNER_PASSWORD).await
    }
}

/// An object with an `id` (what the create mutations select).
#[derive(Debug, Clone, Deserialize)]
pub struct Id {
    pub id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    sign_in: AccessToken,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessToken {
    access_token: String,
}

/// The data of one of the three create-contract mutations.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    create_partner_contract: Option<Id>,
    create_direct_contract: Option<Id>,
    create_child_contract: Option<Id>,
}
impl Created {
    fn contract(&self) -> &Id {
        self.create_partner_contract
            .as_ref()
            .or(self.create_direct_contract.as_ref())
            .or(self.create_child_contract.as_ref())
            .expect("a created contract")
    }
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedTenant {
    create_tenant: Id,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedUser {
    create_user: Id,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Granted {
    grant_tenant_access: Grant,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Grant {
    tenant_id: String,
    user_id: String,
}

/// The platform, embedded: target `all` in this process on port 0.
pub async fn spawn_embedded() -> (App, Gql) {
    spawn_embedded_with_clock(std::sync::Arc::new(ecl_kernel::SystemClock)).await
}

/// The same, on a clock the test moves (lockouts, token expiry) instead of sleeping.
pub async fn spawn_embedded_with_clock(clock: ecl_kernel::SharedClock) -> (App, Gql) {
    spawn_embedded_with(clock, |_| {}).await
}

/// The same, with settings of the test's own (rate limits, …).
pub async fn spawn_embedded_with(
    clock: ecl_kernel::SharedClock,
    tune: impl FnOnce(&mut Settings),
) -> (App, Gql) {
    let mut settings = Settings {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        database_url: Some("sqlite::memory:".into()),
        amqp_url: "memory:".into(),
        redis_url: "memory:".into(),
        bootstrap_operator_password: Some(ecl_kernel::Secret::new(OPERATOR_PASSWORD)),
        // Every test signs in from 127.0.0.1, many users in a row: only the tests of the
        // per-client sign-in limit keep it tight (through `tune`).
        sign_in_burst: TEST_SIGN_IN_BURST,
        ..Settings::default()
    };
    tune(&mut settings);
    let app = App::start_with_clock(settings, &["all".to_string()], clock)
        .await
        .expect("embedded platform starts");
    let gql = Gql::new(&app.addr.to_string());
    (app, gql)
}

/// The whole platform as one `ecl serve` process (SQLite in memory, in-process bus), for tests
/// that watch the process itself: its memory, its first metrics scrape. `env` adds settings.
pub async fn spawn_process(env: &[(&str, &str)]) -> Proc {
    let addr = format!("127.0.0.1:{}", free_port());
    let data = std::env::temp_dir().join(format!("ecl-test-{}", uuid::Uuid::new_v4().simple()));
    let child = Command::new(ecl_bin())
        .args(["serve", "--target", "all"])
        .env("ECL_HTTP_ADDR", &addr)
        .env("ECL_DATA_DIR", &data)
        .env("ECL_DATABASE_URL", "sqlite::memory:")
        .env("ECL_AMQP_URL", "memory:")
        .env("ECL_REDIS_URL", "memory:")
        .env("ECL_BOOTSTRAP_OPERATOR_PASSWORD", OPERATOR_PASSWORD)
        .env("ECL_SIGN_IN_BURST", TEST_SIGN_IN_BURST.to_string())
        .envs(env.iter().copied())
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ecl");
    let proc = Proc {
        target: "all".into(),
        addr: addr.clone(),
        child,
    };
    wait_until(Duration::from_secs(60), "ecl becomes ready", || {
        ready(&addr)
    })
    .await;
    proc
}

/// Does the process at `addr` answer /readyz with success?
async fn ready(addr: &str) -> bool {
    reqwest::get(format!("http://{addr}/readyz"))
        .await
        .is_ok_and(|r| r.status().is_success())
}

impl Proc {
    /// A `kB` field of the process's /proc status (`VmRSS`, `VmHWM`), in bytes.
    pub fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process is alive");
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or_else(|| panic!("{field} in /proc status"))
    }
}

/// One `ecl serve` process.
pub struct Proc {
    pub target: String,
    pub addr: String,
    pub child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The platform, distributed: one process per target, isolated by database and namespace.
pub struct Distributed {
    pub ns: String,
    pub db: String,
    /// The broker URL the processes of this run use (its own vhost, if it has one).
    pub amqp: String,
    /// The run's own RabbitMQ vhost: fault tests close its connections, and only its.
    pub vhost: Option<String>,
    pub procs: Vec<Proc>,
    /// Extra `ECL_*` settings every process of this run gets.
    pub env: Vec<(String, String)>,
    cleaned: bool,
}

/// A run that failed half-way still removes its database, queues and exchanges.
impl Drop for Distributed {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        self.procs.clear();
        let (db, ns, vhost) = (self.db.clone(), self.ns.clone(), self.vhost.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(purge(&db, &ns, vhost.as_deref()));
            }
        })
        .join();
    }
}

async fn purge(db: &str, ns: &str, vhost: Option<&str>) {
    if let Ok(admin) = sea_orm::Database::connect(pg_url("postgres")).await {
        use sea_orm::ConnectionTrait;
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await;
    }
    match vhost {
        // Its queues and exchanges go with it.
        Some(v) => {
            let _ = rabbitmqctl(&["delete_vhost", v]);
        }
        None => delete_amqp_namespace(ns).await,
    }
}

/// Runs `rabbitmqctl` (the broker's own CLI; the suite runs beside the broker), returning stdout.
pub fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl on PATH (fault tests manage the broker's connections)");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `amqp_url()` with another vhost.
fn amqp_url_in(vhost: &str) -> String {
    let base = amqp_url();
    let root = base.rsplit_once('/').map(|(r, _)| r).unwrap_or(&base);
    format!("{root}/{vhost}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Distributed {
    pub async fn start(targets: &[&str]) -> Distributed {
        Self::start_with_env(targets, &[]).await
    }

    /// The same, with extra settings for every process (`("ECL_API_KEY_BURST", "5")`).
    pub async fn start_with_env(targets: &[&str], env: &[(&str, &str)]) -> Distributed {
        let mut d = Self::prepare(env, false).await;
        for t in targets {
            d.spawn(t).await;
        }
        d
    }

    /// The same in a RabbitMQ vhost of the run's own (created here, deleted at cleanup), so a
    /// fault test can close every broker connection of the run — and none of anyone else's.
    pub async fn start_in_own_vhost(targets: &[&str], env: &[(&str, &str)]) -> Distributed {
        let mut d = Self::prepare(env, true).await;
        for t in targets {
            d.spawn(t).await;
        }
        d
    }

    /// A fresh database (and vhost) with no process yet.
    pub async fn prepare(env: &[(&str, &str)], own_vhost: bool) -> Distributed {
        let ns = format!(
            "t{}",
            uuid::Uuid::new_v4().simple().to_string().get(..10).unwrap()
        );
        let db = format!("ecl_{ns}");
        let admin = sea_orm::Database::connect(pg_url("postgres")).await.expect(
            "PostgreSQL reachable at ECL_TEST_PG_URL (run ./scripts/test, which starts it)",
        );
        use sea_orm::ConnectionTrait;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let vhost = own_vhost.then(|| format!("ecl_{ns}"));
        if let Some(v) = &vhost {
            rabbitmqctl(&["add_vhost", v]);
            rabbitmqctl(&["set_permissions", "-p", v, "guest", ".*", ".*", ".*"]);
        }
        Distributed {
            amqp: vhost.as_deref().map(amqp_url_in).unwrap_or_else(amqp_url),
            ns,
            db,
            vhost,
            procs: Vec::new(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            cleaned: false,
        }
    }

    /// Starts one process per entry of `targets` all at once (replicas racing on a fresh
    /// database), then waits until every one is ready; panics naming any that exited.
    pub async fn spawn_together(&mut self, targets: &[&str]) {
        // Every port chosen while the others are still held, so no two processes share one.
        let held: Vec<std::net::TcpListener> = targets
            .iter()
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports: Vec<u16> = held
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        drop(held);
        let procs: Vec<Proc> = targets
            .iter()
            .zip(ports)
            .map(|(t, port)| self.launch_on(t, port))
            .collect();
        let http = reqwest::Client::new();
        let started = Instant::now();
        let mut procs: Vec<(Proc, bool)> = procs.into_iter().map(|p| (p, false)).collect();
        while procs.iter().any(|(_, ready)| !ready) {
            for (p, ready) in procs.iter_mut().filter(|(_, r)| !r) {
                if let Some(status) = p.child.try_wait().expect("child status") {
                    panic!("a {} replica exited while starting: {status}", p.target);
                }
                if let Ok(r) = http.get(format!("http://{}/readyz", p.addr)).send().await
                    && r.status().is_success()
                {
                    *ready = true;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "not ready after 2 minutes: {:?}",
                procs
                    .iter()
                    .filter(|(_, r)| !r)
                    .map(|(p, _)| &p.target)
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.procs.extend(procs.into_iter().map(|(p, _)| p));
    }

    /// A bus client of this run (its broker, vhost and namespace), as internal producers use.
    pub async fn bus(&self) -> ecl_bus::Bus {
        ecl_bus::Bus::new(
            ecl_bus::connect(&self.amqp, &self.ns)
                .await
                .expect("broker reachable"),
        )
    }

    /// Is every process of the run ready (broker connected, database answering)?
    pub async fn all_ready(&self) -> bool {
        for p in &self.procs {
            if !ready(&p.addr).await {
                return false;
            }
        }
        true
    }

    /// A connection to the run's database (as the operator would open one), for ground truth.
    pub async fn database(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(pg_url(&self.db))
            .await
            .expect("test database")
    }

    /// Starts one more process for `target` and waits until it is ready.
    pub async fn spawn(&mut self, target: &str) -> &Proc {
        let proc = self.launch(target);
        let addr = proc.addr.clone();
        wait_until(
            Duration::from_secs(60),
            &format!("{target} becomes ready"),
            || ready(&addr),
        )
        .await;
        self.procs.push(proc);
        self.procs.last().unwrap()
    }

    /// Starts one process for `target` without waiting for it.
    fn launch(&self, target: &str) -> Proc {
        self.launch_on(target, free_port())
    }

    fn launch_on(&self, target: &str, port: u16) -> Proc {
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(ecl_bin())
            .args(["serve", "--target", target])
            .env("ECL_HTTP_ADDR", &addr)
            .env("ECL_DATABASE_URL", pg_url(&self.db))
            .env("ECL_AMQP_URL", &self.amqp)
            .env("ECL_REDIS_URL", redis_url())
            .env("ECL_NAMESPACE", &self.ns)
            .env("ECL_BOOTSTRAP_OPERATOR_PASSWORD", OPERATOR_PASSWORD)
            .env("ECL_SIGN_IN_BURST", TEST_SIGN_IN_BURST.to_string())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn ecl");
        Proc {
            target: target.to_string(),
            addr,
            child,
        }
    }

    pub fn gateway(&self) -> Gql {
        let p = self
            .procs
            .iter()
            .find(|p| p.target == "gateway")
            .expect("a gateway process");
        Gql::new(&p.addr)
    }

    /// Kills (SIGKILL) the first process of `target`: a crash, not a graceful stop.
    pub fn kill_one(&mut self, target: &str) {
        let i = self
            .procs
            .iter()
            .position(|p| p.target == target)
            .expect("process of target");
        let mut p = self.procs.remove(i);
        p.child.kill().expect("kill");
        let _ = p.child.wait();
    }

    /// Stops the processes and removes the run's database, queues and exchanges.
    pub async fn cleanup(mut self) {
        self.procs.clear();
        purge(&self.db, &self.ns, self.vhost.as_deref()).await;
        self.cleaned = true;
    }
}

/// Deletes a namespace's queues and exchanges from the broker.
pub async fn delete_amqp_namespace(ns: &str) {
    use lapin::{Connection, ConnectionProperties};
    let Ok(conn) = Connection::connect(&amqp_url(), ConnectionProperties::default()).await else {
        return;
    };
    let Ok(ch) = conn.create_channel().await else {
        return;
    };
    // Every target of the launcher's table, plus the bus tests' own.
    let mut targets: Vec<&str> = ecl::targets::modules().iter().map(|m| m.name).collect();
    targets.extend(["bench", "nobody"]);
    for t in targets {
        for q in [
            format!("{ns}.req.{t}"),
            format!("{ns}.rq.{t}"),
            format!("{ns}.evt.{t}"),
        ] {
            let _ = ch.queue_delete(q.as_str().into(), Default::default()).await;
        }
    }
    let _ = ch
        .queue_delete(format!("{ns}.dead").as_str().into(), Default::default())
        .await;
    for x in [format!("{ns}.events"), format!("{ns}.dlx")] {
        let _ = ch
            .exchange_delete(x.as_str().into(), Default::default())
            .await;
    }
    let _ = conn.close(200, "bye".into()).await;
}
