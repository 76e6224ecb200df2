//! Timeout: precedence of configured vs deadline, cancellation, and the tightened deadline.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lift_resilience::timeout::{Elapsed, TimeoutLayer, TimeoutLimit};
use lift_resilience::{rejection, BoxError, Deadline, InvocationDeadline, WithDeadline};
use tokio::time::Instant;
use tower::{service_fn, Layer, Service, ServiceExt};

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn sleeper(
    dropped: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
) -> impl Service<WithDeadline<u64>, Response = (), Error = BoxError> + Clone {
    service_fn(move |r: WithDeadline<u64>| {
        let guard = SetOnDrop(dropped.clone());
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            let _g = guard;
            tokio::time::sleep(Duration::from_millis(r.request)).await;
            Ok(())
        }
    })
}

fn elapsed(e: BoxError) -> Elapsed {
    *e.downcast::<Elapsed>().expect("Elapsed")
}

#[tokio::test(start_paused = true)]
async fn configured_fires_when_tighter() {
    let (d, c) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let mut s = TimeoutLayer::new(Duration::from_secs(1)).layer(sleeper(d.clone(), c.clone()));
    let start = Instant::now();
    let req = WithDeadline::new(5_000, Some(start + Duration::from_secs(10)));
    let e = elapsed(s.ready().await.unwrap().call(req).await.unwrap_err());
    assert_eq!(e.limit(), TimeoutLimit::Configured);
    assert_eq!(e.after(), Duration::from_secs(1));
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert!(d.load(Ordering::SeqCst), "inner future dropped");
}

#[tokio::test(start_paused = true)]
async fn deadline_minus_margin_fires_when_tighter() {
    let (d, c) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let mut s = TimeoutLayer::new(Duration::from_secs(10))
        .margin(Duration::from_millis(200))
        .layer(sleeper(d.clone(), c.clone()));
    let start = Instant::now();
    let req = WithDeadline::new(5_000, Some(start + Duration::from_secs(1)));
    let err = s.ready().await.unwrap().call(req).await.unwrap_err();
    let r = rejection(&*err).unwrap();
    assert_eq!(
        (r.status, r.code),
        (http::StatusCode::GATEWAY_TIMEOUT, lift_resilience::code::TIMEOUT)
    );
    let e = elapsed(err);
    assert_eq!(e.limit(), TimeoutLimit::Deadline);
    assert_eq!(start.elapsed(), Duration::from_millis(800));
    // Equal limits: configured wins the tie.
    let mut s = TimeoutLayer::new(Duration::from_millis(800)).layer(sleeper(d.clone(), c.clone()));
    let req = WithDeadline::new(5_000, Some(Instant::now() + Duration::from_secs(1)));
    assert_eq!(
        elapsed(s.ready().await.unwrap().call(req).await.unwrap_err()).limit(),
        TimeoutLimit::Configured
    );
}

#[tokio::test(start_paused = true)]
async fn no_time_left_never_starts_the_work() {
    let (d, c) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let mut s = TimeoutLayer::new(Duration::from_secs(10)).layer(sleeper(d.clone(), c.clone()));
    let req = WithDeadline::new(1, Some(Instant::now() + Duration::from_millis(150)));
    let e = elapsed(s.ready().await.unwrap().call(req).await.unwrap_err());
    assert_eq!((e.limit(), e.after()), (TimeoutLimit::Deadline, Duration::ZERO));
    assert_eq!(c.load(Ordering::SeqCst), 0, "inner service never called");
}

#[tokio::test(start_paused = true)]
async fn inner_future_is_dropped_before_the_error_is_returned() {
    let (d, c) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let mut s = TimeoutLayer::new(Duration::from_millis(10)).layer(sleeper(d.clone(), c.clone()));
    let fut = s.ready().await.unwrap().call(WithDeadline::new(1_000, None));
    tokio::pin!(fut);
    let r = (&mut fut).await;
    assert!(r.is_err());
    // The outer future is still alive here; the inner one is already gone.
    assert!(d.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn success_passes_and_http_deadline_is_tightened_for_inner_layers() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s2 = seen.clone();
    let mut s = TimeoutLayer::new(Duration::from_secs(2)).layer(service_fn(move |r: http::Request<()>| {
        *s2.lock().unwrap() = r.deadline();
        async { Ok::<_, BoxError>(()) }
    }));
    let start = Instant::now();
    let mut req = http::Request::new(());
    req.extensions_mut()
        .insert(InvocationDeadline(start + Duration::from_secs(60)));
    s.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(start + Duration::from_secs(2)));
    // Without deadline and without configured limit: plain pass-through.
    let mut s = TimeoutLayer::deadline_only().layer(service_fn(|_: ()| async { Ok::<_, BoxError>(7) }));
    assert_eq!(s.ready().await.unwrap().call(()).await.unwrap(), 7);
}
