//! The hooks a fleet store steers: `probe` in half-open, and which transitions are learned from
//! the store (published with `from_store`, so a store does not write them back).

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

use super::{
    BreakerConfig, BreakerState, BreakerStore, CircuitBreakerLayer, Open, Probe, SlidingWindow, Transition, WaitInOpen,
};

/// A store whose answers the test sets, recording what it is told.
#[derive(Clone, Default)]
struct Scripted {
    probe: Arc<Mutex<Option<Probe>>>,
    remote_open: Arc<Mutex<Option<Duration>>>,
    published: Arc<Mutex<Vec<Transition>>>,
}

impl BreakerStore<()> for Scripted {
    fn publish(&self, _key: Option<&()>, transition: &Transition) {
        self.published.lock().unwrap().push(*transition);
    }

    fn remote_open(&self, _key: Option<&()>) -> Option<Duration> {
        *self.remote_open.lock().unwrap()
    }

    fn probe(&self, _key: Option<&()>) -> Probe {
        self.probe.lock().unwrap().unwrap_or(Probe::Admit)
    }

    fn is_shared(&self) -> bool {
        true
    }
}

fn config() -> BreakerConfig {
    BreakerConfig::default()
        .window(SlidingWindow::Count(2))
        .minimum_calls(2)
        .wait_in_open(WaitInOpen::Fixed(Duration::from_secs(1)))
        .permitted_calls_in_half_open(1)
}

/// A service that fails while `failing` is set, counting the calls that reach it.
fn inner(
    calls: Arc<AtomicUsize>,
    failing: Arc<Mutex<bool>>,
) -> impl Service<(), Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(move |()| {
        calls.fetch_add(1, Ordering::SeqCst);
        let fail = *failing.lock().unwrap();
        async move {
            if fail {
                Err::<(), BoxError>("down".into())
            } else {
                Ok(())
            }
        }
    })
}

struct Fixture {
    store: Scripted,
    calls: Arc<AtomicUsize>,
    failing: Arc<Mutex<bool>>,
    layer: CircuitBreakerLayer<crate::Global, (), crate::classify::DefaultClassifier, super::NoFallback, Scripted>,
}

impl Fixture {
    fn new() -> Self {
        let store = Scripted::default();
        Self {
            layer: CircuitBreakerLayer::new(config()).store(store.clone()),
            store,
            calls: Arc::default(),
            failing: Arc::new(Mutex::new(true)),
        }
    }

    async fn call(&self) -> Result<(), BoxError> {
        let mut svc = self.layer.layer(inner(self.calls.clone(), self.failing.clone()));
        svc.ready().await?.call(()).await
    }

    /// Opens locally, then lets the open period pass.
    async fn half_open(&self) {
        let _ = self.call().await;
        let _ = self.call().await;
        assert_eq!(self.layer.handle().state(&()), Some(BreakerState::Open));
        tokio::time::advance(Duration::from_secs(2)).await;
        *self.failing.lock().unwrap() = false;
    }
}

#[tokio::test(start_paused = true)]
async fn a_half_open_breaker_told_to_wait_rejects_without_calling_and_admits_once_elected() {
    let f = Fixture::new();
    f.half_open().await;
    let before = f.calls.load(Ordering::SeqCst);
    *f.store.probe.lock().unwrap() = Some(Probe::Wait);
    for _ in 0..5 {
        let err = f.call().await.unwrap_err();
        assert_eq!(err.downcast_ref::<Open>().unwrap().state(), BreakerState::HalfOpen);
    }
    assert_eq!(
        f.calls.load(Ordering::SeqCst),
        before,
        "a waiting process sent a trial call"
    );
    *f.store.probe.lock().unwrap() = Some(Probe::Admit);
    f.call().await.unwrap();
    assert_eq!(f.calls.load(Ordering::SeqCst), before + 1);
    assert_eq!(f.layer.handle().state(&()), Some(BreakerState::Closed));
    let last = *f.store.published.lock().unwrap().last().unwrap();
    assert_eq!(
        (last.to, last.from_store),
        (BreakerState::Closed, false),
        "the probe's verdict is published"
    );
}

#[tokio::test(start_paused = true)]
async fn the_fleets_verdict_closes_or_reopens_without_a_trial_call_and_is_not_written_back() {
    let f = Fixture::new();
    f.half_open().await;
    let before = f.calls.load(Ordering::SeqCst);
    *f.store.probe.lock().unwrap() = Some(Probe::Open(Duration::from_secs(7)));
    let err = f.call().await.unwrap_err();
    let open = err.downcast_ref::<Open>().unwrap();
    assert_eq!(
        (open.state(), open.retry_after()),
        (BreakerState::Open, Some(Duration::from_secs(7)))
    );
    assert_eq!(f.calls.load(Ordering::SeqCst), before);
    let last = *f.store.published.lock().unwrap().last().unwrap();
    assert_eq!(
        (last.to, last.open_for, last.from_store),
        (BreakerState::Open, Some(Duration::from_secs(7)), true)
    );

    tokio::time::advance(Duration::from_secs(8)).await;
    *f.store.probe.lock().unwrap() = Some(Probe::Closed);
    f.call().await.unwrap();
    assert_eq!(f.layer.handle().state(&()), Some(BreakerState::Closed));
    let last = *f.store.published.lock().unwrap().last().unwrap();
    assert_eq!(
        (last.from, last.to, last.from_store),
        (BreakerState::HalfOpen, BreakerState::Closed, true)
    );
}

#[tokio::test(start_paused = true)]
async fn an_open_learned_from_the_fleet_is_not_written_back_and_a_local_one_is() {
    let f = Fixture::new();
    *f.store.remote_open.lock().unwrap() = Some(Duration::from_secs(3));
    assert!(f.call().await.unwrap_err().is::<Open>());
    assert_eq!(f.calls.load(Ordering::SeqCst), 0);
    let first = f.store.published.lock().unwrap()[0];
    assert_eq!(
        (first.to, first.open_for, first.from_store),
        (BreakerState::Open, Some(Duration::from_secs(3)), true)
    );

    let g = Fixture::new();
    let _ = g.call().await;
    let _ = g.call().await;
    let first = g.store.published.lock().unwrap()[0];
    assert_eq!((first.to, first.from_store), (BreakerState::Open, false));
}

#[tokio::test(start_paused = true)]
async fn a_store_behind_an_arc_dyn_keeps_every_hook() {
    let store = Scripted::default();
    *store.remote_open.lock().unwrap() = Some(Duration::from_secs(3));
    let dynamic: Arc<dyn BreakerStore<()>> = Arc::new(store.clone());
    let mut svc = CircuitBreakerLayer::new(config())
        .store(dynamic)
        .layer(inner(Arc::default(), Arc::default()));
    let err = svc.ready().await.unwrap().call(()).await.unwrap_err();
    assert!(err.is::<Open>(), "remote_open or is_shared was not forwarded: {err}");
    assert!(store.published.lock().unwrap()[0].from_store);
    let local: Arc<dyn BreakerStore<()>> = Arc::new(super::LocalStore);
    assert!(!local.is_shared());
}
