use std::fmt;

use super::ShedReason;

/// The load shedder rejected the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded {
    reason: ShedReason,
}

impl Overloaded {
    /// A rejection for `reason`.
    pub fn new(reason: ShedReason) -> Self {
        Self { reason }
    }

    /// Why the call was shed.
    pub fn reason(&self) -> ShedReason {
        self.reason
    }
}

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            ShedReason::Random => f.write_str("service overloaded: shed at random"),
            ShedReason::ConcurrencyLimit => f.write_str("service overloaded: concurrency limit reached"),
        }
    }
}

impl std::error::Error for Overloaded {}
