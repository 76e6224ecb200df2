//! Circuit breaker behaviour under tokio's paused clock, and concurrency.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lift_resilience::circuit_breaker::{
    BreakerConfig, BreakerState, CircuitBreakerLayer, FallbackFn, Open, SlidingWindow, WaitInOpen,
};
use lift_resilience::{BoxError, HttpClassifier, Overloaded, ResilienceEvent};
use tower::{service_fn, Layer, Service, ServiceExt};

/// Request: (fail?, latency ms).
fn svc() -> impl Service<(bool, u64), Response = u32, Error = BoxError, Future: Send> + Clone {
    service_fn(|(fail, ms): (bool, u64)| async move {
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if fail {
            Err::<u32, BoxError>("boom".into())
        } else {
            Ok(1)
        }
    })
}

async fn call<S>(s: &mut S, fail: bool) -> Result<u32, BoxError>
where
    S: Service<(bool, u64), Response = u32, Error = BoxError>,
{
    s.ready().await?.call((fail, 0)).await
}

fn open_err(r: Result<u32, BoxError>) -> Open {
    *r.expect_err("rejected").downcast::<Open>().expect("Open error")
}

#[tokio::test(start_paused = true)]
async fn count_window_exact_transition_points_and_half_open() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(10))
        .minimum_calls(5)
        .failure_rate_threshold(50.0)
        .wait_in_open(WaitInOpen::Backoff {
            initial: Duration::from_secs(10),
            multiplier: 2.0,
            max: Duration::from_secs(60),
        })
        .permitted_calls_in_half_open(3);
    let transitions = Arc::new(Mutex::new(Vec::new()));
    let t2 = transitions.clone();
    let layer = CircuitBreakerLayer::new(cfg).listener(move |e: &ResilienceEvent<'_>| {
        if let ResilienceEvent::BreakerTransition { from, to, .. } = e {
            t2.lock().unwrap().push((*from, *to));
        }
    });
    let h = layer.handle();
    let mut s = layer.layer(svc());

    // 4 failures: fewer than the minimum, still closed.
    for _ in 0..4 {
        assert!(call(&mut s, true).await.is_err());
    }
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    // 5th call, a success: 4/5 = 80 % failures with 5 calls: opens on this very call.
    assert!(call(&mut s, false).await.is_ok());
    assert_eq!(h.state(&()), Some(BreakerState::Open));

    let e = open_err(call(&mut s, false).await);
    assert_eq!(e.state(), BreakerState::Open);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(10)));
    tokio::time::advance(Duration::from_millis(9_999)).await;
    assert_eq!(
        open_err(call(&mut s, false).await).retry_after(),
        Some(Duration::from_millis(1))
    );
    tokio::time::advance(Duration::from_millis(1)).await;

    // Half-open: exactly 3 trial calls are admitted while they are in flight.
    let mut slow = s.clone();
    let mut futs = Vec::new();
    for _ in 0..5 {
        futs.push(slow.ready().await.unwrap().call((false, 100)));
    }
    assert_eq!(h.state(&()), Some(BreakerState::HalfOpen));
    assert_eq!(h.metrics(&()).unwrap().half_open_admitted, 3);
    let results = futures_join(futs).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    assert_eq!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .filter_map(|e| e.downcast_ref::<Open>())
            .filter(|o| o.state() == BreakerState::HalfOpen)
            .count(),
        2
    );
    // 3 successes: closed again.
    assert_eq!(h.state(&()), Some(BreakerState::Closed));

    // Open again (5 failures), then a failing half-open: re-opens with the doubled wait.
    for _ in 0..5 {
        let _ = call(&mut s, true).await;
    }
    assert_eq!(h.state(&()), Some(BreakerState::Open));
    assert_eq!(
        open_err(call(&mut s, false).await).retry_after(),
        Some(Duration::from_secs(10))
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(call(&mut s, true).await.is_err()); // trial 1 fails
    assert!(call(&mut s, true).await.is_err()); // trial 2 fails
    assert_eq!(h.state(&()), Some(BreakerState::HalfOpen));
    assert!(call(&mut s, false).await.is_ok()); // trial 3: 2/3 failed -> open
    assert_eq!(h.state(&()), Some(BreakerState::Open));
    assert_eq!(
        open_err(call(&mut s, false).await).retry_after(),
        Some(Duration::from_secs(20))
    );

    let (c, o, h) = (BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen);
    assert_eq!(
        *transitions.lock().unwrap(),
        vec![(c, o), (o, h), (h, c), (c, o), (o, h), (h, o)]
    );
}

async fn futures_join<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut out = Vec::new();
    let handles: Vec<_> = futs.into_iter().map(Box::pin).collect();
    // Poll all concurrently.
    let mut handles: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..handles.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, h) in handles.iter_mut().enumerate() {
            if let Some(f) = h {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *h = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    for r in results {
        out.push(r.expect("completed"));
    }
    out
}

#[tokio::test(start_paused = true)]
async fn count_window_threshold_is_inclusive_and_old_calls_slide_out() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(4))
        .minimum_calls(4)
        .failure_rate_threshold(50.0);
    let layer = CircuitBreakerLayer::new(cfg);
    let h = layer.handle();
    let mut s = layer.layer(svc());
    // F S S S: 25 %
    for f in [true, false, false, false] {
        let _ = call(&mut s, f).await;
    }
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    // window S S S F (first F slid out): 25 %
    let _ = call(&mut s, true).await;
    assert_eq!(h.metrics(&()).unwrap().failures, 1);
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    // S S F F: 50 % -> open (threshold inclusive)
    let _ = call(&mut s, true).await;
    assert_eq!(h.state(&()), Some(BreakerState::Open));
}

#[tokio::test(start_paused = true)]
async fn time_window_exact_transition_points() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Time(Duration::from_secs(10)))
        .minimum_calls(4)
        .failure_rate_threshold(50.0);
    let layer = CircuitBreakerLayer::new(cfg);
    let h = layer.handle();
    let mut s = layer.layer(svc());

    let _ = call(&mut s, true).await;
    let _ = call(&mut s, true).await;
    // Second 10: the failures of second 0 have left the window.
    tokio::time::advance(Duration::from_secs(10)).await;
    for f in [false, false, true, false] {
        let _ = call(&mut s, f).await;
    }
    // 1/4 in window (would be 3/6 = 50 % with the old calls).
    assert_eq!(h.metrics(&()).unwrap().calls, 4);
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    tokio::time::advance(Duration::from_millis(9_999)).await; // still second 19: all in window
    let _ = call(&mut s, true).await; // 2/5
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    let _ = call(&mut s, true).await; // 3/6 = 50 %
    assert_eq!(h.state(&()), Some(BreakerState::Open));
}

#[tokio::test(start_paused = true)]
async fn time_window_minimum_calls_within_window() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Time(Duration::from_secs(5)))
        .minimum_calls(3)
        .failure_rate_threshold(100.0);
    let layer = CircuitBreakerLayer::new(cfg);
    let h = layer.handle();
    let mut s = layer.layer(svc());
    for _ in 0..2 {
        let _ = call(&mut s, true).await;
        tokio::time::advance(Duration::from_secs(3)).await;
    }
    // t=6: the call of t=0 left the window; t=3 and t=6 make 2 < 3.
    let _ = call(&mut s, true).await;
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    let _ = call(&mut s, true).await; // 3 failures within 5 s
    assert_eq!(h.state(&()), Some(BreakerState::Open));
}

#[tokio::test(start_paused = true)]
async fn slow_call_rate_opens() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(2))
        .minimum_calls(2)
        .slow_calls(50.0, Duration::from_secs(1));
    let layer = CircuitBreakerLayer::new(cfg);
    let h = layer.handle();
    let mut s = layer.layer(svc());
    s.ready().await.unwrap().call((false, 999)).await.unwrap();
    s.ready().await.unwrap().call((false, 10)).await.unwrap();
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    s.ready().await.unwrap().call((false, 1000)).await.unwrap(); // slow, successful
    assert_eq!(h.metrics(&()).unwrap().state, BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn classifier_ignores_rejections_and_http_5xx_fails() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(2))
        .minimum_calls(2);
    let layer = CircuitBreakerLayer::new(cfg);
    let h = layer.handle();
    let mut s = layer.layer(service_fn(|_: ()| async {
        Err::<(), BoxError>(Box::new(Overloaded::new(
            lift_resilience::load_shed::ShedReason::Random,
        )))
    }));
    for _ in 0..10 {
        let _ = s.ready().await.unwrap().call(()).await;
    }
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    assert_eq!(h.metrics(&()).unwrap().calls, 0);

    let layer = CircuitBreakerLayer::new(cfg).classifier(HttpClassifier);
    let h = layer.handle();
    let mut s = layer.layer(service_fn(|code: u16| async move {
        Ok::<_, std::convert::Infallible>(http::Response::builder().status(code).body(()).unwrap())
    }));
    for code in [404, 429] {
        s.ready().await.unwrap().call(code).await.unwrap();
    }
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
    // window [429, 500]: 50 % -> open
    s.ready().await.unwrap().call(500).await.unwrap();
    assert_eq!(h.state(&()), Some(BreakerState::Open));
}

#[tokio::test(start_paused = true)]
async fn manual_states_and_fallback() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(2))
        .minimum_calls(2);
    let layer = CircuitBreakerLayer::new(cfg).fallback(FallbackFn(|_req: (bool, u64), _o: Open| Ok(42)));
    let h = layer.handle();
    let mut s = layer.layer(svc());

    h.transition(&(), BreakerState::Disabled);
    for _ in 0..5 {
        let _ = call(&mut s, true).await;
    }
    assert_eq!(h.metrics(&()).unwrap().calls, 0, "disabled records nothing");
    assert_eq!(h.state(&()), Some(BreakerState::Disabled));

    h.transition(&(), BreakerState::MetricsOnly);
    for _ in 0..5 {
        let _ = call(&mut s, true).await;
    }
    let m = h.metrics(&()).unwrap();
    assert_eq!((m.state, m.calls, m.failures), (BreakerState::MetricsOnly, 2, 2));

    h.transition(&(), BreakerState::ForcedOpen);
    // Fallback answers instead of the error.
    assert_eq!(call(&mut s, false).await.unwrap(), 42);
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!(call(&mut s, false).await.unwrap(), 42);
    assert_eq!(h.state(&()), Some(BreakerState::ForcedOpen));

    h.transition(&(), BreakerState::Closed);
    assert_eq!(call(&mut s, false).await.unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn max_wait_in_half_open_and_cancelled_trial_gives_slot_back() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(1))
        .minimum_calls(1)
        .wait_in_open(WaitInOpen::Fixed(Duration::from_secs(1)))
        .permitted_calls_in_half_open(1)
        .max_wait_in_half_open(Some(Duration::from_secs(5)));
    let layer = CircuitBreakerLayer::new(cfg);
    let h = layer.handle();
    let mut s = layer.layer(svc());
    let _ = call(&mut s, true).await;
    tokio::time::advance(Duration::from_secs(1)).await;
    // Trial call started, then cancelled: its slot comes back.
    let f = s.ready().await.unwrap().call((false, 10_000));
    assert!(open_err(call(&mut s, false).await).state() == BreakerState::HalfOpen);
    drop(f);
    assert_eq!(h.metrics(&()).unwrap().half_open_admitted, 0);
    // A trial that never finishes: after 5 s in half-open the breaker re-opens.
    let _stuck = s.ready().await.unwrap().call((false, 100_000));
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(open_err(call(&mut s, false).await).state(), BreakerState::Open);
    assert_eq!(h.state(&()), Some(BreakerState::Open));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_open_admits_exactly_the_permitted_calls_under_contention() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(1))
        .minimum_calls(1)
        .wait_in_open(WaitInOpen::Fixed(Duration::ZERO))
        .permitted_calls_in_half_open(7);
    let layer = CircuitBreakerLayer::new(cfg);
    let h = layer.handle();
    let admitted = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let a2 = admitted.clone();
    let inner = service_fn(move |fail: bool| {
        let a = a2.clone();
        let mut rx = rx.clone();
        async move {
            if fail {
                return Err::<(), BoxError>("boom".into());
            }
            a.fetch_add(1, Ordering::SeqCst);
            let _ = rx.wait_for(|v| *v).await;
            Ok(())
        }
    });
    let mut s = layer.layer(inner);
    let _ = s.ready().await.unwrap().call(true).await;
    assert_eq!(h.state(&()), Some(BreakerState::Open));

    let barrier = Arc::new(tokio::sync::Barrier::new(500));
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let mut s = s.clone();
        let b = barrier.clone();
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            s.ready().await.unwrap().call(false).await
        }));
    }
    // Wait until every task has been admitted or rejected.
    let mut rejected = 0;
    let mut pending = Vec::new();
    for t in tasks {
        if t.is_finished() {
            if t.await.unwrap().is_err() {
                rejected += 1;
            }
        } else {
            pending.push(t);
        }
    }
    while admitted.load(Ordering::SeqCst) + rejected < 500 {
        let mut still = Vec::new();
        for t in pending {
            if t.is_finished() {
                if t.await.unwrap().is_err() {
                    rejected += 1;
                }
            } else {
                still.push(t);
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(admitted.load(Ordering::SeqCst), 7);
    assert_eq!(rejected, 493);
    tx.send(true).unwrap();
    for t in pending {
        assert!(t.await.unwrap().is_ok());
    }
    assert_eq!(h.state(&()), Some(BreakerState::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partitions_stay_within_their_bound() {
    let layer = CircuitBreakerLayer::new(BreakerConfig::default().max_keys(8)).key(|r: &u32| *r);
    let h = layer.handle();
    let s = layer.layer(service_fn(|_: u32| async { Ok::<_, BoxError>(()) }));
    let mut tasks = Vec::new();
    for i in 0..400u32 {
        let mut s = s.clone();
        tasks.push(tokio::spawn(async move { s.ready().await.unwrap().call(i).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
        assert!(h.partitions() <= 8);
    }
    assert_eq!(h.partitions(), 8);
}

#[tokio::test(start_paused = true)]
async fn partitions_are_independent() {
    let cfg = BreakerConfig::default()
        .window(SlidingWindow::Count(1))
        .minimum_calls(1);
    let layer = CircuitBreakerLayer::new(cfg).key(|r: &(&'static str, bool)| r.0);
    let h = layer.handle();
    let mut s = layer.layer(service_fn(|r: (&'static str, bool)| async move {
        if r.1 {
            Err::<(), BoxError>("x".into())
        } else {
            Ok(())
        }
    }));
    let _ = s.ready().await.unwrap().call(("a", true)).await;
    assert_eq!(h.state(&"a"), Some(BreakerState::Open));
    assert!(s.ready().await.unwrap().call(("b", false)).await.is_ok());
    assert_eq!(h.state(&"b"), Some(BreakerState::Closed));
}
