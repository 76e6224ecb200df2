use std::fmt;
use std::time::Duration;

/// The rate-limit table could not answer; the layer's `FailMode` decides the call.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// No answer within the bound (the store's timeout, or the invocation's remaining time if
    /// shorter).
    TimedOut {
        /// The bound that elapsed.
        after: Duration,
    },
    /// DynamoDB throttled the call (`ProvisionedThroughputExceededException`,
    /// `ThrottlingException`, `RequestLimitExceeded`).
    Throttled(String),
    /// Any other failure (connection refused, bad answer, missing table, ...).
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut { after } => write!(f, "rate-limit table did not answer within {after:?}"),
            Self::Throttled(e) => write!(f, "rate-limit table throttled: {e}"),
            Self::Failed(e) => write!(f, "rate-limit table failed: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}
