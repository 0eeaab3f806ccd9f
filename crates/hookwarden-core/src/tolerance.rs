//! [`Tolerance`]: how far a signed timestamp may be from now.

use time::Duration;

/// How far in the past and in the future a signed timestamp may be.
///
/// Requests older than `past` are refused as replays; requests further than `future`
/// ahead are refused too (a sender's clock may run a little fast, not an hour).
///
/// ```
/// use hookwarden_core::Tolerance;
/// use time::Duration;
/// let t = Tolerance::symmetric(Duration::minutes(5));
/// assert_eq!(t.past(), Duration::minutes(5));
/// assert_eq!(t.future(), Duration::minutes(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    past: Duration,
    future: Duration,
}

impl Tolerance {
    /// Five minutes either way: the default of most providers.
    pub const FIVE_MINUTES: Self = Self::symmetric(Duration::minutes(5));

    /// The same allowance in both directions (negative values count as zero).
    #[must_use]
    pub const fn symmetric(both: Duration) -> Self {
        Self::new(both, both)
    }

    /// Separate allowances for the past and the future (negative values count as zero).
    #[must_use]
    pub const fn new(past: Duration, future: Duration) -> Self {
        Self {
            past: if past.is_negative() {
                Duration::ZERO
            } else {
                past
            },
            future: if future.is_negative() {
                Duration::ZERO
            } else {
                future
            },
        }
    }

    /// How old a timestamp may be.
    #[must_use]
    pub const fn past(&self) -> Duration {
        self.past
    }

    /// How far ahead a timestamp may be.
    #[must_use]
    pub const fn future(&self) -> Duration {
        self.future
    }

    /// Whether `timestamp` (unix seconds) is acceptable at `now` (unix seconds).
    /// Returns the skew (timestamp - now) when it is not.
    pub(crate) fn check(&self, timestamp: i64, now: i64) -> Result<(), (bool, Duration)> {
        let skew = timestamp.saturating_sub(now);
        let skew_d = Duration::seconds(skew);
        if skew < 0 && skew_d.abs() > self.past {
            Err((true, skew_d))
        } else if skew > 0 && skew_d > self.future {
            Err((false, skew_d))
        } else {
            Ok(())
        }
    }
}

impl Default for Tolerance {
    fn default() -> Self {
        Self::FIVE_MINUTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_directional() {
        let t = Tolerance::new(Duration::seconds(300), Duration::seconds(10));
        assert!(t.check(1000 - 300, 1000).is_ok());
        assert_eq!(
            t.check(1000 - 301, 1000),
            Err((true, Duration::seconds(-301)))
        );
        assert!(t.check(1010, 1000).is_ok());
        assert_eq!(t.check(1011, 1000), Err((false, Duration::seconds(11))));
        assert!(t.check(i64::MIN, i64::MAX).is_err());
        assert!(t.check(i64::MAX, i64::MIN).is_err());
    }
}
