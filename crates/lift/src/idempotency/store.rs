//! The store trait every persistence layer implements, and the record it keeps (Powertools'
//! schema: `id`, `expiration` in epoch seconds, `in_progress_expiration` in epoch
//! milliseconds, `status`, `data`, `validation`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A record's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Claimed: a call is running (Powertools' `INPROGRESS`).
    InProgress,
    /// Done: `data` holds the result (Powertools' `COMPLETED`).
    Completed,
}

impl Status {
    /// The stored text: `INPROGRESS` or `COMPLETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "INPROGRESS",
            Self::Completed => "COMPLETED",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "INPROGRESS" => Some(Self::InProgress),
            "COMPLETED" => Some(Self::Completed),
            _ => None,
        }
    }
}

/// One stored idempotency record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// In progress or completed.
    pub status: Status,
    /// Epoch seconds after which the record is absent (the TTL attribute).
    pub expiration: u64,
    /// Epoch milliseconds after which an in-progress claim is abandoned (the claiming
    /// invocation's deadline).
    pub in_progress_expiration: Option<u64>,
    /// The stored result (completed records).
    pub data: Option<Arc<str>>,
    /// The SHA-256 of the payload, when the key is validated.
    pub validation: Option<Arc<str>>,
    /// The token of the claim that wrote it (Lift's own attribute, `claim`), so only the
    /// holder of a claim completes or releases it.
    pub claim: Option<Arc<str>>,
}

impl Record {
    /// Whether the record counts as absent at `now_ms`: expired, or in progress past its
    /// `in_progress_expiration`. (A claim may then take its place.)
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.expiration.saturating_mul(1000) <= now_ms
            || (self.status == Status::InProgress && self.in_progress_expiration.is_some_and(|t| t <= now_ms))
    }
}

/// A claim on a key: written only if the key has no record, or a stale one.
#[derive(Clone, Debug)]
pub struct ClaimRequest {
    /// The record id (already hashed).
    pub id: Arc<str>,
    /// This claim's token (unique per claim).
    pub token: Arc<str>,
    /// The payload hash, if validated.
    pub validation: Option<Arc<str>>,
    /// Epoch seconds: the record's expiration.
    pub expiration: u64,
    /// Epoch milliseconds: the claiming invocation's deadline.
    pub in_progress_expiration: u64,
    /// Epoch milliseconds now (the policy's clock).
    pub now_ms: u64,
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The key is ours: run the work.
    Claimed,
    /// The key holds a live record (completed, or in progress elsewhere).
    Held(Record),
}

/// The result of a claimed call, to store in place of the claim.
#[derive(Clone, Debug)]
pub struct Completion {
    /// The record id.
    pub id: Arc<str>,
    /// The claim's token: the write happens only while the claim is still this one.
    pub token: Arc<str>,
    /// The result.
    pub data: Arc<str>,
    /// The payload hash, if validated.
    pub validation: Option<Arc<str>>,
    /// Epoch seconds: the record's expiration.
    pub expiration: u64,
}

/// The store could not answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StoreError {
    /// No answer within the bound (the store timeout, or the invocation's remaining time).
    TimedOut {
        /// The bound that elapsed.
        after: Duration,
    },
    /// The claim is no longer ours (it went stale and another call took the key).
    ClaimLost,
    /// The store is full of live claims (bounded in-memory store).
    Full,
    /// Any other failure (connection refused, throttled, bad answer...).
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut { after } => write!(f, "idempotency store did not answer within {after:?}"),
            Self::ClaimLost => f.write_str("the idempotency claim went stale and another call took the key"),
            Self::Full => f.write_str("the in-memory idempotency store is full of calls in progress"),
            Self::Failed(e) => write!(f, "idempotency store failed: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A store call in flight.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where idempotency records live. Each decision is one atomic step of the store: a claim is
/// written only if the key is free (absent or stale) and otherwise answers the live record;
/// completion and release apply only while the claim is still the caller's.
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims a key, or answers the live record that holds it.
    fn claim(&self, request: ClaimRequest) -> StoreFuture<'_, ClaimOutcome>;

    /// Replaces the caller's claim with the completed record ([`StoreError::ClaimLost`] if
    /// the claim is no longer the caller's).
    fn complete(&self, completion: Completion) -> StoreFuture<'_, ()>;

    /// Deletes the caller's claim so the next call runs (no-op if it is no longer theirs).
    fn release(&self, id: Arc<str>, token: Arc<str>) -> StoreFuture<'_, ()>;

    /// The largest result the store holds, in bytes.
    fn max_data_bytes(&self) -> usize {
        usize::MAX
    }

    /// Whether the store is in this process (then a local cache in front of it saves nothing).
    fn is_local(&self) -> bool {
        false
    }
}

impl<S: IdempotencyStore + ?Sized> IdempotencyStore for Arc<S> {
    fn claim(&self, request: ClaimRequest) -> StoreFuture<'_, ClaimOutcome> {
        (**self).claim(request)
    }
    fn complete(&self, completion: Completion) -> StoreFuture<'_, ()> {
        (**self).complete(completion)
    }
    fn release(&self, id: Arc<str>, token: Arc<str>) -> StoreFuture<'_, ()> {
        (**self).release(id, token)
    }
    fn max_data_bytes(&self) -> usize {
        (**self).max_data_bytes()
    }
    fn is_local(&self) -> bool {
        (**self).is_local()
    }
}
