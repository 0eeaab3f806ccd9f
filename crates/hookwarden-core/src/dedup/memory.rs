//! [`MemoryStore`]: the embedded, bounded, concurrent dedup store.

use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::key::DedupKey;
use super::store::{Claim, ClaimToken, DedupStore, StoreError};
use crate::clock::monotonic_ns;
use crate::error::ConfigError;

/// The default bound of a [`MemoryStore`]: 1,000,000 entries (about 94 MB of heap
/// when full: ≈ 94 bytes per completed key measured; see
/// `BENCHMARKS.md`).
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

/// A monotonic time source you move by hand, for testing leases and retention
/// without sleeping. Clones share the same time. It moves the store's time only: the
/// verifier's timestamp checks read a [`Clock`](crate::Clock) (a
/// [`ManualClock`](crate::ManualClock) in tests); advance both to age a delivery.
///
/// ```
/// use std::time::Duration;
/// use hookwarden_core::dedup::{Claim, DedupKey, DedupStore, ManualTime, MemoryStore};
///
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
/// # }
/// let time = ManualTime::new();
/// let store = MemoryStore::builder().with_time(time.clone()).build()?;
/// let key = DedupKey::new("test", "msg_1");
/// assert!(matches!(block_on(store.claim(&key, Duration::from_secs(60)))?, Claim::New(_)));
/// assert_eq!(block_on(store.claim(&key, Duration::from_secs(60)))?, Claim::InFlight);
/// time.advance(Duration::from_secs(60)); // the lease ends
/// assert!(matches!(block_on(store.claim(&key, Duration::from_secs(60)))?, Claim::New(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualTime(Arc<AtomicU64>);

impl ManualTime {
    /// A time source at zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Move forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(nanos(by), Ordering::SeqCst);
    }

    /// The time elapsed since zero.
    #[must_use]
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

#[derive(Debug, Clone)]
enum Time {
    /// [`monotonic_ns`] when the store was created.
    Monotonic(u64),
    Manual(ManualTime),
}

impl Time {
    /// Nanoseconds since the store was created.
    fn now_ns(&self) -> u64 {
        match self {
            Self::Monotonic(start) => monotonic_ns().saturating_sub(*start),
            Self::Manual(t) => t.0.load(Ordering::SeqCst),
        }
    }
}

/// Whole nanoseconds, saturating (584 years fit).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// How many eviction queues completions are spread over (by key hash), so that
/// concurrent completions rarely wait for each other.
const QUEUES: usize = 16;
/// The least time between two sweeps for in-flight claims whose lease ended, made
/// when the store is full and no completion has expired (a sweep is O(entries)).
const SWEEP_EVERY_NS: u64 = 1_000_000_000;
/// `last_sweep` before the first sweep.
const NEVER: u64 = u64::MAX;

/// The first 128 bits of the key's SHA-256: the map stores this instead of the
/// string (collisions would need 2^64 work; the key is never truncated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeyHash(u64, u64);

impl KeyHash {
    fn of(key: &DedupKey) -> Self {
        let d = key.digest();
        let mut hi = [0; 8];
        let mut lo = [0; 8];
        hi.copy_from_slice(&d[..8]);
        lo.copy_from_slice(&d[8..]);
        Self(u64::from_le_bytes(hi), u64::from_le_bytes(lo))
    }
}

impl Hash for KeyHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already uniformly distributed: hand the map one word of it.
        state.write_u64(self.0);
    }
}

/// Passes a [`KeyHash`]'s word through (it is a digest already).
#[derive(Debug, Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by KeyHash; FNV-1a keeps any other use correct.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One entry: in flight (a token) or completed (token zero), until `expires` (ns).
/// 16 bytes, so that a map bucket (key hash and slot) is 32: a fifth less memory than
/// 40-byte buckets.
#[derive(Debug, Clone, Copy)]
struct Slot {
    token: u64,
    expires: u64,
}

const COMPLETED: u64 = 0;

impl Slot {
    fn is_completed(&self) -> bool {
        self.token == COMPLETED
    }

    /// Whether this slot is still the completion queued as `done` (not taken over,
    /// released and claimed again, or purged and re-completed since).
    fn is_completion(&self, done: &Done) -> bool {
        self.is_completed() && self.expires == done.expires
    }
}

/// A completion, in the order they happened: the eviction queue.
#[derive(Debug, Clone, Copy)]
struct Done {
    key: KeyHash,
    expires: u64,
}

/// The slot's value of a token this store gave out (they fit in 64 bits); `None`
/// for any other token, which matches no slot.
fn slot_token(token: &ClaimToken) -> Option<u64> {
    u64::try_from(token.as_u128()).ok()
}

/// The embedded dedup store: one process, concurrent, bounded, expiring.
///
/// - **Concurrent**: a sharded [`DashMap`]; every step is atomic under its shard's
///   lock, so of any number of concurrent claims of one key exactly one is
///   [`Claim::New`].
/// - **Compact**: the map holds the first 128 bits of the key's SHA-256 and 16 bytes
///   of state, not the key string.
/// - **Expiring without a background thread**: an entry's deadline is checked when
///   it is accessed; each claim also drops up to two completed entries whose
///   retention ended (the oldest of its key's queue), and [`purge_expired`](Self::purge_expired)
///   sweeps everything on demand.
/// - **Bounded** ([`with_max_entries`](MemoryStoreBuilder::with_max_entries)): a claim
///   of a new key when the store is full first drops a completed entry whose
///   retention ended, then in-flight claims whose lease ended (found by a sweep of
///   every entry, at most once a second: on a full store of a million entries that
///   claim waits milliseconds; a lease that ends between two sweeps waits for the
///   next, and a claim meanwhile evicts a completion instead), and only then evicts
///   the *oldest completed* entry
///   (completions wait in 16 queues chosen by key hash, in completion order; of the
///   queue fronts the one expiring first goes, which with one retention for all is
///   the oldest), counted by [`evictions`](Self::evictions). An in-flight claim is
///   never evicted while its lease runs; when
///   nothing but unexpired in-flight claims remain, the claim fails with a
///   [`StoreError`] of kind `Full` (fail closed: the adapters answer 503 and the
///   sender retries later).
///
/// Evicting a completed entry early means a late retry of that delivery would run
/// the handler again: size the bound for the retention (deliveries per day ×
/// retention days), or use a shared store such as Redis.
///
/// Time is monotonic (not the wall clock); tests inject a [`ManualTime`].
pub struct MemoryStore {
    map: DashMap<KeyHash, Slot, BuildHasherDefault<PassThrough>>,
    done: Box<[Mutex<VecDeque<Done>>]>,
    len: AtomicUsize,
    max_entries: usize,
    evictions: AtomicU64,
    /// When the last sweep for ended leases ran ([`NEVER`] before the first).
    last_sweep: AtomicU64,
    time: Time,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .field("max_entries", &self.max_entries)
            .field("evictions", &self.evictions())
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Configures a [`MemoryStore`]; see [`MemoryStore::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_entries: usize,
    time: Option<ManualTime>,
}

impl MemoryStoreBuilder {
    /// The most entries (in-flight claims plus completed deliveries) kept at once.
    /// Defaults to [`DEFAULT_MAX_ENTRIES`].
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// Read the time from `time` instead of the monotonic clock (for tests).
    /// Defaults to the system's monotonic clock (coarse on Linux: leases and
    /// retentions are seconds or more, a few milliseconds of resolution is plenty).
    pub fn with_time(mut self, time: ManualTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Build the store. Memory is allocated as entries arrive, not up front.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the maximum number of entries is zero.
    pub fn build(self) -> Result<MemoryStore, ConfigError> {
        if self.max_entries == 0 {
            return Err(ConfigError::new(
                "the memory store needs room for at least one entry",
            ));
        }
        Ok(MemoryStore::with(self.max_entries, self.time))
    }
}

impl MemoryStore {
    /// A store with the defaults ([`DEFAULT_MAX_ENTRIES`], monotonic clock).
    #[must_use]
    pub fn new() -> Self {
        Self::with(DEFAULT_MAX_ENTRIES, None)
    }

    /// Configure a store.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            max_entries: DEFAULT_MAX_ENTRIES,
            time: None,
        }
    }

    fn with(max_entries: usize, time: Option<ManualTime>) -> Self {
        Self {
            map: DashMap::default(),
            done: (0..QUEUES).map(|_| Mutex::new(VecDeque::new())).collect(),
            len: AtomicUsize::new(0),
            max_entries,
            evictions: AtomicU64::new(0),
            last_sweep: AtomicU64::new(NEVER),
            time: time.map_or_else(|| Time::Monotonic(monotonic_ns()), Time::Manual),
        }
    }

    /// Entries held now: in-flight claims and completed deliveries, including
    /// expired ones not yet swept. Never more than the maximum.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the store holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound on entries.
    #[must_use]
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// How many completed deliveries were evicted before their retention ended,
    /// to make room (expired entries dropped are not counted).
    #[must_use]
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    /// Drop every expired entry now (an O(entries) sweep; never required, since
    /// expired entries are dropped as the store is used). Returns how many it dropped.
    pub fn purge_expired(&self) -> usize {
        let now = self.time.now_ns();
        let removed = self.remove_expired_slots(now, 0);
        for q in 0..QUEUES {
            self.lock_done(q).retain(|d| now < d.expires);
        }
        removed
    }

    /// Remove every entry expired at `now` from the map (an O(entries) walk), and
    /// count them out of `len` but for the first `reserve` (slots the caller takes as
    /// its own). How many went.
    ///
    /// Every removal lowers `len` inside the map's closure, under the shard's lock:
    /// a claim of the same key waits for the lock and finds the room, where lowering
    /// it after the removal let such a claim see a full store that was not, and evict
    /// a retained completion. (A claim of another key may now insert an instant before
    /// the removal ends: the map can hold one entry more than the bound per removal in
    /// progress, never `len`.)
    fn remove_expired_slots(&self, now: u64, reserve: usize) -> usize {
        let mut removed = 0;
        self.map.retain(|_, slot| {
            let keep = now < slot.expires;
            if !keep {
                removed += 1;
                if removed > reserve {
                    self.len.fetch_sub(1, Ordering::Relaxed);
                }
            }
            keep
        });
        removed
    }

    fn lock_done(&self, queue: usize) -> MutexGuard<'_, VecDeque<Done>> {
        // A queue is valid whatever a panicking holder left: keep using it.
        match self.done.get(queue) {
            Some(q) => q.lock().unwrap_or_else(PoisonError::into_inner),
            None => self.done[0].lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// A token no claim of this process has had: a per-thread counter started at a
    /// random point of the 64-bit space (two threads' runs would have to come within
    /// as many claims of each other to meet), never zero (the completed marker).
    fn next_token() -> u64 {
        thread_local! {
            // The high 64 of the random token's 128 bits (always fit).
            static NEXT: std::cell::Cell<u64> = std::cell::Cell::new(
                u64::try_from(ClaimToken::random().as_u128() >> 64).unwrap_or(1),
            );
        }
        NEXT.with(|c| {
            let mut n = c.get();
            if n == COMPLETED {
                n = 1;
            }
            c.set(n.wrapping_add(1));
            n
        })
    }

    /// Remove the entry queued as `done` if it is still that completion. Called with
    /// the queue locked and no map guard held (lock order: queue, then map). With
    /// `keep_slot`, the entry count is left as it is: the caller takes the freed
    /// slot as its own reservation.
    fn drop_done(&self, done: Done, now: u64, keep_slot: bool) -> bool {
        // `len` lowered under the shard's lock (see `remove_expired_slots`).
        let removed = self
            .map
            .remove_if(&done.key, |_, s| {
                let hit = s.is_completion(&done);
                if hit && !keep_slot {
                    self.len.fetch_sub(1, Ordering::Relaxed);
                }
                hit
            })
            .is_some();
        if removed && now < done.expires {
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
        removed
    }

    /// Drop up to two completed entries of `queue` whose retention ended, if the
    /// queue is free.
    fn reap(&self, now: u64, queue: usize) {
        let Some(Ok(mut queue)) = self.done.get(queue).map(Mutex::try_lock) else {
            return;
        };
        for _ in 0..2 {
            match queue.front() {
                Some(d) if d.expires <= now => {
                    let d = *d;
                    queue.pop_front();
                    self.drop_done(d, now, false);
                }
                _ => break,
            }
        }
    }

    /// How many completions a queue holds at most: well above its share of the
    /// entries, so that only stale entries or very mixed retentions reach it.
    fn queue_cap(&self) -> usize {
        self.max_entries / QUEUES * 2 + 64
    }

    /// The queue that holds the completions of `key`.
    fn queue_of(key: KeyHash) -> usize {
        usize::try_from(key.1 % QUEUES as u64).unwrap_or(0)
    }

    /// Pop the oldest completion: the queue fronts are the oldest of each queue; of
    /// those, the one expiring first (with one retention for all: the oldest).
    /// Ties are broken from queue `start` on, so that no queue is favoured. With
    /// `expired_at`, only a completion whose retention ended by then.
    fn pop_oldest(&self, start: usize, expired_at: Option<u64>) -> Option<Done> {
        loop {
            let mut best: Option<(usize, Done)> = None;
            for q in (0..QUEUES).map(|j| (start + j) % QUEUES) {
                if let Some(d) = self.lock_done(q).front().copied()
                    && best.is_none_or(|(_, b)| d.expires < b.expires)
                {
                    best = Some((q, d));
                }
            }
            let (q, d) = best?;
            if expired_at.is_some_and(|now| now < d.expires) {
                return None;
            }
            let mut queue = self.lock_done(q);
            // Still the front (another thread may have popped it meanwhile)?
            if queue
                .front()
                .is_some_and(|f| f.key == d.key && f.expires == d.expires)
            {
                return queue.pop_front();
            }
        }
    }

    /// Make room for one entry and reserve it for the caller (counted in `len`), in
    /// the order that loses least: a completion whose retention ended; an in-flight
    /// claim whose lease ended (its handler overran it); only then the oldest
    /// completion still retained (an eviction). Whether a slot was reserved.
    /// Reserving (rather than freeing) the slot keeps a busy thread from taking the
    /// room another made, over and over.
    fn make_room(&self, now: u64, start: usize) -> bool {
        while let Some(d) = self.pop_oldest(start, Some(now)) {
            if self.drop_done(d, now, true) {
                return true;
            }
        }
        if self.sweep_due(now) && self.sweep_reserving(now) {
            return true;
        }
        while let Some(d) = self.pop_oldest(start, None) {
            if self.drop_done(d, now, true) {
                return true;
            }
        }
        // Nothing completed to evict: whatever expired, however recent the last sweep.
        self.sweep_reserving(now)
    }

    /// Whether a sweep for ended leases may run now (at most one per
    /// [`SWEEP_EVERY_NS`]); the caller that gets `true` runs it.
    fn sweep_due(&self, now: u64) -> bool {
        let last = self.last_sweep.load(Ordering::Relaxed);
        (last == NEVER || now.saturating_sub(last) >= SWEEP_EVERY_NS)
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Drop every expired entry, keeping one freed slot reserved for the caller.
    /// Whether any was dropped.
    fn sweep_reserving(&self, now: u64) -> bool {
        self.remove_expired_slots(now, 1) > 0
    }

    fn claim_now(&self, key: &DedupKey, lease: Duration) -> Result<Claim, StoreError> {
        let hash = KeyHash::of(key);
        let now = self.time.now_ns();
        let expires = now.saturating_add(nanos(lease).max(1));
        self.reap(now, Self::queue_of(hash));
        let mut reserved = false;
        // At most three rounds: look; make room (reserving it); insert.
        for _ in 0..3 {
            match self.map.entry(hash) {
                Entry::Occupied(mut e) => {
                    if reserved {
                        // Someone inserted this key meanwhile: give the room back.
                        self.len.fetch_sub(1, Ordering::Relaxed);
                    }
                    let slot = e.get_mut();
                    if now < slot.expires {
                        return Ok(if slot.is_completed() {
                            Claim::Completed
                        } else {
                            Claim::InFlight
                        });
                    }
                    // Expired (lease or retention ended): take it over in place.
                    let token = Self::next_token();
                    *slot = Slot { token, expires };
                    return Ok(Claim::New(ClaimToken::from_u128(token.into())));
                }
                Entry::Vacant(v) => {
                    reserved = reserved
                        || self
                            .len
                            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                                (n < self.max_entries).then_some(n + 1)
                            })
                            .is_ok();
                    if reserved {
                        let token = Self::next_token();
                        v.insert(Slot { token, expires });
                        return Ok(Claim::New(ClaimToken::from_u128(token.into())));
                    }
                }
            }
            // Full: make room with no map guard held, then insert.
            if !self.make_room(now, Self::queue_of(hash)) {
                break;
            }
            reserved = true;
        }
        if reserved {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        Err(StoreError::full(format!(
            "memory store is full ({} entries, all in-flight claims)",
            self.max_entries
        )))
    }

    fn complete_now(&self, key: &DedupKey, token: &ClaimToken, retention: Duration) -> bool {
        let hash = KeyHash::of(key);
        let now = self.time.now_ns();
        let expires = now.saturating_add(nanos(retention).max(1));
        let Some(token) = slot_token(token) else {
            return false;
        };
        {
            let Some(mut slot) = self.map.get_mut(&hash) else {
                return false;
            };
            if slot.token != token || slot.is_completed() || now >= slot.expires {
                return false;
            }
            *slot = Slot {
                token: COMPLETED,
                expires,
            };
        }
        let mut queue = self.lock_done(Self::queue_of(hash));
        queue.push_back(Done { key: hash, expires });
        // Keep the queue bounded even when stale entries pile up in it (well above
        // its share of the entries). Expired and stale entries go first, wherever
        // they are: with two retentions in one store, short-lived completions expire
        // behind a long-lived one at the front, which `reap` does not get past.
        let cap = self.queue_cap();
        if queue.len() > cap {
            queue.retain(|d| {
                if d.expires <= now {
                    self.drop_done(*d, now, false);
                    return false;
                }
                self.map.get(&d.key).is_some_and(|s| s.is_completion(d))
            });
        }
        while queue.len() > cap {
            if let Some(d) = queue.pop_front() {
                self.drop_done(d, now, false);
            }
        }
        true
    }

    fn release_now(&self, key: &DedupKey, token: &ClaimToken) -> bool {
        let hash = KeyHash::of(key);
        let now = self.time.now_ns();
        let Some(token) = slot_token(token) else {
            return false;
        };
        let mut live = false;
        // `len` lowered under the shard's lock (see `remove_expired_slots`).
        let removed = self
            .map
            .remove_if(&hash, |_, s| {
                live = now < s.expires;
                let hit = !s.is_completed() && s.token == token;
                if hit {
                    self.len.fetch_sub(1, Ordering::Relaxed);
                }
                hit
            })
            .is_some();
        removed && live
    }
}

impl DedupStore for MemoryStore {
    async fn claim(&self, key: &DedupKey, lease: Duration) -> Result<Claim, StoreError> {
        self.claim_now(key, lease)
    }

    async fn complete(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self.complete_now(key, token, retention))
    }

    async fn release(&self, key: &DedupKey, token: &ClaimToken) -> Result<bool, StoreError> {
        Ok(self.release_now(key, token))
    }

    fn release_detached(&self, key: DedupKey, token: ClaimToken) {
        self.release_now(&key, &token);
    }

    fn complete_detached(&self, key: DedupKey, token: ClaimToken, retention: Duration) {
        self.complete_now(&key, &token, retention);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::dedup::ClaimGuard;

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    const LEASE: Duration = Duration::from_secs(60);
    const KEEP: Duration = Duration::from_secs(3600);

    fn store(max: usize) -> (MemoryStore, ManualTime) {
        let t = ManualTime::new();
        (
            MemoryStore::builder()
                .with_max_entries(max)
                .with_time(t.clone())
                .build()
                .unwrap(),
            t,
        )
    }

    fn k(i: usize) -> DedupKey {
        DedupKey::new("t", &format!("msg_{i}"))
    }

    /// `key` claimed and completed, retained for [`KEEP`].
    fn completed(s: &MemoryStore, key: &DedupKey) {
        let t = new_token(s, key);
        assert!(block_on(s.complete(key, &t, KEEP)).unwrap());
    }

    /// In a store with room for two, `k(0)` completed and retained: `workers` run in
    /// loops on their own threads while `step` runs here, for 1.5 s or until an
    /// eviction. The store never holds more than two keys, so nothing may be evicted
    /// and `k(0)` stays completed.
    fn race_beside_a_retained_completion(
        s: &MemoryStore,
        workers: &[&(dyn Fn() + Sync)],
        mut step: impl FnMut(),
    ) {
        use std::sync::atomic::AtomicBool;
        completed(s, &k(0));
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for work in workers {
                let stop = &stop;
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        work();
                    }
                });
            }
            let start = std::time::Instant::now();
            while start.elapsed() < Duration::from_millis(1500) && s.evictions() == 0 {
                step();
            }
            stop.store(true, Ordering::Relaxed);
        });
        assert_eq!(s.evictions(), 0);
        assert_eq!(block_on(s.claim(&k(0), LEASE)).unwrap(), Claim::Completed);
    }

    /// Two threads claim and release delivery `k(1)` (its handler keeps failing).
    /// (When `len` was lowered after the removal, a claim in between saw a full store
    /// and evicted `k(0)`: within milliseconds, by a reviewer's stress test.)
    #[test]
    fn a_release_racing_a_claim_never_evicts_a_retained_completion() {
        let (s, _t) = store(2);
        let b = k(1);
        let claim_and_release = || match block_on(s.claim(&b, LEASE)) {
            Ok(Claim::New(t)) => {
                block_on(s.release(&b, &t)).unwrap();
            }
            Ok(_) => {}
            Err(e) => panic!("a store holding two keys refused: {e}"),
        };
        race_beside_a_retained_completion(&s, &[&claim_and_release, &claim_and_release], || {
            std::thread::sleep(Duration::from_millis(5));
        });
    }

    /// The same with a purge racing the claims of `k(1)`, whose leases keep ending.
    #[test]
    fn a_purge_racing_a_claim_never_evicts_a_retained_completion() {
        let (s, time) = store(2);
        let b = k(1);
        let purge = || {
            s.purge_expired();
        };
        race_beside_a_retained_completion(&s, &[&purge], || {
            // `b`'s handler overruns its lease; the sender retries.
            let claim = block_on(s.claim(&b, Duration::from_micros(1)));
            assert!(claim.is_ok(), "a store holding two keys refused: {claim:?}");
            time.advance(Duration::from_micros(1));
        });
    }

    /// Two retentions in one store (two endpoints sharing it): one-second completions
    /// queued behind a four-day one expire there. When its queue outgrew its cap, the
    /// cap evicted the four-day completion from a store far from full; the expired
    /// ones go first now.
    #[test]
    fn short_retentions_queued_behind_a_long_one_do_not_evict_it() {
        let (s, time) = store(1000);
        let a = DedupKey::new("stripe", "evt_a");
        let queue = MemoryStore::queue_of(KeyHash::of(&a));
        let t = new_token(&s, &a);
        assert!(block_on(s.complete(&a, &t, Duration::from_secs(4 * 86_400))).unwrap());
        let cap = s.queue_cap();
        let (mut i, mut sent) = (0, 0);
        while sent < 2 * cap {
            i += 1;
            let key = DedupKey::new("github", &format!("d{i}"));
            if MemoryStore::queue_of(KeyHash::of(&key)) != queue {
                continue;
            }
            sent += 1;
            let t = new_token(&s, &key);
            assert!(block_on(s.complete(&key, &t, Duration::from_secs(1))).unwrap());
            time.advance(Duration::from_secs(2));
        }
        assert_eq!(s.evictions(), 0);
        assert_eq!(block_on(s.claim(&a, LEASE)).unwrap(), Claim::Completed);
        assert!(s.len() < 10, "expired completions left: {}", s.len());
    }

    fn new_token(s: &MemoryStore, key: &DedupKey) -> ClaimToken {
        match block_on(s.claim(key, LEASE)).unwrap() {
            Claim::New(t) => t,
            other => panic!("expected New, got {other:?}"),
        }
    }

    /// A map bucket is the key's hash and its slot: 32 bytes (it was 40: 111 bytes of
    /// heap per retained key, now 94).
    #[test]
    fn a_bucket_is_32_bytes() {
        assert_eq!(std::mem::size_of::<(KeyHash, Slot)>(), 32);
    }

    /// Only the token the claim got settles it: not another claim's, nor one whose
    /// low 64 bits match but which this store never gave out.
    #[test]
    fn only_the_claims_own_token_completes_or_releases_it() {
        let (s, _) = store(10);
        let key = k(1);
        let token = new_token(&s, &key);
        let other = new_token(&s, &k(2));
        assert_ne!(token, other);
        let foreign = ClaimToken::from_u128(token.as_u128() | (1 << 64));
        assert!(!block_on(s.complete(&key, &other, KEEP)).unwrap());
        assert!(!block_on(s.complete(&key, &foreign, KEEP)).unwrap());
        assert!(!block_on(s.release(&key, &foreign)).unwrap());
        assert_eq!(block_on(s.claim(&key, LEASE)).unwrap(), Claim::InFlight);
        assert!(block_on(s.complete(&key, &token, KEEP)).unwrap());
        assert_eq!(block_on(s.claim(&key, LEASE)).unwrap(), Claim::Completed);
    }

    #[test]
    fn concurrent_claims_of_one_key_yield_exactly_one_new() {
        let s = Arc::new(MemoryStore::new());
        let key = k(0);
        let barrier = Arc::new(Barrier::new(64));
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let (s, key, b) = (Arc::clone(&s), key.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    b.wait();
                    block_on(s.claim(&key, LEASE)).unwrap()
                })
            })
            .collect();
        let claims: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            claims.iter().filter(|c| matches!(c, Claim::New(_))).count(),
            1
        );
        assert_eq!(claims.iter().filter(|c| **c == Claim::InFlight).count(), 63);
    }

    #[test]
    fn release_makes_the_next_claim_new() {
        let (s, _) = store(10);
        let t = new_token(&s, &k(1));
        assert!(block_on(s.release(&k(1), &t)).unwrap());
        assert!(!block_on(s.release(&k(1), &t)).unwrap());
        assert_eq!(s.len(), 0);
        new_token(&s, &k(1));
    }

    #[test]
    fn completed_until_retention_ends_then_new() {
        let (s, time) = store(10);
        completed(&s, &k(1));
        assert_eq!(block_on(s.claim(&k(1), LEASE)).unwrap(), Claim::Completed);
        time.advance(KEEP - Duration::from_millis(1));
        assert_eq!(block_on(s.claim(&k(1), LEASE)).unwrap(), Claim::Completed);
        time.advance(Duration::from_millis(1));
        new_token(&s, &k(1));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn lease_expiry_frees_the_key() {
        let (s, time) = store(10);
        let _stale = new_token(&s, &k(1));
        time.advance(LEASE - Duration::from_millis(1));
        assert_eq!(block_on(s.claim(&k(1), LEASE)).unwrap(), Claim::InFlight);
        time.advance(Duration::from_millis(1));
        new_token(&s, &k(1));
    }

    #[test]
    fn a_stale_token_cannot_complete_or_release() {
        let (s, time) = store(10);
        let stale = new_token(&s, &k(1));
        time.advance(LEASE);
        let fresh = new_token(&s, &k(1));
        assert!(!block_on(s.complete(&k(1), &stale, KEEP)).unwrap());
        assert!(!block_on(s.release(&k(1), &stale)).unwrap());
        assert_eq!(block_on(s.claim(&k(1), LEASE)).unwrap(), Claim::InFlight);
        // A made-up token neither.
        assert!(!block_on(s.complete(&k(1), &ClaimToken::from_u128(7), KEEP)).unwrap());
        assert!(block_on(s.complete(&k(1), &fresh, KEEP)).unwrap());
        // Nor can anyone release or re-complete a completed delivery.
        assert!(!block_on(s.release(&k(1), &fresh)).unwrap());
        assert!(!block_on(s.complete(&k(1), &fresh, KEEP)).unwrap());
        assert_eq!(block_on(s.claim(&k(1), LEASE)).unwrap(), Claim::Completed);
        // Expired lease: completing is refused, as on Redis.
        let late = new_token(&s, &k(2));
        time.advance(LEASE);
        assert!(!block_on(s.complete(&k(2), &late, KEEP)).unwrap());
    }

    #[test]
    fn the_guard_releases_on_drop_and_completes_explicitly() {
        let s = Arc::new(MemoryStore::new());
        let t = new_token(&s, &k(1));
        drop(ClaimGuard::new(Arc::clone(&s), k(1), t));
        let t = new_token(&s, &k(1));
        let guard = ClaimGuard::new(Arc::clone(&s), k(1), t);
        assert!(block_on(guard.complete(KEEP)).unwrap());
        assert_eq!(block_on(s.claim(&k(1), LEASE)).unwrap(), Claim::Completed);
    }

    #[test]
    fn full_store_evicts_oldest_completed_never_in_flight() {
        let (s, time) = store(100);
        // 10 in-flight claims, then 90 completed deliveries.
        let inflight: Vec<_> = (0..10).map(|i| new_token(&s, &k(i))).collect();
        for i in 10..100 {
            let t = new_token(&s, &k(i));
            time.advance(Duration::from_millis(1));
            assert!(block_on(s.complete(&k(i), &t, KEEP)).unwrap());
        }
        assert_eq!(s.len(), 100);
        // 1,000 more deliveries, completed: each evicts the oldest completed one.
        for i in 100..1100 {
            time.advance(Duration::from_millis(1));
            let t = new_token(&s, &k(i));
            assert!(block_on(s.complete(&k(i), &t, KEEP)).unwrap());
            assert_eq!(s.len(), 100);
        }
        assert_eq!(s.evictions(), 1000);
        assert_eq!(s.map.len(), 100);
        for i in 0..10 {
            assert_eq!(block_on(s.claim(&k(i), LEASE)).unwrap(), Claim::InFlight);
        }
        // The most recent 90 are remembered, the older ones are gone.
        for i in 1010..1100 {
            assert_eq!(block_on(s.claim(&k(i), LEASE)).unwrap(), Claim::Completed);
        }
        assert!((0..QUEUES).map(|q| s.lock_done(q).len()).sum::<usize>() <= 100);
        drop(inflight);
    }

    /// A store whose completions and releases never get an answer (a remote store
    /// slower than the client's patience); its detached steps reach `MemoryStore`.
    struct Stalling(Arc<MemoryStore>);

    impl DedupStore for Stalling {
        async fn claim(&self, key: &DedupKey, lease: Duration) -> Result<Claim, StoreError> {
            self.0.claim(key, lease).await
        }
        fn complete(
            &self,
            _: &DedupKey,
            _: &ClaimToken,
            _: Duration,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send {
            std::future::pending()
        }
        fn release(
            &self,
            _: &DedupKey,
            _: &ClaimToken,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send {
            std::future::pending()
        }
        fn release_detached(&self, key: DedupKey, token: ClaimToken) {
            self.0.release_detached(key, token);
        }
        fn complete_detached(&self, key: DedupKey, token: ClaimToken, retention: Duration) {
            self.0.complete_detached(key, token, retention);
        }
    }

    #[test]
    fn a_completion_or_release_dropped_before_the_store_answered_still_settles() {
        let memory = Arc::new(MemoryStore::new());
        let stalling = Arc::new(Stalling(Arc::clone(&memory)));
        let mut cx = Context::from_waker(Waker::noop());
        // The handler succeeded; the client hangs up while the completion is on its way.
        let guard = ClaimGuard::new(Arc::clone(&stalling), k(1), new_token(&memory, &k(1)));
        let mut completing = Box::pin(guard.complete(KEEP));
        assert!(completing.as_mut().poll(&mut cx).is_pending());
        drop(completing);
        assert_eq!(
            block_on(memory.claim(&k(1), LEASE)).unwrap(),
            Claim::Completed
        );
        // The handler failed; the client hangs up while the release is on its way.
        let guard = ClaimGuard::new(Arc::clone(&stalling), k(2), new_token(&memory, &k(2)));
        let mut releasing = Box::pin(guard.release());
        assert!(releasing.as_mut().poll(&mut cx).is_pending());
        drop(releasing);
        assert!(matches!(
            block_on(memory.claim(&k(2), LEASE)).unwrap(),
            Claim::New(_)
        ));
    }

    #[test]
    fn full_store_drops_ended_leases_before_evicting_a_retained_completion() {
        let (s, time) = store(10);
        // 5 handlers that will overrun their lease, 5 completed deliveries.
        for i in 0..5 {
            new_token(&s, &k(i));
        }
        for i in 5..10 {
            let t = new_token(&s, &k(i));
            assert!(block_on(s.complete(&k(i), &t, KEEP)).unwrap());
        }
        time.advance(LEASE);
        // 5 new deliveries take the ended leases' room.
        for i in 10..15 {
            new_token(&s, &k(i));
        }
        assert_eq!(s.evictions(), 0);
        for i in 5..10 {
            assert_eq!(block_on(s.claim(&k(i), LEASE)).unwrap(), Claim::Completed);
        }
        // Only now, the store being full of live entries, does a completion go.
        new_token(&s, &k(15));
        assert_eq!(s.evictions(), 1);
        assert_eq!(s.len(), 10);
    }

    #[test]
    fn full_of_in_flight_claims_fails_closed_until_leases_end() {
        let (s, time) = store(8);
        for i in 0..8 {
            new_token(&s, &k(i));
        }
        let err = block_on(s.claim(&k(99), LEASE)).unwrap_err();
        assert_eq!(err.kind(), crate::dedup::StoreErrorKind::Full);
        assert_eq!(s.evictions(), 0);
        // Existing claims are still answered.
        assert_eq!(block_on(s.claim(&k(3), LEASE)).unwrap(), Claim::InFlight);
        time.advance(LEASE);
        new_token(&s, &k(99));
        assert_eq!(s.len(), 1);
        assert_eq!(s.evictions(), 0);
    }

    #[test]
    fn expired_entries_are_swept_as_the_store_is_used() {
        let (s, time) = store(1000);
        for i in 0..100 {
            let t = new_token(&s, &k(i));
            block_on(s.complete(&k(i), &t, Duration::from_secs(1))).unwrap();
        }
        time.advance(Duration::from_secs(2));
        // Each claim reaps up to two expired completions of its key's queue.
        for i in 1000..1200 {
            new_token(&s, &k(i));
        }
        assert!(s.len() < 220, "{}", s.len());
        assert_eq!(s.evictions(), 0);
        let left = s.len() - 200;
        assert_eq!(s.purge_expired(), left);
        assert_eq!(s.len(), 200);
        time.advance(LEASE);
        assert_eq!(s.purge_expired(), 200);
        assert!(s.is_empty());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_distinct_keys() {
        let (s, _) = store(1000);
        for i in 0..20_000 {
            let t = new_token(&s, &k(i));
            if i % 3 != 0 {
                block_on(s.complete(&k(i), &t, KEEP)).unwrap();
            } else {
                block_on(s.release(&k(i), &t)).unwrap();
            }
            assert!(s.len() <= 1000);
            assert_eq!(s.len(), s.map.len(), "at {i}");
        }
        assert_eq!(s.len(), 1000);
        assert_eq!(s.map.len(), 1000);
        assert!((0..QUEUES).map(|q| s.lock_done(q).len()).sum::<usize>() <= 1000);
        assert!(s.evictions() > 12_000);
    }

    #[test]
    fn concurrent_claims_on_a_full_store_always_find_room() {
        let s = Arc::new(MemoryStore::builder().with_max_entries(64).build().unwrap());
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let key = DedupKey::new("t", &format!("{t}-{i}"));
                        let token = new_token(&s, &key);
                        assert!(block_on(s.complete(&key, &token, KEEP)).unwrap());
                        assert!(s.len() <= 64);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(s.len(), 64);
        assert_eq!(s.map.len(), 64);
        assert_eq!(s.evictions(), 80_000 - 64);
    }

    #[test]
    fn zero_capacity_is_refused_and_durations_saturate() {
        assert_eq!(
            MemoryStore::builder()
                .with_max_entries(0)
                .build()
                .map(|_| ())
                .unwrap_err()
                .message(),
            "the memory store needs room for at least one entry"
        );
        assert_eq!(nanos(Duration::from_micros(1)), 1000);
        assert_eq!(nanos(Duration::from_millis(5)), 5_000_000);
        assert_eq!(nanos(Duration::MAX), u64::MAX);
    }
}
