//! The Redis dedup store for hookwarden: [`RedisStore`], for several instances (service
//! replicas) sharing the work of one webhook endpoint.
//!
//! Each step of the [`DedupStore`] protocol is **one atomic round trip**, a Lua script
//! on a **single key** (so it works on Redis Cluster, Valkey and Redis ≥ 2.6.12; for a
//! cluster, connect with `RedisStore::cluster_builder`, feature `cluster`):
//!
//! | step | script |
//! |---|---|
//! | claim | `SET key token NX PX lease`; when the key exists, its value in the same script: `done` → [`Claim::Completed`], a token → [`Claim::InFlight`] |
//! | complete | if the value is still our token: `SET key done PX retention` |
//! | release | if the value is still our token: `DEL key` |
//!
//! Scripts are sent with `EVALSHA` (the first call after a Redis restart loads them
//! once). The connection is the `redis` crate's reconnecting, multiplexed
//! `ConnectionManager`: concurrent requests share one connection and are
//! pipelined, and a dropped connection is re-established in the background, so the
//! store recovers from a Redis restart by itself.
//!
//! Every call is bounded by a timeout ([`RedisStoreBuilder::with_timeout`]). A
//! failure is a [`StoreError`], never a panic and never a silent pass: the receive
//! pipeline answers 503 with `Retry-After` so the sender retries (fail closed), unless
//! fail-open was chosen there.
//!
//! The store needs a Tokio runtime with its time driver (`#[tokio::main]`, axum and
//! actix-web all have one).
//!
//! ```no_run
//! use std::time::Duration;
//! use hookwarden_core::dedup::{Claim, DedupKey, DedupStore};
//! use hookwarden_redis::RedisStore;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379/")?
//!     .with_prefix("billing:webhooks:")
//!     .with_timeout(Duration::from_millis(500))
//!     .connect()
//!     .await?;
//! let key = DedupKey::new("stripe", "evt_1NG8Du2eZvKYlo2CUI79vXWy");
//! if let Claim::New(token) = store.claim(&key, Duration::from_secs(60)).await? {
//!     // ... run the handler, then:
//!     store.complete(&key, &token, Duration::from_secs(4 * 86_400)).await?;
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hookwarden_core::ConfigError;
use hookwarden_core::dedup::{Claim, ClaimToken, DedupKey, DedupStore, StoreError};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, Pipeline, RedisError, RedisFuture, Script, Value};

pub use hookwarden_core::dedup::StoreErrorKind;

/// The default key prefix: `"hookwarden:dedup:"`.
pub const DEFAULT_PREFIX: &str = "hookwarden:dedup:";

/// The default timeout of every call: 1 second.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// The default time [`RedisStore`] keeps retrying a completion that failed because
/// Redis was unreachable or slow: 3 seconds.
pub const DEFAULT_COMPLETE_RETRY: Duration = Duration::from_secs(3);

/// The default timeout of establishing a connection: 2 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

// A claim's value is its token in 32 hex digits; a completed key's is `done`.
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == 'done' then
  return 2
end
return 3
";

const COMPLETE: &str = r"
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
  return 1
end
if v == 'done' then
  return 2
end
return 0
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// A [`DedupStore`] in Redis, shared by every instance that connects to it.
///
/// Cheap to clone (clones share the connection). Build it with
/// [`RedisStore::builder`]; see the [crate docs](crate) for the protocol.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Conn,
    prefix: Box<str>,
    timeout: Duration,
    complete_retry: Duration,
    claim: Script,
    complete: Script,
    release: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// The connection: to one server, or to a cluster (routed by key slot).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// Where the builder connects.
enum Target {
    Single(Client),
    #[cfg(feature = "cluster")]
    Cluster(Vec<redis::ConnectionInfo>),
}

/// Configures a [`RedisStore`]; see [`RedisStore::builder`].
#[must_use]
pub struct RedisStoreBuilder {
    target: Target,
    prefix: String,
    timeout: Duration,
    connect_timeout: Duration,
    retries: usize,
    complete_retry: Duration,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retries", &self.retries)
            .field("complete_retry", &self.complete_retry)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Run `settle` with a clone of the store on the current Tokio runtime, without
    /// waiting for it; without a runtime, nothing runs (the lease frees the key).
    fn spawn_detached<F>(&self, settle: impl FnOnce(Self) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            drop(handle.spawn(settle(self.clone())));
        }
    }

    /// Configure a store for the Redis at `url`: `redis://[user:password@]host[:port][/db]`,
    /// `rediss://` needs a TLS feature of the `redis` crate, `unix:///path` a socket.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the URL is not a Redis URL (the message never repeats the
    /// URL, which may hold a password).
    pub fn builder(url: &str) -> Result<RedisStoreBuilder, ConfigError> {
        let client = Client::open(url).map_err(|e| {
            ConfigError::new(format!(
                "invalid Redis URL ({:?}): expected redis://[user:password@]host[:port][/db]",
                e.kind()
            ))
        })?;
        Ok(Self::builder_with_client(client))
    }

    /// Configure a store over an already configured `redis` [`Client`].
    pub fn builder_with_client(client: Client) -> RedisStoreBuilder {
        RedisStoreBuilder::defaults(Target::Single(client))
    }

    /// Configure a store for a Redis Cluster, from the URLs of some of its nodes
    /// (each `redis://[user:password@]host:port`; the others are discovered). Each
    /// key goes to the node that owns its slot, and the client follows the
    /// cluster's redirections when slots move. Feature `cluster`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = hookwarden_redis::RedisStore::cluster_builder([
    ///     "redis://10.0.0.1:6379",
    ///     "redis://10.0.0.2:6379",
    /// ])?
    /// .connect()
    /// .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when a URL is not a Redis URL (the message never repeats it,
    /// as it may hold a password), or none is given.
    #[cfg(feature = "cluster")]
    pub fn cluster_builder<I, T>(nodes: I) -> Result<RedisStoreBuilder, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        use redis::IntoConnectionInfo as _;
        let nodes = nodes
            .into_iter()
            .enumerate()
            .map(|(i, url)| {
                url.as_ref().into_connection_info().map_err(|e| {
                    ConfigError::new(format!(
                        "invalid Redis URL for cluster node {i} ({:?}): expected redis://[user:password@]host:port",
                        e.kind()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(ConfigError::new(
                "a Redis Cluster needs at least one node URL",
            ));
        }
        Ok(RedisStoreBuilder::defaults(Target::Cluster(nodes)))
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The timeout of every call.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The Redis key that holds `key`: the prefix then the key.
    #[must_use]
    pub fn redis_key(&self, key: &DedupKey) -> String {
        let mut k = String::with_capacity(self.inner.prefix.len() + key.as_str().len());
        k.push_str(&self.inner.prefix);
        k.push_str(key.as_str());
        k
    }

    /// Check that Redis answers (a `PING`), for readiness probes.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when Redis cannot be reached within the timeout.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.inner.conn.clone();
        let pong: String = self
            .bounded("ping", async move {
                redis::cmd("PING").query_async(&mut conn).await
            })
            .await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::new("redis ping: unexpected answer"))
        }
    }

    /// Run `fut` within the timeout, mapping every failure to a [`StoreError`].
    async fn bounded<T>(
        &self,
        op: &'static str,
        fut: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::unavailable(format!(
                "redis {op}: no Tokio runtime (RedisStore needs one)"
            )));
        }
        match tokio::time::timeout(self.inner.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(map_error(op, &e)),
            Err(_) => Err(StoreError::timeout(format!(
                "redis {op}: no answer within {} ms",
                self.inner.timeout.as_millis()
            ))),
        }
    }

    async fn run_script(
        &self,
        op: &'static str,
        script: &Script,
        key: &DedupKey,
        args: (&str, Option<u64>),
    ) -> Result<i64, StoreError> {
        let mut conn = self.inner.conn.clone();
        let mut invocation = script.key(self.redis_key(key));
        invocation.arg(args.0);
        if let Some(ms) = args.1 {
            invocation.arg(ms);
        }
        self.bounded(op, async move { invocation.invoke_async(&mut conn).await })
            .await
    }
}

impl RedisStoreBuilder {
    /// Every option at its default, connecting to `target`.
    fn defaults(target: Target) -> Self {
        Self {
            target,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retries: 3,
            complete_retry: DEFAULT_COMPLETE_RETRY,
        }
    }

    /// The prefix of every Redis key: `{prefix}{namespace}:{key}`. Use a hash tag
    /// (`"{hooks}:"`) only if you need every key on one Cluster slot; the store itself
    /// needs none. Defaults to [`DEFAULT_PREFIX`].
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest any call may take, from sending to the answer, reconnection
    /// included; past it the call fails with [`StoreErrorKind::Timeout`]. Keep it
    /// well under the sender's own timeout. Defaults to [`DEFAULT_TIMEOUT`] (1 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest one connection attempt may take. Defaults to
    /// [`DEFAULT_CONNECT_TIMEOUT`] (2 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times a lost connection is retried (with exponential backoff) before
    /// the next call starts over. Defaults to 3. Calls keep failing fast (within the
    /// timeout) while Redis is away, and the store reconnects when it is back.
    pub fn with_reconnect_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// How long a completion that failed because Redis was unreachable, did not
    /// answer, or answered that it cannot serve yet (`LOADING` after a restart,
    /// `BUSY`, `MASTERDOWN`, `TRYAGAIN`, `CLUSTERDOWN`, `READONLY`) is retried (with a growing pause, 50 ms up to 500 ms) before the error
    /// is returned. The handler has already succeeded at that point: giving up leaves
    /// the claim to expire with its lease, after which a retry of the delivery would
    /// run the handler again. The response to the sender waits for this. Zero
    /// disables retrying. Defaults to [`DEFAULT_COMPLETE_RETRY`] (3 s).
    pub fn with_complete_retry(mut self, budget: Duration) -> Self {
        self.complete_retry = budget;
        self
    }

    fn validate(&self) -> Result<ConnectionManagerConfig, StoreError> {
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(StoreError::new("redis timeouts must be above zero"));
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::unavailable(
                "RedisStore must be built inside a Tokio runtime",
            ));
        }
        Ok(ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(self.retries)
            .set_max_delay(Duration::from_secs(1)))
    }

    fn finish(self, conn: Conn) -> RedisStore {
        RedisStore {
            inner: Arc::new(Inner {
                conn,
                prefix: self.prefix.into(),
                timeout: self.timeout,
                complete_retry: self.complete_retry,
                claim: Script::new(CLAIM),
                complete: Script::new(COMPLETE),
                release: Script::new(RELEASE),
            }),
        }
    }

    /// Connect now (within the connect timeout) and load the scripts, so that a
    /// service whose Redis is unreachable fails at start-up.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the timeouts are zero, there is no Tokio runtime, or Redis
    /// cannot be reached or refuses the scripts.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let config = self.validate()?;
        let limit = self.connect_timeout.saturating_add(self.timeout);
        let connecting = async {
            match &self.target {
                Target::Single(client) => {
                    ConnectionManager::new_with_config(client.clone(), config)
                        .await
                        .map(Conn::Single)
                }
                #[cfg(feature = "cluster")]
                Target::Cluster(nodes) => self
                    .cluster_client(nodes)?
                    .get_async_connection()
                    .await
                    .map(Conn::Cluster),
            }
        };
        let conn = match tokio::time::timeout(limit, connecting).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(map_error("connect", &e)),
            Err(_) => {
                return Err(StoreError::timeout(format!(
                    "redis connect: no connection within {} ms",
                    limit.as_millis()
                )));
            }
        };
        let store = self.finish(conn);
        for script in [
            &store.inner.claim,
            &store.inner.complete,
            &store.inner.release,
        ] {
            let mut conn = store.inner.conn.clone();
            let _sha: String = store
                .bounded(
                    "script load",
                    async move { script.load_async(&mut conn).await },
                )
                .await?;
        }
        Ok(store)
    }

    /// Build without connecting: the first call connects. A service then starts even
    /// while Redis is away (its deliveries get 503 until Redis answers).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the timeouts are zero or there is no Tokio runtime.
    pub fn connect_lazy(self) -> Result<RedisStore, StoreError> {
        let config = self.validate()?;
        let conn = match &self.target {
            Target::Single(client) => {
                ConnectionManager::new_lazy_with_config(client.clone(), config)
                    .map_err(|e| map_error("connect", &e))?
            }
            #[cfg(feature = "cluster")]
            Target::Cluster(_) => {
                return Err(StoreError::new(
                    "a Redis Cluster store connects at start-up: use connect()",
                ));
            }
        };
        Ok(self.finish(Conn::Single(conn)))
    }

    /// The cluster client, with this builder's timeouts and retries.
    #[cfg(feature = "cluster")]
    fn cluster_client(
        &self,
        nodes: &[redis::ConnectionInfo],
    ) -> Result<redis::cluster::ClusterClient, RedisError> {
        redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
            .connection_timeout(self.connect_timeout)
            .response_timeout(self.timeout)
            .retries(u32::try_from(self.retries).unwrap_or(u32::MAX))
            .build()
    }
}

/// A Redis error as a [`StoreError`] (its text comes from the `redis` crate and the
/// server, never the URL).
fn map_error(op: &str, e: &RedisError) -> StoreError {
    let message = format!("redis {op}: {e}");
    if e.is_timeout() {
        StoreError::timeout(message)
    } else if e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_unrecoverable_error()
        // The server is up but cannot serve yet: LOADING (a restart still loading its
        // RDB or AOF), MASTERDOWN, TRYAGAIN, CLUSTERDOWN, READONLY (a failover), BUSY
        // (another client's long script). Transient: a completion is retried through
        // them as through an outage.
        || matches!(
            e.retry_method(),
            redis::RetryMethod::WaitAndRetry | redis::RetryMethod::RefreshSlotsAndRetry
        )
        || e.code() == Some("BUSY")
    {
        StoreError::unavailable(message)
    } else {
        StoreError::new(message)
    }
}

fn token_hex(token: &ClaimToken) -> String {
    format!("{:032x}", token.as_u128())
}

/// Whole milliseconds, rounded up, at least 1 (Redis refuses `PX 0`).
fn millis(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

/// A claim sent whose answer has not arrived. Dropped unanswered (a timeout, a lost
/// connection, a cancelled future), it releases whatever the claim may have won: the
/// script may have run without its answer reaching us, and the key would then answer
/// 409 to every retry until the lease ended. The release is compare-and-set on this
/// claim's token, so it removes nothing else.
struct UnansweredClaim<'a> {
    store: &'a RedisStore,
    key: &'a DedupKey,
    token: Option<ClaimToken>,
}

impl Drop for UnansweredClaim<'_> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.store.release_detached(self.key.clone(), token);
        }
    }
}

impl DedupStore for RedisStore {
    async fn claim(&self, key: &DedupKey, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::random();
        let hex = token_hex(&token);
        let mut unanswered = UnansweredClaim {
            store: self,
            key,
            token: Some(token.clone()),
        };
        let state = self
            .run_script("claim", &self.inner.claim, key, (&hex, Some(millis(lease))))
            .await?;
        unanswered.token = None;
        match state {
            1 => Ok(Claim::New(token)),
            2 => Ok(Claim::Completed),
            3 => Ok(Claim::InFlight),
            other => Err(StoreError::new(format!(
                "redis claim: unexpected script answer {other}"
            ))),
        }
    }

    async fn complete(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        let hex = token_hex(token);
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        let mut retried = false;
        loop {
            let attempt = self
                .run_script(
                    "complete",
                    &self.inner.complete,
                    key,
                    (&hex, Some(millis(retention))),
                )
                .await;
            match attempt {
                // 2: the key is completed but no longer holds our token. After a lost
                // answer that is our own earlier attempt having applied.
                Ok(done) => return Ok(done == 1 || (retried && done == 2)),
                // Compare-and-set on the token: retrying is safe.
                Err(e)
                    if matches!(
                        e.kind(),
                        StoreErrorKind::Unavailable | StoreErrorKind::Timeout
                    ) && started.elapsed().saturating_add(pause) < self.inner.complete_retry =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                    retried = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn release(&self, key: &DedupKey, token: &ClaimToken) -> Result<bool, StoreError> {
        let hex = token_hex(token);
        let done = self
            .run_script("release", &self.inner.release, key, (&hex, None))
            .await?;
        Ok(done == 1)
    }

    /// Spawns the release on the current Tokio runtime; without one, the lease frees
    /// the key when it ends.
    fn release_detached(&self, key: DedupKey, token: ClaimToken) {
        self.spawn_detached(|store| async move {
            // A failure leaves the key to its lease, which is the fallback anyway.
            let _ = store.release(&key, &token).await;
        });
    }

    /// Spawns the completion likewise.
    fn complete_detached(&self, key: DedupKey, token: ClaimToken, retention: Duration) {
        self.spawn_detached(|store| async move {
            // Retried within the completion budget; a failure leaves the key to its
            // lease, as an answered failure would.
            let _ = store.complete(&key, &token, retention).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_whole_milliseconds_at_least_one() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 2);
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }

    /// Redis up but not serving yet (a restart loading its data, a failover, another
    /// client's long script) is an outage to retry through, not a final error.
    #[test]
    fn transient_server_errors_are_unavailable() {
        use redis::{ErrorKind, ServerErrorKind};
        for kind in [
            ServerErrorKind::BusyLoading,
            ServerErrorKind::TryAgain,
            ServerErrorKind::MasterDown,
            ServerErrorKind::ClusterDown,
            ServerErrorKind::ReadOnly,
        ] {
            let e = RedisError::from((ErrorKind::Server(kind), "not yet"));
            assert_eq!(
                map_error("complete", &e).kind(),
                StoreErrorKind::Unavailable,
                "{kind:?}"
            );
        }
        for kind in [ServerErrorKind::ResponseError, ServerErrorKind::NoPerm] {
            let e = RedisError::from((ErrorKind::Server(kind), "refused"));
            assert_eq!(map_error("complete", &e).kind(), StoreErrorKind::Other);
        }
    }

    #[test]
    fn tokens_are_32_hex_digits_and_never_done() {
        let t = token_hex(&ClaimToken::from_u128(0));
        assert_eq!(t.len(), 32);
        // The value of a completed key is `done`: never a token.
        assert_ne!(t, "done");
        assert_eq!(token_hex(&ClaimToken::from_u128(u128::MAX)), "f".repeat(32));
    }

    #[test]
    fn bad_urls_are_config_errors_without_the_url() {
        for url in ["http://user:hunter2@example.com", "hunter2", ""] {
            let err = RedisStore::builder(url).map(|_| ()).unwrap_err();
            let message = err.message();
            assert!(
                message.starts_with("invalid Redis URL (")
                    && message.ends_with("): expected redis://[user:password@]host[:port][/db]"),
                "{url:?}: {err}"
            );
            assert!(!message.contains("hunter2"), "{err}");
        }
        assert!(RedisStore::builder("redis://127.0.0.1:6379/").is_ok());
    }

    #[test]
    fn building_outside_a_runtime_is_an_error_not_a_panic() {
        let b = RedisStore::builder("redis://127.0.0.1:1/").unwrap();
        let err = b.connect_lazy().map(|_| ()).unwrap_err();
        assert_eq!(
            (err.kind(), err.message()),
            (
                StoreErrorKind::Unavailable,
                "RedisStore must be built inside a Tokio runtime"
            )
        );
    }

    /// Zero timeouts are refused before anything else (no runtime needed to say so).
    #[test]
    fn zero_timeouts_are_refused() {
        let builder = || RedisStore::builder("redis://127.0.0.1:1/").unwrap();
        for b in [
            builder().with_timeout(Duration::ZERO),
            builder().with_connect_timeout(Duration::ZERO),
        ] {
            let err = b.connect_lazy().map(|_| ()).unwrap_err();
            assert_eq!(
                (err.kind(), err.message()),
                (StoreErrorKind::Other, "redis timeouts must be above zero")
            );
        }
    }
}
