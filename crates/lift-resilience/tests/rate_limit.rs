//! Rate limiting: GCRA decisions, headers, budgets under contention, key bounds, stores.

#![allow(clippy::unwrap_used)]

use std::future::Ready;
use std::num::NonZeroU32;
use std::time::Duration;

use lift_resilience::rate_limit::{per_second, Decision, FailMode, Quota, RateLimitLayer, RateLimitStore, RateLimited};
use lift_resilience::{rejection, BoxError};
use tower::{service_fn, Layer, Service, ServiceExt};

fn ok_svc<R: Send + 'static>() -> impl Service<R, Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(|_: R| async { Ok::<_, BoxError>(()) })
}

#[tokio::test(start_paused = true)]
async fn gcra_burst_then_refill_with_decisions() {
    let mut s = RateLimitLayer::new(per_second(10)).layer(ok_svc::<()>());
    for _ in 0..10 {
        s.ready().await.unwrap().call(()).await.unwrap();
    }
    let err = s.ready().await.unwrap().call(()).await.unwrap_err();
    let d = *err.downcast_ref::<RateLimited>().unwrap().decision();
    assert!(!d.allowed);
    assert_eq!((d.limit, d.remaining), (10, 0));
    assert_eq!(d.retry_after, Some(Duration::from_millis(100)));
    assert_eq!(d.reset, Duration::from_millis(1000));

    let r = rejection(&*err).unwrap();
    assert_eq!(
        (r.status, r.code),
        (http::StatusCode::TOO_MANY_REQUESTS, lift_resilience::code::RATE_LIMITED)
    );
    let h = r.headers();
    assert_eq!(h["retry-after"], "1");
    assert_eq!(h["ratelimit-limit"], "10");
    assert_eq!(h["ratelimit-remaining"], "0");
    assert_eq!(h["x-ratelimit-reset"], "1");

    tokio::time::advance(Duration::from_millis(99)).await;
    assert!(s.ready().await.unwrap().call(()).await.is_err());
    tokio::time::advance(Duration::from_millis(1)).await;
    s.ready().await.unwrap().call(()).await.unwrap();
    assert!(s.ready().await.unwrap().call(()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn never_admits_more_than_the_budget() {
    let quota = Quota::per_hour(NonZeroU32::new(50).unwrap());
    let s = RateLimitLayer::new(quota).layer(ok_svc::<()>());
    let mut tasks = Vec::new();
    for _ in 0..600 {
        let mut s = s.clone();
        tasks.push(tokio::spawn(async move { s.ready().await?.call(()).await }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyed_quotas_are_independent_and_keys_bounded() {
    let layer = RateLimitLayer::keyed(per_second(2), |r: &u32| *r, 16);
    let s = layer.layer(ok_svc::<u32>());
    let mut tasks = Vec::new();
    for i in 0..1000u32 {
        let mut s = s.clone();
        tasks.push(tokio::spawn(async move { s.ready().await?.call(i).await }));
    }
    for t in tasks {
        let _ = t.await.unwrap();
        assert!(layer.keys() <= 16);
    }
    assert_eq!(layer.keys(), 16);

    let layer = RateLimitLayer::keyed(per_second(1), |r: &&'static str| *r, 100);
    let mut s = layer.layer(ok_svc::<&'static str>());
    s.ready().await.unwrap().call("tenant-a").await.unwrap();
    assert!(s.ready().await.unwrap().call("tenant-a").await.is_err());
    s.ready().await.unwrap().call("tenant-b").await.unwrap();
}

#[derive(Clone)]
struct DownStore;

impl RateLimitStore<()> for DownStore {
    type Future = Ready<Result<Decision, BoxError>>;
    fn check(&self, _key: &()) -> Self::Future {
        std::future::ready(Err("store unavailable".into()))
    }
}

#[tokio::test]
async fn asynchronous_store_failing_open_or_closed() {
    let mut open = RateLimitLayer::with_store::<(), _, _>(lift_resilience::Global, DownStore).layer(ok_svc::<()>());
    open.ready().await.unwrap().call(()).await.unwrap();
    let mut closed = RateLimitLayer::with_store::<(), _, _>(lift_resilience::Global, DownStore)
        .fail_mode(FailMode::Closed)
        .layer(ok_svc::<()>());
    let err = closed.ready().await.unwrap().call(()).await.unwrap_err();
    assert_eq!(err.to_string(), "store unavailable");
}

#[tokio::test(start_paused = true)]
async fn admitted_http_responses_carry_ratelimit_headers() {
    let app = service_fn(|_: http::Request<()>| async { Ok::<_, BoxError>(http::Response::new(())) });
    let mut s = RateLimitLayer::new(per_second(3)).http_headers().layer(app);
    let req = || http::Request::new(());
    let res = s.ready().await.unwrap().call(req()).await.unwrap();
    let h = res.headers();
    assert_eq!(h["ratelimit-limit"], "3");
    assert_eq!(h["ratelimit-remaining"], "2");
    // One cell used, refilled in a third of a second: rounded up to 1 s.
    assert_eq!(h["ratelimit-reset"], "1");
    let res = s.ready().await.unwrap().call(req()).await.unwrap();
    assert_eq!(res.headers()["ratelimit-remaining"], "1");

    // Without `http_headers` the response is untouched.
    let app = service_fn(|_: http::Request<()>| async { Ok::<_, BoxError>(http::Response::new(())) });
    let mut plain = RateLimitLayer::new(per_second(3)).layer(app);
    let res = plain.ready().await.unwrap().call(req()).await.unwrap();
    assert!(res.headers().is_empty());
}

#[derive(Clone)]
struct AsyncStore;

impl RateLimitStore<()> for AsyncStore {
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Decision, BoxError>> + Send>>;
    fn check(&self, _key: &()) -> Self::Future {
        Box::pin(async {
            tokio::task::yield_now().await;
            Ok(Decision::new(true, 50, 7, Duration::from_millis(1500), None))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn headers_from_an_asynchronous_store() {
    let app = service_fn(|_: http::Request<()>| async { Ok::<_, BoxError>(http::Response::new(())) });
    let mut s = RateLimitLayer::with_store::<http::Request<()>, _, _>(lift_resilience::Global, AsyncStore)
        .http_headers()
        .layer(app);
    let res = s.ready().await.unwrap().call(http::Request::new(())).await.unwrap();
    let h = res.headers();
    assert_eq!(
        (&h["ratelimit-limit"], &h["ratelimit-remaining"], &h["ratelimit-reset"]),
        (
            &"50".parse::<http::HeaderValue>().unwrap(),
            &"7".parse::<http::HeaderValue>().unwrap(),
            &"2".parse::<http::HeaderValue>().unwrap()
        )
    );
}
