//! The one answer of every response future of this crate when polled after completion.

use std::fmt;

/// A future was polled after it had already returned `Poll::Ready`.
///
/// A `Future` may not be polled after it returned `Ready`; tower leaves what happens then to
/// each future, and the answers differ (a panic, `Pending` forever). Every response future of
/// this crate gives the same answer: `Poll::Ready(Err(PolledAfterCompletion))`, at once and
/// every time, without polling anything it wrapped (the inner future is dropped as soon as it
/// completes). Lift's `HandleRejectionsFuture`, whose error type is `Infallible`, answers with
/// a 500 internal-error response made from this error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolledAfterCompletion;

impl fmt::Display for PolledAfterCompletion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("future polled after completion")
    }
}

impl std::error::Error for PolledAfterCompletion {}

/// The error a completed future answers with.
#[cold]
pub(crate) fn polled_after_completion() -> tower::BoxError {
    Box::new(PolledAfterCompletion)
}
