//! The distributed rate limiter when the table fails: a closed port, answers delayed past the
//! deadline, throttling, a server killed mid-test. In each, fail open and fail closed: the mode
//! is obeyed within the bound, the failure is logged once per window and reported as an event
//! every time, and nothing panics.
//!
//! Elapsed times here are wall-clock (real sockets, real servers): each is asserted below its
//! bound plus a generous slack, never equal to anything.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod faults;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use faults::{closed_port, next_window, FaultProxy, HandClock, OwnServer};
use lift_dynamodb::rate_limit::{DynamoRateLimitStore, Limit, StoreError};
use lift_dynamodb::FleetTable;
use lift_resilience::rate_limit::{FailMode, RateLimitLayer};
use lift_resilience::{BoxError, InvocationDeadline, ResilienceEvent};
use tower::{Layer, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

const SLACK: Duration = Duration::from_millis(700);

/// Counts the store's warnings (target `lift_dynamodb`).
struct CountWarnings(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountWarnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let m = event.metadata();
        if m.target() == "lift_dynamodb" && *m.level() == tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn app() -> tower::util::BoxCloneSyncService<http::Request<()>, http::Response<()>, BoxError> {
    tower::util::BoxCloneSyncService::new(tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, BoxError>(http::Response::new(()))
    }))
}

/// What the failure must look like when the layer fails closed.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Failed,
    TimedOut,
    Throttled,
}

/// Three calls in one window, then one in the next, through a layer in `mode` on a store at
/// `endpoint` bounded by `timeout` (and by a deadline `deadline` away, if any).
async fn obeys_the_fail_mode(
    label: &str,
    endpoint: &str,
    table: &str,
    timeout: Duration,
    deadline: Option<Duration>,
    expect: Expect,
) {
    for mode in [FailMode::Open, FailMode::Closed] {
        let warnings = Arc::new(AtomicUsize::new(0));
        let _log =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(CountWarnings(warnings.clone())));
        let w = next_window(60_000);
        let clock = HandClock::at(w + 1_000);
        let table = FleetTable::new(common::client(endpoint), table);
        let store = DynamoRateLimitStore::builder(&table, "faulty", Limit::fixed(5, Duration::from_secs(60)))
            .clock(clock.reader())
            .timeout(timeout)
            .build();
        let events = Arc::new(AtomicUsize::new(0));
        let counted = events.clone();
        let svc = RateLimitLayer::with_store(|_: &http::Request<()>| -> &'static str { "k" }, store)
            .fail_mode(mode)
            .listener(move |e: &ResilienceEvent<'_>| {
                if let ResilienceEvent::RateLimitStoreFailed { fail_mode, .. } = e {
                    assert_eq!(*fail_mode, mode);
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            })
            .request_deadline()
            .layer(app());
        let bound = deadline.map_or(timeout, |d| d.min(timeout));
        let call = || {
            let mut req = http::Request::new(());
            if let Some(d) = deadline {
                req.extensions_mut().insert(InvocationDeadline::after(d));
            }
            svc.clone().oneshot(req)
        };
        for n in 1..=4 {
            if n == 4 {
                clock.set(w + 61_000);
            }
            let started = std::time::Instant::now();
            let result = call().await;
            let took = started.elapsed();
            assert!(
                took < bound + SLACK,
                "{label} {mode:?}: call {n} took {took:?}, bound {bound:?}"
            );
            match (mode, result) {
                (FailMode::Open, Ok(_)) => {}
                (FailMode::Closed, Err(e)) => {
                    let e = e.downcast_ref::<StoreError>().unwrap_or_else(|| panic!("{label}: {e}"));
                    let ok = matches!(
                        (expect, e),
                        (Expect::Failed, StoreError::Failed(_))
                            | (Expect::TimedOut, StoreError::TimedOut { .. })
                            | (Expect::Throttled, StoreError::Throttled(_))
                    );
                    assert!(ok, "{label}: expected {expect:?}, got {e:?}");
                }
                (mode, r) => panic!("{label}: {mode:?} gave {:?}", r.map(|_| "admitted")),
            }
            if n == 3 {
                assert_eq!(
                    warnings.load(Ordering::SeqCst),
                    1,
                    "{label} {mode:?}: one warning per window"
                );
            }
        }
        assert_eq!(
            warnings.load(Ordering::SeqCst),
            2,
            "{label} {mode:?}: a new window, a new warning"
        );
        assert_eq!(
            events.load(Ordering::SeqCst),
            4,
            "{label} {mode:?}: every failure is an event"
        );
    }
}

#[tokio::test]
async fn a_closed_port_obeys_the_fail_mode_at_once() {
    let endpoint = closed_port().await;
    obeys_the_fail_mode(
        "closed port",
        &endpoint,
        "t",
        Duration::from_millis(500),
        None,
        Expect::Failed,
    )
    .await;
}

#[tokio::test]
async fn answers_delayed_past_the_bound_obey_the_fail_mode_within_it() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let proxy = FaultProxy::delaying(&endpoint, Duration::from_secs(10)).await;
        let label = format!("{server} delayed, store timeout");
        obeys_the_fail_mode(
            &label,
            proxy.endpoint(),
            table.name(),
            Duration::from_millis(300),
            None,
            Expect::TimedOut,
        )
        .await;
        // The invocation's remaining time is shorter than the store's timeout: it wins.
        let label = format!("{server} delayed, invocation deadline");
        let deadline = Some(Duration::from_millis(150));
        obeys_the_fail_mode(
            &label,
            proxy.endpoint(),
            table.name(),
            Duration::from_secs(5),
            deadline,
            Expect::TimedOut,
        )
        .await;
    }
}

#[tokio::test]
async fn a_throttling_table_obeys_the_fail_mode_without_retrying() {
    let proxy = FaultProxy::throttling().await;
    // The SDK's retries are off for the store: a throttling answer is final, well within 2 s.
    obeys_the_fail_mode(
        "throttled",
        proxy.endpoint(),
        "t",
        Duration::from_secs(2),
        None,
        Expect::Throttled,
    )
    .await;
}

#[tokio::test]
async fn a_server_killed_mid_test_obeys_the_fail_mode() {
    for server in ["moto", "dynalite"] {
        let mut own = OwnServer::start(server).await;
        let table = common::fresh_table(&own.endpoint).await;
        let store = DynamoRateLimitStore::builder(&table, "faulty", Limit::fixed(5, Duration::from_secs(60)))
            .timeout(Duration::from_secs(10))
            .build();
        let svc = RateLimitLayer::with_store(|_: &http::Request<()>| -> &'static str { "k" }, store)
            .fail_mode(FailMode::Closed)
            .layer(app());
        svc.clone().oneshot(http::Request::new(())).await.unwrap();
        own.kill().await;
        obeys_the_fail_mode(
            server,
            &own.endpoint,
            table.name(),
            Duration::from_millis(500),
            None,
            Expect::Failed,
        )
        .await;
    }
}
