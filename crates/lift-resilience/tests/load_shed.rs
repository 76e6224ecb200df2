//! Load shedding: random rate within statistical bounds, priorities, adaptive limits.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lift_resilience::load_shed::{
    AimdConfig, HeaderPriority, LimitAlgorithm, LoadShedLayer, Overloaded, Priority, PriorityFrom, ShedReason,
};
use lift_resilience::{rejection, BoxError};
use tower::{service_fn, Layer, Service, ServiceExt};

fn ok_svc<R: Send + 'static>() -> impl Service<R, Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(|_: R| async { Ok::<_, BoxError>(()) })
}

#[tokio::test]
async fn random_rate_within_statistical_bounds_and_critical_exempt() {
    for rate in [0.1, 0.3, 0.75] {
        let mut s = LoadShedLayer::random(rate).layer(ok_svc::<()>());
        let n = 20_000;
        let mut shed = 0;
        for _ in 0..n {
            if let Err(e) = s.ready().await.unwrap().call(()).await {
                assert_eq!(e.downcast_ref::<Overloaded>().unwrap().reason(), ShedReason::Random);
                shed += 1;
            }
        }
        let p = shed as f64 / n as f64;
        let sd = (rate * (1.0 - rate) / n as f64).sqrt();
        assert!((p - rate).abs() < 6.0 * sd, "rate {rate}: observed {p}");
    }
    let mut s = LoadShedLayer::random(0.9)
        .priority(PriorityFrom(|_: &()| Priority::Critical))
        .layer(ok_svc::<()>());
    for _ in 0..2_000 {
        s.ready().await.unwrap().call(()).await.unwrap();
    }
}

#[tokio::test]
async fn priority_thresholds_shed_low_first_and_critical_last() {
    let layer = LoadShedLayer::limit(LimitAlgorithm::Fixed(10)).priority(HeaderPriority::default());
    let mut s = layer.layer(service_fn(|_: http::Request<()>| async {
        std::future::pending::<()>().await;
        Ok::<(), BoxError>(())
    }));
    let req = |p: &str| http::Request::builder().header("x-priority", p).body(()).unwrap();
    let mut held = Vec::new();
    // Low is admitted up to 50 % of the limit.
    for _ in 0..5 {
        held.push(s.ready().await.unwrap().call(req("low")));
    }
    let err = s.ready().await.unwrap().call(req("low")).await.unwrap_err();
    assert_eq!(rejection(&*err).unwrap().code, "overloaded");
    // Normal up to 75 %, high up to 90 %, critical up to 100 %.
    for (p, cap) in [("normal", 7), ("HIGH", 9), ("critical", 10)] {
        while held.len() < cap {
            held.push(s.ready().await.unwrap().call(req(p)));
        }
        assert!(
            s.ready().await.unwrap().call(req(p)).await.is_err(),
            "{p} shed at {cap}"
        );
    }
    assert_eq!(s.in_flight(), 10);
    drop(held);
    assert_eq!(s.in_flight(), 0, "cancelled calls leave the count");
    // Unknown or missing header: normal.
    let plain = http::Request::new(());
    let _f = s.ready().await.unwrap().call(plain);
    assert_eq!(s.in_flight(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fixed_limit_never_exceeded_under_contention() {
    let cur = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (c2, m2) = (cur.clone(), max.clone());
    let s = LoadShedLayer::limit(LimitAlgorithm::Fixed(8)).layer(service_fn(move |_: ()| {
        let (c, m) = (c2.clone(), m2.clone());
        async move {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(2)).await;
            c.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, BoxError>(())
        }
    }));
    let mut tasks = Vec::new();
    for _ in 0..400 {
        let mut s = s.clone();
        tasks.push(tokio::spawn(async move { s.ready().await?.call(()).await }));
    }
    let mut shed = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            shed += 1;
        }
    }
    assert!(max.load(Ordering::SeqCst) <= 8);
    assert!(shed > 0);
    assert_eq!(s.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn aimd_limit_follows_measured_outcomes() {
    let layer = LoadShedLayer::limit(LimitAlgorithm::Aimd(
        AimdConfig::default()
            .limits(10, 2, 100)
            .backoff(0.5, Duration::from_secs(1)),
    ));
    let mut s = layer.layer(service_fn(|(fail, ms): (bool, u64)| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if fail {
            Err::<(), BoxError>("x".into())
        } else {
            Ok(())
        }
    }));
    assert_eq!(s.limit(), Some(10));
    // Errors: multiplicative decrease.
    s.ready().await.unwrap().call((true, 1)).await.unwrap_err();
    assert_eq!(s.limit(), Some(5));
    // A call slower than the timeout counts as a drop, even if it succeeded.
    s.ready().await.unwrap().call((false, 1500)).await.unwrap();
    assert_eq!(s.limit(), Some(2));
    // Successes while the limit is in use (in flight * 2 >= limit): +1 each.
    let a = s.ready().await.unwrap().call((false, 10));
    let b = s.ready().await.unwrap().call((false, 20));
    let (ra, rb) = tokio::join!(a, b);
    ra.unwrap();
    rb.unwrap();
    assert_eq!(s.limit(), Some(4));
    // A cancelled call is not a sample.
    drop(s.ready().await.unwrap().call((false, 10)));
    assert_eq!(s.limit(), Some(4));
    assert_eq!(s.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn gradient_limit_shrinks_under_rising_latency() {
    let mut s = LoadShedLayer::gradient().layer(service_fn(|ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok::<(), BoxError>(())
    }));
    // Keep the limit busy (in flight >= limit / 2) so the algorithm is not app-limited.
    async fn wave<S>(s: &mut S, n: usize, ms: u64)
    where
        S: Service<u64, Error = BoxError>,
        S::Future: Send + 'static,
        S::Response: Send + 'static,
    {
        let mut fs = Vec::new();
        for _ in 0..n {
            fs.push(tokio::spawn(s.ready().await.unwrap().call(ms)));
        }
        for f in fs {
            let _ = f.await;
        }
    }
    for _ in 0..30 {
        wave(&mut s, 20, 10).await;
    }
    let grown = s.limit().unwrap();
    assert!(grown > 20, "steady latency grows the limit: {grown}");
    for _ in 0..10 {
        wave(&mut s, grown, 200).await;
    }
    assert!(
        s.limit().unwrap() < grown,
        "latency x20 shrinks it: {:?} vs {grown}",
        s.limit()
    );
}
