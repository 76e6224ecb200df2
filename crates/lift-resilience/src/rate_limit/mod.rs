//! Rate limiting per key (tenant, user, IP, route) with GCRA.
//!
//! The local store ([`LocalStore`]) uses `governor`'s lock-free GCRA, one limiter per key, with
//! a bound on keys. Every call gets a [`Decision`] (limit, remaining, reset, retry-after);
//! a denied one fails with [`RateLimited`] carrying it, which
//! [`rejection`](crate::rejection()) turns into 429 with `Retry-After` and `RateLimit-*`
//! headers. A distributed store implements [`RateLimitStore`]; when it fails, the layer fails
//! open (admits) or closed (returns the store's error) as configured by [`FailMode`], and
//! reports a [`RateLimitStoreFailed`](crate::ResilienceEvent::RateLimitStoreFailed) event.
//!
//! # Distributed stores
//!
//! * [`RateLimitStore::try_check`] answers synchronously when it can (the local store always;
//!   a remote store when it already knows the key is denied); otherwise the layer awaits
//!   [`RateLimitStore::check_within`], which receives the call's deadline when the layer is
//!   built with [`request_deadline`](RateLimitLayer::request_deadline) (see
//!   [`DeadlineSource`]), so the store's call never outlives the invocation.
//! * Keys a store keeps outside the process implement [`StoreKey`]: stable, unambiguous bytes
//!   (a `Hash` is seeded per process). `lift-dynamodb`'s `DynamoRateLimitStore` is one such
//!   store.
//!
//! # Compared with tower's `RateLimit`
//!
//! [`tower::limit::RateLimit`](https://docs.rs/tower/0.5/tower/limit/rate/struct.RateLimit.html)
//! allows `num` calls per `per` period to **one** service and makes callers **wait**: once the
//! period's calls are used, `poll_ready` is `Pending` until the next period (a fixed window,
//! state per service, so each `layer()` and each clone count on their own). This layer never
//! waits and never touches readiness (it forwards `poll_ready`): it **rejects** a call over
//! its quota at once with [`RateLimited`], which says when to retry; the quota is GCRA (smooth,
//! with a burst) rather than a fixed window; it is kept **per key** (tenant, route, IP) in a
//! store shared by every service of the layer and its clones, which can be distributed; and
//! every decision can be sent back as `RateLimit-*` headers. Use tower's to pace your own
//! calls to a downstream (a client that should slow down, not fail); use this one to protect a
//! service from its callers, where an over-quota caller must get a 429 now.

mod deadline;
mod error;
mod future;
mod headers;
mod layer;
mod store;

pub use crate::key::StoreKey;
pub use deadline::{DeadlineSource, NoDeadline, RequestDeadline};
pub use error::{Decision, RateLimited};
pub use future::ResponseFuture;
pub use governor::Quota;
pub(crate) use headers::insert as insert_headers;
pub use headers::{DecorateRequest, DecorateResponse, NoHeaders, RateLimitHeaders};
pub use layer::{FailMode, RateLimitLayer};
pub use store::{per_second, LocalStore, RateLimitStore, TokioClock};

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{BoxError, Service};

use crate::clock::{call_inner, Pass};
use crate::event::{ResilienceEvent, Telemetry};
use crate::{Global, KeyFn, PartitionKey};

/// Rate-limiting service. See the [module docs](self).
pub struct RateLimit<S, KF, St, H = NoHeaders, D = NoDeadline> {
    inner: S,
    key_fn: KF,
    store: Arc<St>,
    fail_mode: FailMode,
    telemetry: Telemetry,
    headers: H,
    deadline: D,
}

impl<S: Clone, KF: Clone, St, H: Clone, D: Clone> Clone for RateLimit<S, KF, St, H, D> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            key_fn: self.key_fn.clone(),
            store: self.store.clone(),
            fail_mode: self.fail_mode,
            telemetry: self.telemetry.clone(),
            headers: self.headers.clone(),
            deadline: self.deadline.clone(),
        }
    }
}

impl<S: std::fmt::Debug, KF, St, H, D> std::fmt::Debug for RateLimit<S, KF, St, H, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").field("inner", &self.inner).finish()
    }
}

pub(crate) fn denied<K: std::fmt::Debug>(telemetry: &Telemetry, key: &K, decision: Decision) -> BoxError {
    telemetry.emit(ResilienceEvent::RateLimited {
        name: telemetry.name(),
        key,
        decision: &decision,
    });
    Box::new(RateLimited::new(decision))
}

/// The store could not answer: report it, then apply `fail_mode` (`None` admits).
#[cold]
pub(crate) fn store_failed<K: std::fmt::Debug>(
    telemetry: &Telemetry,
    key: &K,
    fail_mode: FailMode,
    error: BoxError,
) -> Option<BoxError> {
    telemetry.emit(ResilienceEvent::RateLimitStoreFailed {
        name: telemetry.name(),
        key,
        error: &*error,
        fail_mode,
    });
    match fail_mode {
        FailMode::Open => None,
        FailMode::Closed => Some(error),
    }
}

impl<S, KF, St, H, D, Req> Service<Req> for RateLimit<S, KF, St, H, D>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    KF: KeyFn<Req>,
    St: RateLimitStore<KF::Key>,
    H: DecorateResponse<S::Response> + DecorateRequest<Req>,
    D: DeadlineSource<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, Req, St::Future, KF::Key, H>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        let _pass = Pass::enter();
        let key = self.key_fn.key(&req);
        match self.store.try_check(&key) {
            Some(Ok(d)) if d.allowed => {
                let mut req = req;
                self.headers.decorate_request(&mut req, &d);
                let fut = call_inner(|| self.inner.call(req));
                ResponseFuture::called(fut, Some((self.headers.clone(), d)))
            }
            Some(Ok(d)) => ResponseFuture::rejected(denied(&self.telemetry, &key, d)),
            Some(Err(e)) => match store_failed(&self.telemetry, &key, self.fail_mode, e) {
                None => ResponseFuture::called(call_inner(|| self.inner.call(req)), None),
                Some(e) => ResponseFuture::rejected(e),
            },
            None => {
                let check = self.store.check_within(&key, self.deadline.deadline_of(&req));
                let clone = self.inner.clone();
                let svc = std::mem::replace(&mut self.inner, clone);
                let (fail_mode, telemetry) = (self.fail_mode, self.telemetry.clone());
                ResponseFuture::checking(check, svc, req, key, fail_mode, telemetry, self.headers.clone())
            }
        }
    }
}

impl<S> RateLimit<S, Global, LocalStore<()>, NoHeaders> {
    /// `inner` behind one global `quota`: the same as `RateLimitLayer::new(quota).layer(inner)`.
    pub fn new(inner: S, quota: Quota) -> Self {
        tower::Layer::layer(&RateLimitLayer::new(quota), inner)
    }
}

impl<S, KF, St, H, D> RateLimit<S, KF, St, H, D> {
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
}

impl<S, KF, K: PartitionKey, H, D> RateLimit<S, KF, LocalStore<K>, H, D> {
    /// Keys held by the local store.
    pub fn keys(&self) -> usize {
        self.store.keys()
    }
}
