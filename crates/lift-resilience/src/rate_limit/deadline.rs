use tokio::time::Instant;

use crate::Deadline;

/// Where the rate-limit layer finds a call's deadline, which it hands to an asynchronous store
/// ([`RateLimitStore::check_within`](super::RateLimitStore::check_within)) so a store call never
/// outlives the invocation.
pub trait DeadlineSource<Req>: Clone + Send + Sync + 'static {
    /// The deadline of `req`, if known.
    fn deadline_of(&self, req: &Req) -> Option<Instant>;
}

/// No deadline (the default: any request type, the store's own timeout alone bounds it).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDeadline;

impl<Req> DeadlineSource<Req> for NoDeadline {
    #[inline]
    fn deadline_of(&self, _req: &Req) -> Option<Instant> {
        None
    }
}

/// The request's own [`Deadline`] (for `http::Request`, its
/// [`InvocationDeadline`](crate::InvocationDeadline) extension).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestDeadline;

impl<Req: Deadline> DeadlineSource<Req> for RequestDeadline {
    #[inline]
    fn deadline_of(&self, req: &Req) -> Option<Instant> {
        req.deadline()
    }
}
