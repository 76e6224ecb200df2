//! The invocation deadline: "when must this invocation be done".
//!
//! Time in this crate is [`tokio::time::Instant`] throughout. It is the same clock as
//! `std::time::Instant` in production (convert with [`Instant::from_std`] /
//! [`Instant::into_std`]), but it follows tokio's paused clock in tests, which is what lets every
//! time-dependent behaviour here be tested exactly.

use tokio::time::Instant;

/// Read (and optionally tighten) the deadline of a request.
///
/// [`Timeout`](crate::timeout::Timeout) and [`RetryPolicy`](crate::retry::RetryPolicy) use it:
/// the timeout never waits past `deadline − margin`, and retry never starts an attempt that
/// cannot finish before it.
///
/// Implemented for [`http::Request`] (through the [`InvocationDeadline`] extension), for
/// [`WithDeadline`] (a wrapper for any other request type) and for `()`. Implement it for your
/// own request types (records, tonic messages wrapped in a struct of yours, ...).
pub trait Deadline {
    /// When the invocation must be done, if known.
    fn deadline(&self) -> Option<Instant>;

    /// Record a tighter deadline for layers further in (for example the retry layer inside a
    /// timeout). Only called when [`deadline`](Deadline::deadline) already returned `Some`.
    /// The default does nothing.
    fn set_deadline(&mut self, _at: Instant) {}
}

/// Request extension carrying the invocation deadline. Lift inserts it into every
/// `http::Request` it dispatches (from the Lambda context's deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InvocationDeadline(pub Instant);

impl InvocationDeadline {
    /// A deadline `remaining` from now.
    pub fn after(remaining: std::time::Duration) -> Self {
        Self(Instant::now() + remaining)
    }
}

impl<B> Deadline for http::Request<B> {
    #[inline]
    fn deadline(&self) -> Option<Instant> {
        self.extensions().get::<InvocationDeadline>().map(|d| d.0)
    }

    #[inline]
    fn set_deadline(&mut self, at: Instant) {
        match self.extensions_mut().get_mut::<InvocationDeadline>() {
            Some(d) => d.0 = at,
            None => {
                self.extensions_mut().insert(InvocationDeadline(at));
            }
        }
    }
}

impl Deadline for () {
    #[inline]
    fn deadline(&self) -> Option<Instant> {
        None
    }
}

/// A request of any type together with its deadline, for services whose request type cannot
/// implement [`Deadline`] itself (foreign types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithDeadline<T> {
    /// The request.
    pub request: T,
    /// Its deadline, if any.
    pub deadline: Option<Instant>,
}

impl<T> WithDeadline<T> {
    /// Wrap `request` with a deadline.
    pub fn new(request: T, deadline: Option<Instant>) -> Self {
        Self { request, deadline }
    }
}

impl<T> Deadline for WithDeadline<T> {
    #[inline]
    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    #[inline]
    fn set_deadline(&mut self, at: Instant) {
        self.deadline = Some(at);
    }
}
