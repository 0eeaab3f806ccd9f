//! The [`DedupStore`] trait and the [`ClaimGuard`] that releases a claim it did not
//! complete.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::key::DedupKey;

/// The outcome of [`DedupStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody processed this delivery yet: the caller now holds it until it completes
    /// or releases it with this token, or until the lease runs out.
    New(ClaimToken),
    /// The delivery was processed successfully already: answer 200, do not run the
    /// handler again.
    Completed,
    /// Another worker holds the delivery right now: answer 409 so the sender retries.
    InFlight,
}

/// Proof of a claim: only its holder can complete or release it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(u128);

impl ClaimToken {
    /// A token with this value (stores generate them at random).
    #[must_use]
    pub const fn from_u128(value: u128) -> Self {
        Self(value)
    }

    /// A fresh random token.
    #[must_use]
    pub fn random() -> Self {
        use std::hash::{BuildHasher, Hasher};
        // Two independently seeded SipHash outputs: unpredictable enough to keep
        // claimers apart (tokens are not secrets, only distinct).
        let a = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(a);
        Self((u128::from(a) << 64) | u128::from(h.finish()))
    }

    /// The token's value.
    #[must_use]
    pub const fn as_u128(&self) -> u128 {
        self.0
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({:032x})", self.0)
    }
}

/// A dedup store failed (unreachable, timed out, full of in-flight claims...). The
/// adapters answer 503 with `Retry-After` so the sender retries: a delivery is never
/// lost to a store failure (unless fail-open was chosen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

/// What kind of failure a [`StoreError`] is (for metrics and logs; every kind is
/// answered alike: 503 with `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store could not be reached or refused the operation.
    Unavailable,
    /// The store did not answer within the configured timeout.
    Timeout,
    /// The store is full of claims it must not evict.
    Full,
    /// Anything else.
    Other,
}

impl StoreError {
    /// A store error of kind [`StoreErrorKind::Other`] with `message` (which must not
    /// contain credentials).
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_kind(StoreErrorKind::Other, message)
    }

    /// A store error of `kind` with `message` (which must not contain credentials).
    #[must_use]
    pub fn with_kind(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// [`StoreErrorKind::Unavailable`].
    #[must_use]
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::with_kind(StoreErrorKind::Unavailable, message)
    }

    /// [`StoreErrorKind::Timeout`].
    #[must_use]
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::with_kind(StoreErrorKind::Timeout, message)
    }

    /// [`StoreErrorKind::Full`].
    #[must_use]
    pub fn full(message: impl Into<String>) -> Self {
        Self::with_kind(StoreErrorKind::Full, message)
    }

    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// What went wrong.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dedup store error: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

/// Where claims and completed deliveries are remembered.
///
/// Implementations: [`MemoryStore`](super::MemoryStore) (embedded, one process) and
/// `hookwarden_redis::RedisStore` (several instances sharing the work).
///
/// Every step is one atomic operation on the store. A claim expires after its lease
/// so that a crashed worker's claim frees itself; a completion is kept for the
/// retention so that late retries are still recognised.
pub trait DedupStore: Send + Sync + 'static {
    /// Claim `key` for `lease`: [`Claim::New`] for exactly one of any number of
    /// concurrent callers, [`Claim::Completed`] once completed (until the retention
    /// ends), [`Claim::InFlight`] while someone else holds an unexpired claim.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot answer.
    fn claim(
        &self,
        key: &DedupKey,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Mark `key` completed, kept for `retention`, if `token` still holds the claim.
    /// Returns whether it did (false: the lease expired and someone else holds or
    /// completed it).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot answer.
    fn complete(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Give the claim up, if `token` still holds it, so that the next delivery attempt
    /// is processed. Returns whether it did.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot answer.
    fn release(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Release from a destructor: must not block. A store with async I/O spawns the
    /// release on its runtime; if it cannot, the lease frees the key later.
    fn release_detached(&self, key: DedupKey, token: ClaimToken);

    /// Complete from a destructor: a [`ClaimGuard`] dropped while its
    /// [`complete`](ClaimGuard::complete) was waiting for the store (the client hung
    /// up after the handler succeeded). Must not block, like
    /// [`release_detached`](Self::release_detached). The default releases instead,
    /// so that the sender's retry is processed again rather than refused with 409
    /// until the lease ends; a store with async I/O spawns the completion.
    fn complete_detached(&self, key: DedupKey, token: ClaimToken, retention: Duration) {
        let _ = retention;
        self.release_detached(key, token);
    }
}

impl<S: DedupStore> DedupStore for Arc<S> {
    fn claim(
        &self,
        key: &DedupKey,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        (**self).claim(key, lease)
    }

    fn complete(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).complete(key, token, retention)
    }

    fn release(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).release(key, token)
    }

    fn release_detached(&self, key: DedupKey, token: ClaimToken) {
        (**self).release_detached(key, token);
    }

    fn complete_detached(&self, key: DedupKey, token: ClaimToken, retention: Duration) {
        (**self).complete_detached(key, token, retention);
    }
}

/// A held claim. [`complete`](Self::complete) it after the handler succeeded; dropping
/// it otherwise (handler error, panic, cancelled future) releases the key so the
/// sender's retry is processed. The claim stays held until the store has answered:
/// dropping a `complete` or `release` future before then completes or releases the
/// claim from the destructor ([`DedupStore::complete_detached`],
/// [`DedupStore::release_detached`]), so a claim is never left to its lease because
/// a client hung up.
#[must_use = "dropping the guard releases the claim"]
pub struct ClaimGuard<S: DedupStore> {
    store: Arc<S>,
    key: DedupKey,
    token: Option<ClaimToken>,
    /// Set while [`complete`](Self::complete) waits for the store: its retention.
    completing: Option<Duration>,
}

impl<S: DedupStore> fmt::Debug for ClaimGuard<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimGuard")
            .field("key", &self.key)
            .field("held", &self.token.is_some())
            .finish()
    }
}

impl<S: DedupStore> ClaimGuard<S> {
    /// Wrap a claim won with `token`.
    pub fn new(store: Arc<S>, key: DedupKey, token: ClaimToken) -> Self {
        Self {
            store,
            key,
            token: Some(token),
            completing: None,
        }
    }

    /// The key held.
    #[must_use]
    pub fn key(&self) -> &DedupKey {
        &self.key
    }

    /// Mark the delivery completed for `retention`. Dropping the returned future once
    /// it has started, before the store answered, completes the claim from the
    /// guard's destructor; dropping it unpolled releases the claim, as dropping the
    /// guard does.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot answer; the claim is then left to expire
    /// with its lease (a retry in the meantime gets 409).
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` would hold the guard twice in its future"
    )]
    pub fn complete(
        mut self,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            let Some(token) = &self.token else {
                return Ok(false);
            };
            self.completing = Some(retention);
            let answer = self.store.complete(&self.key, token, retention).await;
            // Answered (or failed, leaving the claim to its lease): nothing left to
            // settle on drop.
            self.token.take();
            answer
        }
    }

    /// Release the claim now (instead of on drop), waiting for the store.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot answer; the lease frees the key later.
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` would hold the guard twice in its future"
    )]
    pub fn release(mut self) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            let Some(token) = &self.token else {
                return Ok(false);
            };
            let answer = self.store.release(&self.key, token).await;
            self.token.take();
            answer
        }
    }
}

impl<S: DedupStore> Drop for ClaimGuard<S> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            match self.completing {
                Some(retention) => {
                    self.store
                        .complete_detached(self.key.clone(), token, retention);
                }
                None => self.store.release_detached(self.key.clone(), token),
            }
        }
    }
}
