//! Every response future of this crate, in each of its states, answers a poll after completion
//! with `Err(PolledAfterCompletion)`: never `Pending` forever, never a panic, never a second
//! poll of the inner future (the inner futures here are `async` blocks, which panic if polled
//! again after completing).

#![allow(clippy::unwrap_used)]

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use lift_resilience::circuit_breaker::{BreakerConfig, BreakerState};
use lift_resilience::load_shed::LimitAlgorithm;
use lift_resilience::rate_limit::{per_second, Decision, RateLimitStore};
use lift_resilience::{
    BoxError, BulkheadLayer, CircuitBreakerLayer, Global, LoadShedLayer, PolledAfterCompletion, RateLimitLayer,
    TimeoutLayer, WithDeadline,
};
use tokio::time::Instant;
use tower::{service_fn, Layer, Service, ServiceExt};

type Req = WithDeadline<u64>;

/// Sleeps `request` ms, then answers how many calls it has seen.
fn sleeper() -> impl Service<Req, Response = u32, Error = BoxError, Future: Send> + Clone {
    let calls = Arc::new(AtomicU32::new(0));
    service_fn(move |r: Req| {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            tokio::time::sleep(Duration::from_millis(r.request)).await;
            Ok::<_, BoxError>(n)
        }
    })
}

fn req(ms: u64) -> Req {
    WithDeadline::new(ms, None)
}

/// Drives `fut` to completion, then polls it twice more: both must be
/// `Ready(Err(PolledAfterCompletion))`. Returns the first outcome.
async fn then_polled_after_completion<T, F>(fut: F) -> Result<T, BoxError>
where
    F: Future<Output = Result<T, BoxError>>,
{
    let mut fut = pin!(fut);
    let first = poll_fn(|cx| fut.as_mut().poll(cx)).await;
    let mut cx = Context::from_waker(Waker::noop());
    for again in 1..=2 {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(Err(e)) if e.is::<PolledAfterCompletion>() => {}
            Poll::Ready(Err(e)) => panic!("poll {again} after completion: another error: {e}"),
            Poll::Ready(Ok(_)) => panic!("poll {again} after completion: a second success"),
            Poll::Pending => panic!("poll {again} after completion: Pending"),
        }
    }
    first
}

#[tokio::test(start_paused = true)]
async fn timeout_future_in_every_state() {
    // Unlimited (no configured limit, no deadline).
    let mut s = TimeoutLayer::deadline_only().layer(sleeper());
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
    // Limited, inner finished first.
    let mut s = TimeoutLayer::new(Duration::from_secs(1)).layer(sleeper());
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
    // Limited, the limit fired (this state returned `Pending` forever before).
    let fut = s.ready().await.unwrap().call(req(5_000));
    let err = then_polled_after_completion(fut).await.unwrap_err();
    assert!(err.is::<lift_resilience::Elapsed>(), "{err}");
    // Expired before it started.
    let past = WithDeadline::new(5, Some(Instant::now()));
    let fut = s.ready().await.unwrap().call(past);
    let err = then_polled_after_completion(fut).await.unwrap_err();
    assert!(err.is::<lift_resilience::Elapsed>(), "{err}");
}

#[tokio::test(start_paused = true)]
async fn bulkhead_future_in_every_state() {
    let layer = BulkheadLayer::new(1).max_wait(Duration::from_millis(100));
    let mut s = layer.layer(sleeper());
    // Called with a permit at once.
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
    // Waited for a permit, then called.
    let holder = tokio::spawn(s.ready().await.unwrap().call(req(50)));
    tokio::task::yield_now().await;
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 3);
    holder.await.unwrap().unwrap();
    // Waited, then rejected.
    let holder = tokio::spawn(s.ready().await.unwrap().call(req(500)));
    tokio::task::yield_now().await;
    let fut = s.ready().await.unwrap().call(req(5));
    let err = then_polled_after_completion(fut).await.unwrap_err();
    assert!(err.is::<lift_resilience::BulkheadFull>(), "{err}");
    // Rejected at once (no wait allowed).
    let mut at_once = BulkheadLayer::new(1).layer(sleeper());
    let _held = at_once.ready().await.unwrap().call(req(500));
    let fut = at_once.ready().await.unwrap().call(req(5));
    let err = then_polled_after_completion(fut).await.unwrap_err();
    assert!(err.is::<lift_resilience::BulkheadFull>(), "{err}");
    holder.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn circuit_breaker_future_in_every_state() {
    let layer = CircuitBreakerLayer::new(BreakerConfig::default());
    let mut s = layer.layer(sleeper());
    // Admitted.
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
    // Rejected (the fallback's answer).
    layer.handle().transition(&(), BreakerState::ForcedOpen);
    let fut = s.ready().await.unwrap().call(req(5));
    let err = then_polled_after_completion(fut).await.unwrap_err();
    assert!(err.is::<lift_resilience::Open>(), "{err}");
}

#[tokio::test(start_paused = true)]
async fn load_shed_future_in_every_state() {
    // Passthrough (no limit).
    let mut s = LoadShedLayer::random(0.0).layer(sleeper());
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
    // Counted against a limit.
    let mut s = LoadShedLayer::limit(LimitAlgorithm::Fixed(1)).layer(sleeper());
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
    assert_eq!(s.in_flight(), 0, "the completed call left the in-flight count");
    // Shed.
    let mut s = LoadShedLayer::random(1.0).layer(sleeper());
    let fut = s.ready().await.unwrap().call(req(5));
    let err = then_polled_after_completion(fut).await.unwrap_err();
    assert!(err.is::<lift_resilience::Overloaded>(), "{err}");
}

#[derive(Clone)]
struct SlowStore;

impl RateLimitStore<()> for SlowStore {
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Decision, BoxError>> + Send>>;
    fn check(&self, _key: &()) -> Self::Future {
        Box::pin(async {
            tokio::task::yield_now().await;
            Ok(Decision::new(true, 5, 4, Duration::from_secs(1), None))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limit_future_in_every_state() {
    let mut s = RateLimitLayer::new(per_second(1)).layer(sleeper());
    // Admitted at once.
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
    // Denied.
    let fut = s.ready().await.unwrap().call(req(5));
    let err = then_polled_after_completion(fut).await.unwrap_err();
    assert!(err.is::<lift_resilience::RateLimited>(), "{err}");
    // Checked by an asynchronous store, then admitted.
    let mut s = RateLimitLayer::with_store::<Req, _, _>(Global, SlowStore).layer(sleeper());
    let fut = s.ready().await.unwrap().call(req(5));
    assert_eq!(then_polled_after_completion(fut).await.unwrap(), 1);
}
