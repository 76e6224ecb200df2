//! A layer and its clones share one state; no builder method silently forks or resets it.
//! Methods that change what the state is built from panic once services exist; the others
//! keep the state.

#![allow(clippy::unwrap_used)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lift_resilience::circuit_breaker::{BreakerConfig, BreakerState, BreakerStore};
use lift_resilience::load_shed::{HeaderPriority, LimitAlgorithm};
use lift_resilience::rate_limit::{per_second, FailMode};
use lift_resilience::{
    BoxError, BulkheadFull, BulkheadLayer, CircuitBreakerLayer, LoadShedLayer, Open, Overloaded, RateLimitLayer,
    RateLimited, ResilienceEvent,
};
use tower::{service_fn, Layer, Service, ServiceExt};

/// Never finishes: holds whatever the layer gave the call.
fn hang<R: Send + 'static>() -> impl Service<R, Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(|_: R| std::future::pending::<Result<(), BoxError>>())
}

fn ok<R: Send + 'static>() -> impl Service<R, Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(|_: R| async { Ok::<_, BoxError>(()) })
}

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the builder method must panic");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

fn counting() -> (Arc<AtomicUsize>, impl Fn(&ResilienceEvent<'_>) + Send + Sync + 'static) {
    let n = Arc::new(AtomicUsize::new(0));
    let m = n.clone();
    (n, move |_: &ResilienceEvent<'_>| {
        m.fetch_add(1, Ordering::SeqCst);
    })
}

#[tokio::test]
async fn bulkhead_clones_share_permits_and_late_builders_panic_without_forking() {
    let (events, listener) = counting();
    let layer = BulkheadLayer::new(1).name("db").listener(listener).max_keys(8);
    let mut first = layer.layer(hang::<()>());
    let mut second = layer.clone().layer(ok::<()>());
    let _held = first.ready().await.unwrap().call(());
    let err = second.ready().await.unwrap().call(()).await.unwrap_err();
    assert!(err.is::<BulkheadFull>(), "a clone's service has its own permits: {err}");
    assert_eq!(
        events.load(Ordering::SeqCst),
        1,
        "the listener set before `layer()` is used"
    );

    for (method, call) in [
        (
            "listener",
            Box::new(|l: BulkheadLayer| drop(l.listener(|_: &ResilienceEvent<'_>| {}))) as Box<dyn FnOnce(_)>,
        ),
        ("name", Box::new(|l: BulkheadLayer| drop(l.name("other")))),
        (
            "max_wait",
            Box::new(|l: BulkheadLayer| drop(l.max_wait(Duration::from_secs(1)))),
        ),
        ("key", Box::new(|l: BulkheadLayer| drop(l.key(|_: &u8| 0u8)))),
    ] {
        let l = layer.clone();
        let msg = panic_message(move || call(l));
        assert!(msg.contains(&format!("`{method}`")), "{method}: {msg}");
    }
    // The state is the one the services use: still one permit, still held.
    assert_eq!(layer.available(&()), Some(0));
    let mut third = layer.layer(ok::<()>());
    assert!(third.ready().await.unwrap().call(()).await.is_err());
}

#[tokio::test]
async fn bulkhead_settings_changed_before_any_service_get_their_own_state() {
    let base = BulkheadLayer::new(1);
    let renamed = base.clone().name("other");
    let _held = base.layer(hang::<()>()).ready().await.unwrap().call(());
    // `renamed` has other settings: it is another bulkhead, not a fork of `base`'s permits.
    renamed.layer(ok::<()>()).ready().await.unwrap().call(()).await.unwrap();
}

/// A fleet store that has every partition open.
#[derive(Clone)]
struct FleetOpen;

impl<K> BreakerStore<K> for FleetOpen {
    fn remote_open(&self, _key: Option<&K>) -> Option<Duration> {
        Some(Duration::from_secs(30))
    }

    fn is_shared(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn circuit_breaker_keeps_its_store_whatever_the_builder_order() {
    fn key(r: &u8) -> u8 {
        *r
    }
    let key = key as fn(&u8) -> u8;
    let store_then_key = CircuitBreakerLayer::new(BreakerConfig::default())
        .store(FleetOpen)
        .key(key);
    let key_then_store = CircuitBreakerLayer::new(BreakerConfig::default())
        .key(key)
        .store(FleetOpen);
    for layer in [store_then_key.name("a"), key_then_store.name("b")] {
        let err = layer
            .layer(ok::<u8>())
            .ready()
            .await
            .unwrap()
            .call(1)
            .await
            .unwrap_err();
        assert!(err.is::<Open>(), "the fleet store was dropped: {err}");
    }
}

#[tokio::test]
async fn circuit_breaker_clones_share_windows_and_late_builders_panic_without_resetting() {
    let layer = CircuitBreakerLayer::new(BreakerConfig::default());
    let mut svc = layer.clone().layer(ok::<()>());
    layer.clone().handle().transition(&(), BreakerState::ForcedOpen);
    assert!(svc.ready().await.unwrap().call(()).await.unwrap_err().is::<Open>());

    let msg = panic_message(|| drop(layer.clone().listener(|_: &ResilienceEvent<'_>| {})));
    assert!(msg.contains("`listener`"), "{msg}");
    let msg = panic_message(|| drop(layer.clone().store(FleetOpen)));
    assert!(msg.contains("`store`"), "{msg}");
    let msg = panic_message(|| drop(layer.clone().key(|_: &u8| 0u8)));
    assert!(msg.contains("`key`"), "{msg}");

    // Classifier and fallback run in the services: changing them keeps the shared state.
    let mut reclassified = layer
        .clone()
        .classifier(lift_resilience::DefaultClassifier)
        .layer(ok::<()>());
    assert!(reclassified
        .ready()
        .await
        .unwrap()
        .call(())
        .await
        .unwrap_err()
        .is::<Open>());
    assert_eq!(layer.handle().state(&()), Some(BreakerState::ForcedOpen));
}

#[tokio::test]
async fn load_shed_clones_share_the_in_flight_count_and_priority_keeps_it() {
    let layer = LoadShedLayer::limit(LimitAlgorithm::Fixed(1));
    let mut first = layer.layer(hang::<http::Request<()>>());
    let _held = first.ready().await.unwrap().call(http::Request::new(()));
    // A priority source read per call: same in-flight count, with `Critical` up to 100 %.
    let mut prioritised = layer.clone().priority(HeaderPriority::default()).layer(ok());
    let critical = http::Request::builder()
        .header("x-priority", "critical")
        .body(())
        .unwrap();
    let err = prioritised.ready().await.unwrap().call(critical).await.unwrap_err();
    assert!(err.is::<Overloaded>(), "the clone counted on its own: {err}");
    assert_eq!(first.in_flight(), 1);

    let msg = panic_message(|| drop(layer.clone().name("x")));
    assert!(msg.contains("`name`"), "{msg}");
    let msg = panic_message(|| drop(layer.clone().with_random(0.5)));
    assert!(msg.contains("`with_random`"), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn rate_limit_builders_after_services_keep_the_store() {
    let (events, listener) = counting();
    let layer = RateLimitLayer::new(per_second(1));
    let http_ok = service_fn(|_: http::Request<()>| async { Ok::<_, BoxError>(http::Response::new(())) });
    let mut first = layer.layer(http_ok);
    first.ready().await.unwrap().call(http::Request::new(())).await.unwrap();
    // Every builder method, after a service exists: the quota already used stays used.
    let later = layer
        .clone()
        .name("later")
        .listener(listener)
        .fail_mode(FailMode::Closed)
        .http_headers();
    assert!(Arc::ptr_eq(later.store(), layer.store()));
    let err = later
        .layer(http_ok)
        .ready()
        .await
        .unwrap()
        .call(http::Request::new(()))
        .await
        .unwrap_err();
    assert!(err.is::<RateLimited>(), "{err}");
    assert_eq!(events.load(Ordering::SeqCst), 1);
}
