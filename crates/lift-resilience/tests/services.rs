//! Each service, as in tower: `new(inner, ..)` behaves as its layer's defaults, and `get_ref`,
//! `get_mut`, `into_inner` give the inner service back.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lift_resilience::bulkhead::Bulkhead;
use lift_resilience::circuit_breaker::{BreakerConfig, CircuitBreaker};
use lift_resilience::load_shed::{LimitAlgorithm, LoadShed};
use lift_resilience::rate_limit::{per_second, RateLimit};
use lift_resilience::timeout::Timeout;
use lift_resilience::{BoxError, BulkheadFull, Elapsed, Overloaded, RateLimited, WithDeadline};
use tower::{Service, ServiceExt};

/// A service that knows its name and sleeps `request` ms.
#[derive(Clone, Debug, PartialEq)]
struct Named(&'static str);

impl Service<WithDeadline<u64>> for Named {
    type Response = ();
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, r: WithDeadline<u64>) -> Self::Future {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(r.request)).await;
            Ok(())
        })
    }
}

fn req(ms: u64) -> WithDeadline<u64> {
    WithDeadline::new(ms, None)
}

#[tokio::test(start_paused = true)]
async fn new_applies_the_layer_and_the_inner_service_comes_back() {
    let mut t = Timeout::new(Named("t"), Duration::from_millis(10));
    let err = t.ready().await.unwrap().call(req(50)).await.unwrap_err();
    assert!(err.is::<Elapsed>(), "{err}");
    t.get_mut().0 = "t2";
    assert_eq!(t.get_ref(), &Named("t2"));
    assert_eq!(t.into_inner(), Named("t2"));

    let mut b = Bulkhead::new(Named("b"), 1);
    let _held = b.ready().await.unwrap().call(req(50));
    let err = b.ready().await.unwrap().call(req(0)).await.unwrap_err();
    assert!(err.is::<BulkheadFull>(), "{err}");
    b.get_mut().0 = "b2";
    assert_eq!(b.get_ref(), &Named("b2"));
    assert_eq!(b.into_inner(), Named("b2"));

    let mut c = CircuitBreaker::new(Named("c"), BreakerConfig::default());
    c.ready().await.unwrap().call(req(0)).await.unwrap();
    c.get_mut().0 = "c2";
    assert_eq!(c.get_ref(), &Named("c2"));
    assert_eq!(c.into_inner(), Named("c2"));

    let mut l = LoadShed::new(Named("l"), LimitAlgorithm::Fixed(1));
    let _held = l.ready().await.unwrap().call(req(50));
    let err = l.ready().await.unwrap().call(req(0)).await.unwrap_err();
    assert!(err.is::<Overloaded>(), "{err}");
    l.get_mut().0 = "l2";
    assert_eq!(l.get_ref(), &Named("l2"));
    assert_eq!(l.into_inner(), Named("l2"));

    let mut r = RateLimit::new(Named("r"), per_second(1));
    r.ready().await.unwrap().call(req(0)).await.unwrap();
    let err = r.ready().await.unwrap().call(req(0)).await.unwrap_err();
    assert!(err.is::<RateLimited>(), "{err}");
    r.get_mut().0 = "r2";
    assert_eq!(r.get_ref(), &Named("r2"));
    assert_eq!(r.into_inner(), Named("r2"));
}
