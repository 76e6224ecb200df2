use std::fmt;
use std::time::Duration;

/// A rate-limit decision: the quota and where the key stands in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Whether the call is admitted.
    pub allowed: bool,
    /// Calls allowed in a burst (the quota's capacity).
    pub limit: u32,
    /// Calls still allowed right now, after this one.
    pub remaining: u32,
    /// Time until the quota is fully restored.
    pub reset: Duration,
    /// For a denied call: when the next call can be admitted.
    pub retry_after: Option<Duration>,
}

impl Decision {
    /// A decision.
    pub fn new(allowed: bool, limit: u32, remaining: u32, reset: Duration, retry_after: Option<Duration>) -> Self {
        Self {
            allowed,
            limit,
            remaining,
            reset,
            retry_after,
        }
    }
}

/// The call's key is over its quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    decision: Decision,
}

impl RateLimited {
    /// A rejection with `decision`.
    pub fn new(decision: Decision) -> Self {
        Self { decision }
    }

    /// The decision (limit, remaining, reset, retry-after).
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited: limit {}", self.decision.limit)?;
        if let Some(ra) = self.decision.retry_after {
            write!(f, ", retry after {ra:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RateLimited {}
