//! Rate limiting per key (tenant, user, IP, route) with GCRA.
//!
//! The local store ([`LocalStore`]) uses `governor`'s lock-free GCRA, one limiter per key, with
//! a bound on keys. Every call gets a [`Decision`] (limit, remaining, reset, retry-after);
//! a denied one fails with [`RateLimited`] carrying it, which
//! [`rejection`](crate::rejection()) turns into 429 with `Retry-After` and `RateLimit-*`
//! headers. A distributed store implements [`RateLimitStore`]; when it fails, the layer fails
//! open (admits) or closed (returns the store's error) as configured by [`FailMode`].

mod error;
mod future;
mod headers;
mod layer;
mod store;

pub use error::{Decision, RateLimited};
pub use future::ResponseFuture;
pub use governor::Quota;
pub use headers::{DecorateResponse, NoHeaders, RateLimitHeaders};
pub use layer::{FailMode, RateLimitLayer};
pub use store::{per_second, LocalStore, RateLimitStore, TokioClock};

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{BoxError, Service};

use crate::clock::{call_inner, Pass};
use crate::event::{ResilienceEvent, Telemetry};
use crate::{KeyFn, PartitionKey};

/// Rate-limiting service. See the [module docs](self).
pub struct RateLimit<S, KF, St, H = NoHeaders> {
    inner: S,
    key_fn: KF,
    store: Arc<St>,
    fail_mode: FailMode,
    telemetry: Telemetry,
    headers: H,
}

impl<S: Clone, KF: Clone, St, H: Clone> Clone for RateLimit<S, KF, St, H> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            key_fn: self.key_fn.clone(),
            store: self.store.clone(),
            fail_mode: self.fail_mode,
            telemetry: self.telemetry.clone(),
            headers: self.headers.clone(),
        }
    }
}

impl<S: std::fmt::Debug, KF, St, H> std::fmt::Debug for RateLimit<S, KF, St, H> {
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

impl<S, KF, St, H, Req> Service<Req> for RateLimit<S, KF, St, H>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    KF: KeyFn<Req>,
    St: RateLimitStore<KF::Key>,
    H: DecorateResponse<S::Response>,
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
                let fut = call_inner(|| self.inner.call(req));
                ResponseFuture::called(fut, Some((self.headers.clone(), d)))
            }
            Some(Ok(d)) => ResponseFuture::rejected(denied(&self.telemetry, &key, d)),
            Some(Err(e)) => match self.fail_mode {
                FailMode::Open => ResponseFuture::called(call_inner(|| self.inner.call(req)), None),
                FailMode::Closed => ResponseFuture::rejected(e),
            },
            None => {
                let check = self.store.check(&key);
                let clone = self.inner.clone();
                let svc = std::mem::replace(&mut self.inner, clone);
                let (fail_mode, telemetry) = (self.fail_mode, self.telemetry.clone());
                ResponseFuture::checking(check, svc, req, key, fail_mode, telemetry, self.headers.clone())
            }
        }
    }
}

impl<S, KF, K: PartitionKey, H> RateLimit<S, KF, LocalStore<K>, H> {
    /// Keys held by the local store.
    pub fn keys(&self) -> usize {
        self.store.keys()
    }
}
