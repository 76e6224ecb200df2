//! Deadline-aware timeout: each call gets `min(configured, remaining time − safety margin)`.
//!
//! On expiry the inner future is dropped at once (its work is cancelled, nothing keeps
//! running), and the error, [`Elapsed`], says which limit fired. A call whose deadline already
//! leaves less than the margin fails without calling the inner service at all.
//!
//! When the deadline-derived limit is the tighter one nothing changes in the request; when the
//! configured limit is tighter and the request has a deadline, the request's deadline is
//! tightened ([`Deadline::set_deadline`]) so a retry layer
//! inside sees the real time left.

mod error;
mod future;
mod layer;
mod tuning;

pub use error::{Elapsed, TimeoutLimit};
pub use future::ResponseFuture;
pub use layer::TimeoutLayer;
pub use tuning::TimeoutTuning;

use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::{BoxError, Service};

use crate::clock::{call_inner, Pass};
use crate::event::Telemetry;
use crate::Deadline;

/// Deadline-aware timeout service. See the [module docs](self).
#[derive(Clone)]
pub struct Timeout<S> {
    inner: S,
    configured: Option<Duration>,
    margin: Duration,
    telemetry: Telemetry,
    tuning: Option<std::sync::Arc<dyn TimeoutTuning>>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Timeout<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeout")
            .field("inner", &self.inner)
            .field("configured", &self.configured)
            .field("margin", &self.margin)
            .field("tuned", &self.tuning.is_some())
            .finish()
    }
}

impl<S> Timeout<S> {
    /// `inner` timed out after `configured`, or earlier at the invocation deadline minus the
    /// default margin: the same as `TimeoutLayer::new(configured).layer(inner)`.
    pub fn new(inner: S, configured: Duration) -> Self {
        tower::Layer::layer(&TimeoutLayer::new(configured), inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming this one.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The effective limit for a request with `deadline`, as of `now`.
    fn limit(
        &self,
        configured: Option<Duration>,
        now: Instant,
        deadline: Option<Instant>,
    ) -> Option<(Instant, TimeoutLimit)> {
        let configured = configured.map(|d| (now + d, TimeoutLimit::Configured));
        let from_deadline = deadline.map(|d| {
            let at = d.checked_sub(self.margin).unwrap_or(now).max(now);
            (at, TimeoutLimit::Deadline)
        });
        match (configured, from_deadline) {
            (Some(c), Some(d)) => Some(if d.0 < c.0 { d } else { c }),
            (c, d) => c.or(d),
        }
    }
}

impl<S, Req> Service<Req> for Timeout<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    Req: Deadline,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Req) -> Self::Future {
        let deadline = req.deadline();
        let configured = match &self.tuning {
            None => self.configured,
            Some(t) => t.configured(self.configured),
        };
        if configured.is_none() && deadline.is_none() {
            return ResponseFuture::unlimited(self.inner.call(req));
        }
        let _pass = Pass::enter();
        let now = crate::clock::now();
        match self.limit(configured, now, deadline) {
            None => ResponseFuture::unlimited(call_inner(|| self.inner.call(req))),
            Some((at, which)) => {
                if at <= now {
                    // No time left at all: never start the work.
                    return ResponseFuture::expired(which, self.telemetry.clone());
                }
                if which == TimeoutLimit::Configured && deadline.is_some() {
                    req.set_deadline(at);
                }
                let fut = call_inner(|| self.inner.call(req));
                ResponseFuture::limited(fut, at, now, which, self.telemetry.clone())
            }
        }
    }
}
