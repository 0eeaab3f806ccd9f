//! Injectable clocks: the current time used for the timestamp tolerance.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of the current time, in whole unix seconds.
///
/// The default is [`SystemClock`]; tests use [`ManualClock`] to verify at a fixed
/// instant or to advance time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since the unix epoch.
    fn now_unix(&self) -> i64;

    /// The current time.
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.now_unix()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// The system's wall clock.
///
/// On Linux it reads `CLOCK_REALTIME_COARSE` (through `rustix`): the time of the last
/// kernel tick, a few milliseconds behind at most, for a few nanoseconds where
/// [`SystemTime::now`](std::time::SystemTime::now) costs 25–60 ns (more on virtual
/// machines). Timestamps are whole seconds and tolerances minutes, so the coarse
/// reading changes no outcome. Elsewhere it reads `SystemTime::now`.
///
/// ```
/// use hookwarden_core::{Clock, SystemClock};
/// let now = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH)
///     .unwrap()
///     .as_secs() as i64;
/// assert!((SystemClock.now_unix() - now).abs() <= 1);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(target_os = "linux")]
    fn now_unix(&self) -> i64 {
        rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec
    }

    #[cfg(not(target_os = "linux"))]
    fn now_unix(&self) -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
        }
    }
}

/// A monotonic reading in nanoseconds, for leases and retentions: on Linux
/// `CLOCK_MONOTONIC_COARSE` (a few nanoseconds to read, a few milliseconds of
/// resolution), elsewhere [`Instant`](std::time::Instant) since the first call.
pub(crate) fn monotonic_ns() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
        u64::try_from(t.tv_sec)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(t.tv_nsec).unwrap_or(0))
    }
    #[cfg(not(target_os = "linux"))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        u64::try_from(
            START
                .get_or_init(std::time::Instant::now)
                .elapsed()
                .as_nanos(),
        )
        .unwrap_or(u64::MAX)
    }
}

/// A clock that stands still until told to move; clones share the same time. It is
/// the verifier's (timestamp tolerance); a [`MemoryStore`](crate::dedup::MemoryStore)
/// keeps its own time for leases and retention
/// ([`ManualTime`](crate::dedup::ManualTime) in tests).
///
/// ```
/// use hookwarden_core::{Clock, ManualClock};
/// let clock = ManualClock::new(1_700_000_000);
/// let other = clock.clone();
/// clock.advance(30);
/// assert_eq!(other.now_unix(), 1_700_000_030);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock showing `unix_seconds`.
    #[must_use]
    pub fn new(unix_seconds: i64) -> Self {
        Self(Arc::new(AtomicI64::new(unix_seconds)))
    }

    /// Set the time.
    pub fn set(&self, unix_seconds: i64) {
        self.0.store(unix_seconds, Ordering::SeqCst);
    }

    /// Move the time forward (or back, with a negative value).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
