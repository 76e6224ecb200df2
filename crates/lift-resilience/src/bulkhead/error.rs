use std::fmt;
use std::time::Duration;

/// The bulkhead's partition had no free permit within the allowed wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadFull {
    max_concurrent: usize,
    waited: Duration,
}

impl BulkheadFull {
    /// A rejection by a partition of `max_concurrent` after waiting `waited`.
    pub fn new(max_concurrent: usize, waited: Duration) -> Self {
        Self { max_concurrent, waited }
    }

    /// The partition's limit.
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    /// How long the call waited.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bulkhead full: {} concurrent calls, waited {:?}",
            self.max_concurrent, self.waited
        )
    }
}

impl std::error::Error for BulkheadFull {}
