//! Circuit breaker after resilience4j: closed / open / half-open, plus disabled, metrics-only
//! and forced-open; count- or time-based sliding window; failure-rate and slow-call-rate
//! thresholds; minimum calls; fixed or backoff wait in open; permitted trial calls in
//! half-open; a [`Classify`] deciding what fails and what is ignored; a
//! [`Fallback`]; an event on every transition; partitions by key with a bound; state shared
//! through a [`BreakerStore`].
//!
//! Semantics worth knowing:
//! * Open → half-open happens on the first call after the wait (lazily, as resilience4j's
//!   default); that call is the first trial call.
//! * An outcome of a call admitted before a transition is discarded (it describes the old
//!   state). A cancelled call (its future dropped) is treated as ignored, and in half-open gives
//!   its trial slot back, so half-open can never get stuck.
//! * The half-open verdict is taken when all permitted trial calls have been recorded, over
//!   those calls, with the same thresholds.

mod config;
mod error;
mod fallback;
mod future;
mod layer;
mod machine;
mod store;
mod tuning;

#[cfg(test)]
mod fleet_tests;

pub use config::{BreakerConfig, BreakerState, SlidingWindow, WaitInOpen};
pub use error::Open;
pub use fallback::{Fallback, FallbackFn, NoFallback};
pub use future::ResponseFuture;
pub use layer::{BreakerHandle, CircuitBreakerLayer};
pub use machine::BreakerMetrics;
pub use store::{BreakerStore, LocalStore, Probe, Transition};
pub use tuning::BreakerTuning;

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{BoxError, Service};

use crate::classify::{Classify, DefaultClassifier};
use crate::clock::{call_inner, Pass};
use crate::{Global, KeyFn, PartitionKey};
use layer::Shared;

/// Circuit breaker service. See the [module docs](self).
pub struct CircuitBreaker<S, KF, K, C, F> {
    inner: S,
    key_fn: KF,
    classifier: C,
    fallback: F,
    shared: Arc<Shared<K>>,
}

impl<S: Clone, KF: Clone, K, C: Clone, F: Clone> Clone for CircuitBreaker<S, KF, K, C, F> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            key_fn: self.key_fn.clone(),
            classifier: self.classifier.clone(),
            fallback: self.fallback.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: std::fmt::Debug, KF, K, C, F> std::fmt::Debug for CircuitBreaker<S, KF, K, C, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker").field("inner", &self.inner).finish()
    }
}

impl<S> CircuitBreaker<S, Global, (), DefaultClassifier, NoFallback> {
    /// `inner` behind a global breaker with `config`: the same as
    /// `CircuitBreakerLayer::new(config).layer(inner)`.
    pub fn new(inner: S, config: BreakerConfig) -> Self {
        tower::Layer::layer(&CircuitBreakerLayer::new(config), inner)
    }
}

impl<S, KF, K, C, F> CircuitBreaker<S, KF, K, C, F> {
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

impl<S, KF, K, C, F, Req> Service<Req> for CircuitBreaker<S, KF, K, C, F>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    KF: KeyFn<Req, Key = K>,
    K: PartitionKey,
    C: Classify<S::Response>,
    F: Fallback<Req, S::Response>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C, K, S::Response>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        let _pass = Pass::enter();
        let key = self.key_fn.key(&req);
        let cell = self.shared.partitions.get(&key);
        match cell.try_acquire(crate::clock::now()) {
            Ok(permit) => {
                let fut = call_inner(|| self.inner.call(req));
                ResponseFuture::called(fut, cell, permit, self.classifier.clone())
            }
            Err(open) => ResponseFuture::ready(self.fallback.fallback(req, open)),
        }
    }
}
