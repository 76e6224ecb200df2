//! Retry: attempt times, jitter bounds, deadline, budget, classification.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lift_resilience::retry::{HttpRetryClassifier, Jitter, RetryConfig, RetryPolicy, RetryStop};
use lift_resilience::{BoxError, Open, ResilienceEvent, WithDeadline};
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::{service_fn, Layer, Service, ServiceExt};

type Log = Arc<Mutex<Vec<Duration>>>;

/// Always fails after `work` ms; logs attempt start times relative to `t0`.
fn failing(
    log: Log,
    t0: Instant,
    work: u64,
) -> impl Service<WithDeadline<()>, Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(move |_r: WithDeadline<()>| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(t0.elapsed());
            tokio::time::sleep(Duration::from_millis(work)).await;
            Err::<(), BoxError>("boom".into())
        }
    })
}

#[tokio::test(start_paused = true)]
async fn exponential_attempt_times_without_jitter() {
    let log: Log = Default::default();
    let policy = RetryPolicy::new(
        RetryConfig::default()
            .max_attempts(4)
            .backoff(Duration::from_millis(100), Duration::from_millis(300))
            .jitter(Jitter::None),
    );
    let mut s = RetryLayer::new(policy).layer(failing(log.clone(), Instant::now(), 0));
    assert!(s
        .ready()
        .await
        .unwrap()
        .call(WithDeadline::new((), None))
        .await
        .is_err());
    let ms: Vec<u128> = log.lock().unwrap().iter().map(|d| d.as_millis()).collect();
    // Backoffs 100, 200, then 400 capped at 300.
    assert_eq!(ms, vec![0, 100, 300, 600]);
}

async fn gaps(jitter: Jitter, runs: usize) -> Vec<Vec<Duration>> {
    let mut all = Vec::new();
    for _ in 0..runs {
        let log: Log = Default::default();
        let policy = RetryPolicy::new(
            RetryConfig::default()
                .max_attempts(5)
                .backoff(Duration::from_millis(100), Duration::from_secs(1))
                .jitter(jitter),
        );
        let mut s = RetryLayer::new(policy).layer(failing(log.clone(), Instant::now(), 0));
        let _ = s.ready().await.unwrap().call(WithDeadline::new((), None)).await;
        let t = log.lock().unwrap().clone();
        assert_eq!(t.len(), 5);
        all.push(t.windows(2).map(|w| w[1] - w[0]).collect());
    }
    all
}

#[tokio::test(start_paused = true)]
async fn full_jitter_bounds() {
    let runs = gaps(Jitter::Full, 300).await;
    let mut first = Vec::new();
    for g in &runs {
        for (i, d) in g.iter().enumerate() {
            let cap = Duration::from_millis(100 * (1 << i)).min(Duration::from_secs(1));
            assert!(*d <= cap, "gap {i} = {d:?} > {cap:?}");
        }
        first.push(g[0].as_secs_f64());
    }
    // Uniform on [0, 100 ms]: mean 50 ms (sd of the mean ~1.7 ms), actually spread.
    let mean = first.iter().sum::<f64>() / first.len() as f64;
    assert!((0.040..0.060).contains(&mean), "mean {mean}");
    assert!(first.iter().any(|x| *x < 0.02) && first.iter().any(|x| *x > 0.08));
}

#[tokio::test(start_paused = true)]
async fn decorrelated_jitter_bounds() {
    for g in gaps(Jitter::Decorrelated, 300).await {
        let mut prev = Duration::from_millis(100);
        for d in g {
            assert!(d >= Duration::from_millis(100), "{d:?} below base");
            assert!(
                d <= (prev * 3).min(Duration::from_secs(1)) + Duration::from_millis(1),
                "{d:?} above 3x{prev:?}"
            );
            prev = d;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn no_attempt_that_cannot_finish_before_the_deadline() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e2 = events.clone();
    let policy = RetryPolicy::new(
        RetryConfig::default()
            .max_attempts(10)
            .backoff(Duration::from_millis(100), Duration::from_secs(10))
            .jitter(Jitter::None),
    )
    .listener(move |e: &ResilienceEvent<'_>| {
        if let ResilienceEvent::RetryAbandoned { reason, attempts, .. } = e {
            e2.lock().unwrap().push((*reason, *attempts));
        }
    });
    for (deadline_ms, expected) in [(250u64, vec![0u128]), (350, vec![0, 200]), (1000, vec![0, 200, 500])] {
        let log: Log = Default::default();
        let t0 = Instant::now();
        let mut s = RetryLayer::new(policy.clone()).layer(failing(log.clone(), t0, 100));
        let req = WithDeadline::new((), Some(t0 + Duration::from_millis(deadline_ms)));
        assert!(s.ready().await.unwrap().call(req).await.is_err());
        let ms: Vec<u128> = log.lock().unwrap().iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, expected, "deadline {deadline_ms} ms");
        // Every attempt made finished before the deadline.
        assert!(t0.elapsed() <= Duration::from_millis(deadline_ms));
    }
    let ev = events.lock().unwrap();
    let deadline = RetryStop::Deadline;
    assert_eq!(*ev, vec![(deadline, 1), (deadline, 2), (deadline, 3)]);
}

#[tokio::test(start_paused = true)]
async fn budget_limits_retries() {
    let log: Log = Default::default();
    // No share of requests, a reserve of 1 retry per second over 1 s.
    let budget = RetryPolicy::tps_budget(Duration::from_secs(1), 1, 0.0);
    let policy = RetryPolicy::new(RetryConfig::default().max_attempts(3).jitter(Jitter::None)).budget(budget);
    let mut s = RetryLayer::new(policy).layer(failing(log.clone(), Instant::now(), 0));
    for _ in 0..5 {
        let _ = s.ready().await.unwrap().call(WithDeadline::new((), None)).await;
    }
    // 5 first attempts + the budget's reserve, not 5 x 3.
    let n = log.lock().unwrap().len();
    assert!((5..=7).contains(&n), "attempts {n}");
}

#[tokio::test(start_paused = true)]
async fn classification_of_responses_and_errors() {
    let calls = Arc::new(Mutex::new(0));
    let c2 = calls.clone();
    let inner = service_fn(move |r: WithDeadline<(u16, bool)>| {
        let r = r.request;
        *c2.lock().unwrap() += 1;
        async move {
            if r.1 {
                return Err::<http::Response<()>, BoxError>(Box::new(Open::new(
                    lift_resilience::circuit_breaker::BreakerState::Open,
                    None,
                )));
            }
            Ok(http::Response::builder().status(r.0).body(()).unwrap())
        }
    });
    let policy = RetryPolicy::new(RetryConfig::default().max_attempts(3)).classifier(HttpRetryClassifier);
    let mut s = RetryLayer::new(policy).layer(inner);
    for (req, attempts) in [
        ((503, false), 3),
        ((429, false), 1),
        ((200, false), 1),
        ((500, false), 1),
        ((0, true), 1),
    ] {
        *calls.lock().unwrap() = 0;
        let _ = s.ready().await.unwrap().call(WithDeadline::new(req, None)).await;
        assert_eq!(*calls.lock().unwrap(), attempts, "{req:?}");
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Retry(u32),
    Abandoned(RetryStop, u32),
}

/// Fails its first `fail` calls (with `Open` when `rejection`), then succeeds.
fn fails_first(
    fail: u32,
    rejection: bool,
) -> impl Service<WithDeadline<()>, Response = (), Error = BoxError, Future: Send> + Clone {
    let calls = Arc::new(Mutex::new(0u32));
    service_fn(move |_r: WithDeadline<()>| {
        let n = {
            let mut c = calls.lock().unwrap();
            *c += 1;
            *c
        };
        async move {
            match (n <= fail, rejection) {
                (false, _) => Ok(()),
                (true, false) => Err::<(), BoxError>("boom".into()),
                (true, true) => {
                    Err(Box::new(Open::new(lift_resilience::circuit_breaker::BreakerState::Open, None)) as BoxError)
                }
            }
        }
    })
}

#[tokio::test(start_paused = true)]
async fn each_call_reports_its_retries_and_at_most_one_abandon_exactly() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let policy = |max: u32| {
        let s2 = s2.clone();
        RetryPolicy::new(RetryConfig::default().max_attempts(max).jitter(Jitter::None)).listener(
            move |e: &ResilienceEvent<'_>| match e {
                ResilienceEvent::Retry { attempt, .. } => s2.lock().unwrap().push(Seen::Retry(*attempt)),
                ResilienceEvent::RetryAbandoned { reason, attempts, .. } => {
                    s2.lock().unwrap().push(Seen::Abandoned(*reason, *attempts))
                }
                _ => {}
            },
        )
    };
    let cases = [
        // Every attempt fails: the last failure is reported (tower never asks after it).
        (
            3,
            10,
            false,
            Err(()),
            vec![
                Seen::Retry(2),
                Seen::Retry(3),
                Seen::Abandoned(RetryStop::MaxAttempts, 3),
            ],
        ),
        (1, 10, false, Err(()), vec![Seen::Abandoned(RetryStop::MaxAttempts, 1)]),
        // Success on a retry: retries only.
        (3, 1, false, Ok(()), vec![Seen::Retry(2)]),
        (3, 0, false, Ok(()), vec![]),
        // Not retryable: nothing.
        (3, 10, true, Err(()), vec![]),
    ];
    for (max, fail, rejection, outcome, expected) in cases {
        seen.lock().unwrap().clear();
        let mut s = RetryLayer::new(policy(max)).layer(fails_first(fail, rejection));
        let r = s.ready().await.unwrap().call(WithDeadline::new((), None)).await;
        assert_eq!(r.map_err(|_| ()), outcome, "max {max}, fail {fail}");
        assert_eq!(
            *seen.lock().unwrap(),
            expected,
            "max {max}, fail {fail}, rejection {rejection}"
        );
    }
}
