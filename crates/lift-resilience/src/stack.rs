//! The composed stack.
//!
//! Order, outermost first: **rate limit → load shed → bulkhead → circuit breaker → timeout →
//! retry → service**. Cheap rejections come first (a rate-limited or shed call costs nothing
//! further and never occupies a bulkhead permit); the bulkhead bounds what reaches the breaker;
//! the breaker sees one outcome per call, after the timeout and retries have had their say (a
//! call that timed out is a failure, a call that succeeded on retry is a success); the timeout
//! bounds the whole call, retries included, and tightens the request's deadline so retry never
//! starts an attempt that the timeout would cut.

use std::sync::Arc;
use std::time::Duration;

use tower::layer::util::Identity;
use tower::Layer;

use crate::bulkhead::BulkheadLayer;
use crate::circuit_breaker::{BreakerConfig, CircuitBreakerLayer, NoFallback, SlidingWindow, WaitInOpen};
use crate::load_shed::LoadShedLayer;
use crate::rate_limit::{per_second, LocalStore, RateLimitLayer};
use crate::timeout::TimeoutLayer;
use crate::{Global, HttpClassifier, ResilienceListener};

/// The breaker settings of [`ResilienceStack::http`]: window of the last 20 calls, judged from
/// 10, opens at 50 % failures, 5 s in open, 3 trial calls.
pub fn http_breaker_config() -> BreakerConfig {
    BreakerConfig::default()
        .window(SlidingWindow::Count(20))
        .minimum_calls(10)
        .wait_in_open(WaitInOpen::Fixed(Duration::from_secs(5)))
        .permitted_calls_in_half_open(3)
}

/// The rate of [`ResilienceStack::http`]: 1000 requests per second.
pub fn http_rate_limit() -> governor::Quota {
    per_second(1000)
}

/// A stack of resilience layers, each replaceable (any `Layer`, [`Identity`] to leave one out).
#[derive(Debug, Clone)]
pub struct ResilienceStack<RL, LS, BH, CB, TO, RT> {
    rate_limit: RL,
    load_shed: LS,
    bulkhead: BH,
    breaker: CB,
    timeout: TO,
    retry: RT,
}

/// The stack returned by [`ResilienceStack::http`].
pub type HttpStack = ResilienceStack<
    RateLimitLayer<Global, LocalStore<()>>,
    LoadShedLayer,
    BulkheadLayer,
    CircuitBreakerLayer<Global, (), HttpClassifier, NoFallback>,
    TimeoutLayer,
    Identity,
>;

impl Default for ResilienceStack<Identity, Identity, Identity, Identity, Identity, Identity> {
    fn default() -> Self {
        Self::new()
    }
}

impl ResilienceStack<Identity, Identity, Identity, Identity, Identity, Identity> {
    /// An empty stack: add layers with the builder methods.
    pub fn new() -> Self {
        Self {
            rate_limit: Identity::new(),
            load_shed: Identity::new(),
            bulkhead: Identity::new(),
            breaker: Identity::new(),
            timeout: Identity::new(),
            retry: Identity::new(),
        }
    }
}

impl HttpStack {
    /// Defaults for an `http::Request`/`http::Response` service (axum `Router`, a Lift route):
    ///
    /// * rate limit: 1000 requests per second, global (admitted responses are left as they
    ///   are; for `RateLimit-*` headers on them, replace the slot with
    ///   `.rate_limit(RateLimitLayer::new(quota).http_headers())`);
    /// * load shed: adaptive AIMD limit (Netflix defaults: 20 → 200);
    /// * bulkhead: 64 concurrent calls, global, no wait;
    /// * circuit breaker: global, 5xx and errors fail; window of the last 20 calls, judged from
    ///   10, opens at 50 % failures, 5 s in open, 3 trial calls;
    /// * timeout: 30 s or the invocation deadline minus 200 ms, whichever comes first;
    /// * no retry (HTTP bodies are generally not cloneable; add one with
    ///   [`retry`](ResilienceStack::retry) for `Clone` requests).
    pub fn http() -> Self {
        Self::http_with_listener(Arc::new(crate::NoopListener))
    }

    /// [`http`](Self::http) with every layer reporting to `listener`.
    pub fn http_with_listener(listener: Arc<dyn ResilienceListener>) -> Self {
        ResilienceStack {
            rate_limit: RateLimitLayer::new(http_rate_limit()).listener(listener.clone()),
            load_shed: LoadShedLayer::aimd().listener(listener.clone()),
            bulkhead: BulkheadLayer::new(64).listener(listener.clone()),
            breaker: CircuitBreakerLayer::new(http_breaker_config())
                .classifier(HttpClassifier)
                .listener(listener.clone()),
            timeout: TimeoutLayer::new(Duration::from_secs(30)).listener(listener),
            retry: Identity::new(),
        }
    }
}

impl<RL, LS, BH, CB, TO, RT> ResilienceStack<RL, LS, BH, CB, TO, RT> {
    /// Replace the rate-limit layer.
    pub fn rate_limit<L>(self, layer: L) -> ResilienceStack<L, LS, BH, CB, TO, RT> {
        ResilienceStack {
            rate_limit: layer,
            load_shed: self.load_shed,
            bulkhead: self.bulkhead,
            breaker: self.breaker,
            timeout: self.timeout,
            retry: self.retry,
        }
    }

    /// Replace the load-shedding layer.
    pub fn load_shed<L>(self, layer: L) -> ResilienceStack<RL, L, BH, CB, TO, RT> {
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed: layer,
            bulkhead: self.bulkhead,
            breaker: self.breaker,
            timeout: self.timeout,
            retry: self.retry,
        }
    }

    /// Replace the bulkhead layer.
    pub fn bulkhead<L>(self, layer: L) -> ResilienceStack<RL, LS, L, CB, TO, RT> {
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed: self.load_shed,
            bulkhead: layer,
            breaker: self.breaker,
            timeout: self.timeout,
            retry: self.retry,
        }
    }

    /// Replace the circuit-breaker layer.
    pub fn circuit_breaker<L>(self, layer: L) -> ResilienceStack<RL, LS, BH, L, TO, RT> {
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed: self.load_shed,
            bulkhead: self.bulkhead,
            breaker: layer,
            timeout: self.timeout,
            retry: self.retry,
        }
    }

    /// Replace the timeout layer.
    pub fn timeout<L>(self, layer: L) -> ResilienceStack<RL, LS, BH, CB, L, RT> {
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed: self.load_shed,
            bulkhead: self.bulkhead,
            breaker: self.breaker,
            timeout: layer,
            retry: self.retry,
        }
    }

    /// Change the load-shedding layer, keeping how the stack built it (e.g.
    /// `.map_load_shed(|l| l.tuning(t))` for dynamic configuration).
    pub fn map_load_shed<L>(self, f: impl FnOnce(LS) -> L) -> ResilienceStack<RL, L, BH, CB, TO, RT> {
        let load_shed = f(self.load_shed);
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed,
            bulkhead: self.bulkhead,
            breaker: self.breaker,
            timeout: self.timeout,
            retry: self.retry,
        }
    }

    /// Change the bulkhead layer, keeping how the stack built it.
    pub fn map_bulkhead<L>(self, f: impl FnOnce(BH) -> L) -> ResilienceStack<RL, LS, L, CB, TO, RT> {
        let bulkhead = f(self.bulkhead);
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed: self.load_shed,
            bulkhead,
            breaker: self.breaker,
            timeout: self.timeout,
            retry: self.retry,
        }
    }

    /// Change the timeout layer, keeping how the stack built it.
    pub fn map_timeout<L>(self, f: impl FnOnce(TO) -> L) -> ResilienceStack<RL, LS, BH, CB, L, RT> {
        let timeout = f(self.timeout);
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed: self.load_shed,
            bulkhead: self.bulkhead,
            breaker: self.breaker,
            timeout,
            retry: self.retry,
        }
    }

    /// Replace the retry layer (e.g. [`RetryLayer`](crate::retry::RetryLayer)).
    pub fn retry<L>(self, layer: L) -> ResilienceStack<RL, LS, BH, CB, TO, L> {
        ResilienceStack {
            rate_limit: self.rate_limit,
            load_shed: self.load_shed,
            bulkhead: self.bulkhead,
            breaker: self.breaker,
            timeout: self.timeout,
            retry: layer,
        }
    }
}

impl<S, RL, LS, BH, CB, TO, RT> Layer<S> for ResilienceStack<RL, LS, BH, CB, TO, RT>
where
    RT: Layer<S>,
    TO: Layer<RT::Service>,
    CB: Layer<TO::Service>,
    BH: Layer<CB::Service>,
    LS: Layer<BH::Service>,
    RL: Layer<LS::Service>,
{
    type Service = RL::Service;

    fn layer(&self, inner: S) -> Self::Service {
        let s = self.retry.layer(inner);
        let s = self.timeout.layer(s);
        let s = self.breaker.layer(s);
        let s = self.bulkhead.layer(s);
        let s = self.load_shed.layer(s);
        self.rate_limit.layer(s)
    }
}
