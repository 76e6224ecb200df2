use std::fmt;
use std::time::Duration;

use super::BreakerState;

/// The circuit breaker rejected the call without calling the inner service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    state: BreakerState,
    retry_after: Option<Duration>,
}

impl Open {
    /// A rejection in `state`; `retry_after` is the time until trial calls are let through.
    pub fn new(state: BreakerState, retry_after: Option<Duration>) -> Self {
        Self { state, retry_after }
    }

    /// The state that rejected the call (`Open`, `HalfOpen` with all trial calls taken, or
    /// `ForcedOpen`).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Time until the breaker lets a trial call through, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl fmt::Display for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circuit breaker is open ({:?})", self.state)
    }
}

impl std::error::Error for Open {}
