//! [`FleetTable::ready`]: the table's readiness check (one DescribeTable).

use std::fmt;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::TableStatus;

use crate::FleetTable;

/// Why the fleet table is not ready. Its text is short and names no endpoint or credential: it
/// is shown in readiness answers.
#[derive(Debug)]
#[non_exhaustive]
pub enum NotReady {
    /// DescribeTable says the table does not exist.
    Missing(String),
    /// The table exists in a state that serves no request (`CREATING`, `DELETING`,
    /// `INACCESSIBLE_ENCRYPTION_CREDENTIALS`, `ARCHIVED`...).
    Status(String, String),
    /// DynamoDB did not answer, or answered with another error (its code, when it sent one).
    Unreachable(String, String),
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::Missing(t) => write!(f, "table `{t}` does not exist"),
            NotReady::Status(t, s) => write!(f, "table `{t}` is {s}"),
            NotReady::Unreachable(t, why) => write!(f, "table `{t}` cannot be described: {why}"),
        }
    }
}

impl std::error::Error for NotReady {}

fn unreachable(table: &str, e: SdkError<DescribeTableError, impl fmt::Debug>) -> NotReady {
    let why = match &e {
        SdkError::ServiceError(s) if s.err().is_resource_not_found_exception() => {
            return NotReady::Missing(table.to_owned())
        }
        SdkError::ServiceError(s) => aws_sdk_dynamodb::error::ProvideErrorMetadata::code(s.err())
            .unwrap_or("service error")
            .to_owned(),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(d) if d.is_timeout() => "timed out".to_owned(),
        SdkError::DispatchFailure(_) => "connection failed".to_owned(),
        SdkError::ResponseError(_) => "unreadable response".to_owned(),
        SdkError::ConstructionFailure(_) => "request could not be built".to_owned(),
        _ => "unknown error".to_owned(),
    };
    NotReady::Unreachable(table.to_owned(), why)
}

impl FleetTable {
    /// Whether the table serves requests now: one DescribeTable; ready when the table exists
    /// and is `ACTIVE` or `UPDATING` (an `UPDATING` table serves reads and writes). Meant for
    /// readiness probes (`lift::health::Readiness::table`); the key schema is
    /// [`verify`](Self::verify)'s job, at start.
    pub async fn ready(&self) -> Result<(), NotReady> {
        let out = self
            .client()
            .describe_table()
            .table_name(self.name())
            .send()
            .await
            .map_err(|e| unreachable(self.name(), e))?;
        let status = out.table().and_then(|t| t.table_status());
        match status {
            Some(TableStatus::Active | TableStatus::Updating) => Ok(()),
            Some(other) => Err(NotReady::Status(self.name().to_owned(), other.as_str().to_owned())),
            None => Err(NotReady::Status(self.name().to_owned(), "of unknown status".to_owned())),
        }
    }
}
