//! Store failures are logged at most once per interval, so an unreachable table costs one log
//! line per interval, not one per call.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};

/// At most one warning per `interval_ms` (on the store's monotonic clock).
#[derive(Debug)]
pub(crate) struct ThrottledLog {
    interval_ms: u64,
    /// Monotonic ms of the next allowed line, plus one (`0`: never logged).
    next: AtomicU64,
}

impl ThrottledLog {
    pub(crate) fn new(interval_ms: u64) -> Self {
        Self {
            interval_ms,
            next: AtomicU64::new(0),
        }
    }

    /// Logs `message` unless a line was logged less than an interval before `now_ms`. Returns
    /// whether it logged.
    pub(crate) fn warn(&self, now_ms: u64, breaker: &str, message: impl Display) -> bool {
        let next = self.next.load(Ordering::Relaxed);
        if now_ms.saturating_add(1) < next {
            return false;
        }
        let won = self
            .next
            .compare_exchange(
                next,
                now_ms.saturating_add(1).saturating_add(self.interval_ms),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok();
        if won {
            tracing::warn!(
                breaker,
                "shared breaker state unavailable, using local state: {message}"
            );
        }
        won
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_once_per_interval() {
        let log = ThrottledLog::new(1000);
        assert!(log.warn(0, "b", "down"));
        assert!(!log.warn(1, "b", "down"));
        assert!(!log.warn(999, "b", "down"));
        assert!(log.warn(1000, "b", "down"));
        assert!(!log.warn(1500, "b", "down"));
    }
}
