//! The composed HTTP stack: a failing route opens the breaker, which recovers.

#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::time::Duration;

use lift_resilience::{rejection, InvocationDeadline, ResilienceStack};
use tower::{service_fn, Layer, Service, ServiceExt};

#[tokio::test(start_paused = true)]
async fn flaky_route_opens_and_recovers() {
    let app = service_fn(|req: http::Request<()>| async move {
        let status = if req.uri().path() == "/fail" { 500 } else { 200 };
        Ok::<_, Infallible>(http::Response::builder().status(status).body(()).unwrap())
    });
    let mut svc = ResilienceStack::http().layer(app);
    let req = |path: &str| {
        let mut r = http::Request::builder().uri(path).body(()).unwrap();
        r.extensions_mut()
            .insert(InvocationDeadline::after(Duration::from_secs(10)));
        r
    };
    for _ in 0..10 {
        let res = svc.ready().await.unwrap().call(req("/fail")).await.unwrap();
        assert_eq!(res.status(), 500);
    }
    let err = svc.ready().await.unwrap().call(req("/ok")).await.unwrap_err();
    let r = rejection(&*err).unwrap();
    assert_eq!(
        (r.status, r.code, r.retry_after),
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            lift_resilience::code::CIRCUIT_OPEN,
            Some(Duration::from_secs(5))
        )
    );
    assert_eq!(r.headers()["retry-after"], "5");

    tokio::time::advance(Duration::from_secs(5)).await;
    for _ in 0..3 {
        assert_eq!(svc.ready().await.unwrap().call(req("/ok")).await.unwrap().status(), 200);
    }
    assert_eq!(svc.ready().await.unwrap().call(req("/ok")).await.unwrap().status(), 200);
}

#[tokio::test(start_paused = true)]
async fn stack_timeout_maps_to_504() {
    let app = service_fn(|_req: http::Request<()>| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok::<_, Infallible>(http::Response::new(()))
    });
    let mut svc = ResilienceStack::http().layer(app);
    let mut r = http::Request::new(());
    r.extensions_mut()
        .insert(InvocationDeadline::after(Duration::from_secs(3)));
    let err = svc.ready().await.unwrap().call(r).await.unwrap_err();
    assert_eq!(rejection(&*err).unwrap().status, http::StatusCode::GATEWAY_TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn http_stack_with_ratelimit_headers() {
    use lift_resilience::rate_limit::per_second;
    use lift_resilience::RateLimitLayer;
    let app = service_fn(|_req: http::Request<()>| async move { Ok::<_, Infallible>(http::Response::new(())) });
    let stack = ResilienceStack::http().rate_limit(RateLimitLayer::new(per_second(1000)).http_headers());
    let mut svc = stack.layer(app);
    let res = svc.ready().await.unwrap().call(http::Request::new(())).await.unwrap();
    assert_eq!(res.headers()["ratelimit-limit"], "1000");
    assert_eq!(res.headers()["ratelimit-remaining"], "999");
    // The default stack leaves responses alone.
    let app = service_fn(|_req: http::Request<()>| async move { Ok::<_, Infallible>(http::Response::new(())) });
    let mut plain = ResilienceStack::http().layer(app);
    let res = plain.ready().await.unwrap().call(http::Request::new(())).await.unwrap();
    assert!(res.headers().get("ratelimit-limit").is_none());
}
