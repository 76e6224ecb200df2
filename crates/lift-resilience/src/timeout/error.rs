use std::fmt;
use std::time::Duration;

/// Which limit made a call time out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutLimit {
    /// The configured per-call timeout.
    Configured,
    /// The invocation deadline (minus the safety margin).
    Deadline,
}

/// The call did not finish in time; the inner future was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    limit: TimeoutLimit,
    after: Duration,
}

impl Elapsed {
    /// A timeout by `limit` after `after`.
    pub fn new(limit: TimeoutLimit, after: Duration) -> Self {
        Self { limit, after }
    }

    /// Which limit fired.
    pub fn limit(&self) -> TimeoutLimit {
        self.limit
    }

    /// How long the call ran before it was cancelled (zero if it was never started).
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit {
            TimeoutLimit::Configured => write!(f, "request timed out after {:?} (configured timeout)", self.after),
            TimeoutLimit::Deadline => write!(f, "request timed out after {:?} (invocation deadline)", self.after),
        }
    }
}

impl std::error::Error for Elapsed {}
