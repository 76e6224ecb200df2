use std::fmt;
use std::time::Duration;

/// The connection table did not answer or answered with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// No answer within the store's timeout.
    TimedOut {
        /// The table.
        table: String,
        /// The bound that elapsed.
        after: Duration,
    },
    /// DynamoDB answered with an error or could not be reached (the message names the table
    /// and the cause).
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut { table, after } => {
                write!(
                    f,
                    "WebSocket connection table `{table}` did not answer within {after:?}"
                )
            }
            Self::Failed(e) => write!(f, "WebSocket connection table failed: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}
