//! The default stack of HTTP routes, and the route key it partitions breakers by.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::MatchedPath;
use lift_resilience::rate_limit::StoreKey;
use lift_resilience::{
    bulkhead, circuit_breaker, http_breaker_config, http_rate_limit, load_shed, rate_limit, timeout, Global,
    HttpClassifier, ResilienceListener, ResilienceStack,
};

/// The partition key of a route: its path pattern (`/orders/{id}`), shared with axum without
/// copying. Requests that matched no route have no key.
#[derive(Clone, Debug)]
pub struct RouteKey(MatchedPath);

impl RouteKey {
    /// The route's path pattern.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for RouteKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteKey {}

impl Hash for RouteKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// A route's pattern is its key in a store outside the process.
impl StoreKey for RouteKey {
    fn write_key(&self, out: &mut Vec<u8>) {
        self.as_str().write_key(out);
    }
}

/// Keys a request by the route it matched (for breakers, bulkheads and limits per route).
pub fn route_key<B>(req: &http::Request<B>) -> Option<RouteKey> {
    req.extensions().get::<MatchedPath>().cloned().map(RouteKey)
}

/// The key function type of [`route_key`] for HTTP requests.
pub type RouteKeyFn = fn(&http::Request<Body>) -> Option<RouteKey>;

/// The stack [`default_stack`] builds.
pub type DefaultStack = ResilienceStack<
    rate_limit::RateLimitLayer<Global, rate_limit::LocalStore<()>, rate_limit::RateLimitHeaders>,
    load_shed::LoadShedLayer,
    bulkhead::BulkheadLayer,
    circuit_breaker::CircuitBreakerLayer<RouteKeyFn, Option<RouteKey>, HttpClassifier, circuit_breaker::NoFallback>,
    timeout::TimeoutLayer,
    tower::layer::util::Identity,
>;

/// `lift-resilience`'s HTTP defaults ([`ResilienceStack::http`]) reporting to
/// `MetricsListener` (with the `observability` feature), with one circuit breaker per route, so
/// a failing route cannot open the circuit of healthy ones: rate limit 1000/s (admitted
/// responses carry `RateLimit-*` and `X-RateLimit-*`), adaptive (AIMD) load shedding, 64
/// concurrent calls, breaker on 5xx (last 20 calls, judged from 10, opens at 50 %, 5 s open, 3
/// trial calls), timeout 30 s or the invocation deadline minus 200 ms.
pub fn default_stack() -> DefaultStack {
    #[cfg(feature = "observability")]
    let listener: Arc<dyn ResilienceListener> = Arc::new(super::MetricsListener);
    #[cfg(not(feature = "observability"))]
    let listener: Arc<dyn ResilienceListener> = Arc::new(lift_resilience::NoopListener);
    default_stack_with_listener(listener)
}

/// [`default_stack`] reporting every transition, rejection, shed and retry to `listener`.
pub fn default_stack_with_listener(listener: Arc<dyn ResilienceListener>) -> DefaultStack {
    ResilienceStack::http_with_listener(listener.clone())
        .rate_limit(
            rate_limit::RateLimitLayer::new(http_rate_limit())
                .http_headers()
                .listener(listener.clone()),
        )
        .circuit_breaker(
            circuit_breaker::CircuitBreakerLayer::new(http_breaker_config())
                .key(route_key as RouteKeyFn)
                .classifier(HttpClassifier)
                .listener(listener),
        )
}
