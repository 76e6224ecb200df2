//! Bulkhead: limits, bounded waits, cancellation, and no permit ever lost.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lift_resilience::bulkhead::{BulkheadFull, BulkheadLayer};
use lift_resilience::{rejection, BoxError};
use tower::{service_fn, Layer, Service, ServiceExt};

fn gauge_svc(
    cur: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
) -> impl Service<u64, Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(move |ms: u64| {
        let (cur, max) = (cur.clone(), max.clone());
        async move {
            let n = cur.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(n, Ordering::SeqCst);
            // Leaves the gauge even when the call is cancelled.
            let _g = Gauge(cur);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(())
        }
    })
}

struct Gauge(Arc<AtomicUsize>);

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn never_exceeds_limit_and_returns_every_permit() {
    let (cur, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let layer = BulkheadLayer::new(10).max_wait(Duration::from_secs(30));
    let s = layer.layer(gauge_svc(cur.clone(), max.clone()));
    let mut tasks = Vec::new();
    for i in 0..400u64 {
        let mut s = s.clone();
        tasks.push(tokio::spawn(async move { s.ready().await?.call(i % 3).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert!(
        max.load(Ordering::SeqCst) <= 10,
        "max concurrency {}",
        max.load(Ordering::SeqCst)
    );
    assert_eq!(max.load(Ordering::SeqCst), 10, "the limit was reached");
    assert_eq!(layer.available(&()), Some(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_and_timed_out_waiters_never_leak() {
    let (cur, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let layer = BulkheadLayer::new(5).max_wait(Duration::from_millis(3));
    let s = layer.layer(gauge_svc(cur.clone(), max.clone()));
    let mut tasks = Vec::new();
    for i in 0..500u64 {
        let mut s = s.clone();
        tasks.push(tokio::spawn(async move {
            // Some calls are cancelled while waiting or while running.
            let call = async { s.ready().await?.call(i % 4).await };
            match tokio::time::timeout(Duration::from_millis(i % 5), call).await {
                Ok(r) => r.map(|_| true),
                Err(_) => Ok(false),
            }
        }));
    }
    let (mut ok, mut full, mut cancelled) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(true) => ok += 1,
            Ok(false) => cancelled += 1,
            Err(e) => {
                assert!(e.is::<BulkheadFull>());
                full += 1;
            }
        }
    }
    assert_eq!(ok + full + cancelled, 500);
    assert!(full > 0 && ok > 0, "ok {ok} full {full} cancelled {cancelled}");
    assert!(max.load(Ordering::SeqCst) <= 5);
    assert_eq!(layer.available(&()), Some(5), "every permit returned");
    assert_eq!(cur.load(Ordering::SeqCst), 0, "no work left running");
}

#[tokio::test(start_paused = true)]
async fn bounded_wait_then_rejection_and_cancelled_waiter() {
    let release = Arc::new(tokio::sync::Notify::new());
    let r2 = release.clone();
    let layer = BulkheadLayer::new(1).max_wait(Duration::from_millis(100));
    let mut s = layer.layer(service_fn(move |hold: bool| {
        let r = r2.clone();
        async move {
            if hold {
                r.notified().await;
            }
            Ok::<_, BoxError>(())
        }
    }));
    let holder = tokio::spawn({
        let mut s = s.clone();
        async move { s.ready().await?.call(true).await }
    });
    tokio::task::yield_now().await;
    assert_eq!(layer.available(&()), Some(0));

    let start = tokio::time::Instant::now();
    let err = s.ready().await.unwrap().call(false).await.unwrap_err();
    let full = err.downcast_ref::<BulkheadFull>().expect("BulkheadFull");
    assert_eq!(full.waited(), Duration::from_millis(100));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(rejection(&*err).unwrap().code, "bulkhead_full");

    // A waiter dropped while waiting takes nothing.
    let waiting = s.ready().await.unwrap().call(false);
    let waiting = tokio::spawn(waiting);
    tokio::time::sleep(Duration::from_millis(10)).await;
    waiting.abort();
    let _ = waiting.await;
    release.notify_one();
    holder.await.unwrap().unwrap();
    assert_eq!(layer.available(&()), Some(1));

    // A waiter is admitted as soon as a permit frees up.
    let holder = tokio::spawn({
        let mut s = s.clone();
        async move { s.ready().await?.call(true).await }
    });
    tokio::task::yield_now().await;
    let waiter = tokio::spawn({
        let mut s = s.clone();
        async move { s.ready().await?.call(false).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    release.notify_one();
    holder.await.unwrap().unwrap();
    waiter.await.unwrap().unwrap();
    assert_eq!(layer.available(&()), Some(1));
}

#[tokio::test]
async fn zero_wait_rejects_at_once_and_dropping_running_call_returns_permit() {
    let layer = BulkheadLayer::new(1);
    let mut s = layer.layer(service_fn(|_: ()| async {
        std::future::pending::<()>().await;
        Ok::<_, BoxError>(())
    }));
    let running = s.ready().await.unwrap().call(());
    assert!(s
        .ready()
        .await
        .unwrap()
        .call(())
        .await
        .unwrap_err()
        .is::<BulkheadFull>());
    drop(running);
    assert_eq!(layer.available(&()), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn per_key_partitions_are_bounded_and_isolated() {
    let layer = BulkheadLayer::new(2).key(|r: &u32| *r % 1000).max_keys(16);
    let s = layer.layer(service_fn(|_: u32| async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok::<_, BoxError>(())
    }));
    let mut tasks = Vec::new();
    for i in 0..300u32 {
        let mut s = s.clone();
        tasks.push(tokio::spawn(async move { s.ready().await?.call(i).await }));
    }
    for t in tasks {
        let _ = t.await.unwrap();
        assert!(layer.partitions() <= 16);
    }
    assert_eq!(layer.partitions(), 16);
    // Every partition held is one of the keys called, with both permits back.
    let held: Vec<usize> = (0..300).filter_map(|k| layer.available(&k)).collect();
    assert_eq!(held, vec![2; 16]);
}
