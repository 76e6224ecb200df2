//! Readiness, per layer, in the manner of `tower-test`: an inner service that is not ready
//! makes the layer not ready (and wakes the task when it becomes ready); a ready inner service
//! makes it ready; an inner readiness error is the layer's readiness error. Every layer of
//! this crate decides per call, so none of them adds readiness of its own.

#![allow(clippy::unwrap_used)]

use std::fmt::Debug;
use std::task::Poll;
use std::time::Duration;

use lift_resilience::circuit_breaker::BreakerConfig;
use lift_resilience::rate_limit::per_second;
use lift_resilience::retry::{RetryConfig, RetryPolicy};
use lift_resilience::{
    BoxError, BulkheadLayer, CircuitBreakerLayer, LoadShedLayer, RateLimitLayer, ResilienceStack, TimeoutLayer,
    WithDeadline,
};
use tower::{Layer, Service};
use tower_test::mock::{self, Mock};

type Req = WithDeadline<()>;

/// The three readiness rules, for `layer` over a `tower-test` mock.
fn follows_inner_readiness<L, R, Res>(layer: L, label: &str)
where
    L: Layer<Mock<R, Res>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Into<BoxError> + Debug,
{
    let (mut svc, mut handle) = mock::spawn_layer::<R, Res, _>(layer);

    handle.allow(0);
    assert!(svc.poll_ready().is_pending(), "{label}: inner not ready, layer ready");

    handle.allow(1);
    assert!(svc.is_woken(), "{label}: inner became ready, waiting task not woken");
    assert!(
        matches!(svc.poll_ready(), Poll::Ready(Ok(()))),
        "{label}: inner ready, layer not ready"
    );

    handle.send_error("inner broke");
    match svc.poll_ready() {
        Poll::Ready(Err(e)) => assert_eq!(e.into().to_string(), "inner broke", "{label}"),
        other => panic!("{label}: inner readiness error not passed on: {other:?}"),
    }
}

#[tokio::test]
async fn timeout_follows_inner_readiness() {
    follows_inner_readiness::<_, Req, ()>(TimeoutLayer::new(Duration::from_secs(1)), "timeout");
}

#[tokio::test]
async fn bulkhead_follows_inner_readiness() {
    follows_inner_readiness::<_, Req, ()>(BulkheadLayer::new(1), "bulkhead");
}

#[tokio::test]
async fn circuit_breaker_follows_inner_readiness() {
    follows_inner_readiness::<_, Req, ()>(CircuitBreakerLayer::new(BreakerConfig::default()), "breaker");
}

#[tokio::test]
async fn load_shed_follows_inner_readiness() {
    follows_inner_readiness::<_, Req, ()>(LoadShedLayer::aimd(), "load shed");
}

#[tokio::test]
async fn rate_limit_follows_inner_readiness() {
    follows_inner_readiness::<_, Req, ()>(RateLimitLayer::new(per_second(1)), "rate limit");
}

#[tokio::test]
async fn retry_follows_inner_readiness() {
    let layer = tower::retry::RetryLayer::new(RetryPolicy::new(RetryConfig::default()));
    follows_inner_readiness::<_, Req, ()>(layer, "retry");
}

#[tokio::test]
async fn http_stack_follows_inner_readiness() {
    follows_inner_readiness::<_, http::Request<()>, http::Response<()>>(ResilienceStack::http(), "stack");
}

/// A full bulkhead rejects in `call`, not in `poll_ready`: the layer stays ready while its
/// partition has no permit (the partition depends on the request).
#[tokio::test]
async fn a_full_bulkhead_stays_ready_and_rejects_in_call() {
    let (mut svc, mut handle) = mock::spawn_layer::<Req, (), _>(BulkheadLayer::new(1));
    handle.allow(2);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let _running = svc.call(WithDeadline::new((), None));
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))), "full, still ready");
    let err = svc.call(WithDeadline::new((), None)).await.unwrap_err();
    assert!(err.is::<lift_resilience::BulkheadFull>(), "{err}");
}
