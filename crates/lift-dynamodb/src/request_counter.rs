//! [`RequestCounter`]: an SDK interceptor that counts the requests a client sends, by
//! operation, to show what fleet state costs in round trips.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};

/// The operations counted one by one; anything else is counted as other.
const OPERATIONS: [&str; 5] = ["GetItem", "UpdateItem", "PutItem", "DeleteItem", "DescribeTable"];

/// Counts the requests a DynamoDB client sends (retries included), by operation. Clones share
/// the counts; add one to a client with `aws_sdk_dynamodb::config::Builder::interceptor`.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter(Arc<[AtomicUsize; OPERATIONS.len() + 1]>);

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests of `operation` (`"GetItem"`, `"UpdateItem"`, `"PutItem"`, `"DeleteItem"`,
    /// `"DescribeTable"`) sent so far.
    pub fn of(&self, operation: &str) -> usize {
        OPERATIONS
            .iter()
            .position(|o| *o == operation)
            .map_or(0, |i| self.0[i].load(Ordering::SeqCst))
    }

    /// Reads sent so far (`GetItem`).
    pub fn reads(&self) -> usize {
        self.of("GetItem")
    }

    /// Writes sent so far (`UpdateItem`, `PutItem`, `DeleteItem`).
    pub fn writes(&self) -> usize {
        self.of("UpdateItem") + self.of("PutItem") + self.of("DeleteItem")
    }

    /// Every request sent so far.
    pub fn total(&self) -> usize {
        self.0.iter().map(|c| c.load(Ordering::SeqCst)).sum()
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        // `x-amz-target: DynamoDB_20120810.UpdateItem`
        let target = context.request().headers().get("x-amz-target").unwrap_or("");
        let op = target.rsplit('.').next().unwrap_or("");
        let i = OPERATIONS.iter().position(|o| *o == op).unwrap_or(OPERATIONS.len());
        self.0[i].fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
