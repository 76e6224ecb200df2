//! [`ConfigSource`]: where a settings document comes from.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

/// A boxed future of a fetch.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Bytes, SourceError>> + Send + 'a>>;

/// A place a settings document is read from (the AppConfig extension, an SSM parameter, a
/// DynamoDB item). Each call fetches the whole current document; the
/// [`Poller`](crate::Poller) bounds it with its timeout and decides what to do with it.
pub trait ConfigSource: Send + Sync + 'static {
    /// The current document.
    fn fetch(&self) -> FetchFuture<'_>;

    /// What the source is, for log lines (`appconfig app/env/profile`).
    fn describe(&self) -> String;
}

/// A source that could not give a document.
#[derive(Debug)]
#[non_exhaustive]
pub enum SourceError {
    /// Could not connect or the connection failed.
    Unreachable(String),
    /// The source answered with an error status.
    Status(u16, String),
    /// The answer was not in the source's format (not the document itself: that is the parser's).
    Malformed(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Unreachable(e) => write!(f, "unreachable: {e}"),
            SourceError::Status(s, body) => write!(f, "answered {s}: {body}"),
            SourceError::Malformed(e) => write!(f, "malformed answer: {e}"),
        }
    }
}

impl std::error::Error for SourceError {}
