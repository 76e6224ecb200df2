//! The distributed rate limiter against real DynamoDB-compatible servers (moto and dynalite,
//! every test on both): fleet-wide exactness, windows, several limits, hostile keys, the denial
//! cache and the one-write-per-call budget.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod faults;

use std::time::Duration;

use faults::{counted, next_window, HandClock};
use lift_dynamodb::rate_limit::{DynamoRateLimitStore, Limit};
use lift_resilience::rate_limit::{Decision, RateLimitLayer, RateLimitStore};
use lift_resilience::{rejection, BoxError, RateLimited};
use tower::{Layer, ServiceExt};

const SLOW_SERVER: Duration = Duration::from_secs(30);

/// A clock frozen in the middle of the current hour, so a test of an hour-long window never
/// straddles a window boundary.
fn mid_hour() -> impl Fn() -> u64 + Send + Sync + 'static {
    let now = lift_dynamodb::rate_limit::system_millis();
    let at = now - now % 3_600_000 + 1_800_000;
    move || at
}

async fn check<K>(store: &DynamoRateLimitStore, key: &K) -> Decision
where
    K: lift_resilience::PartitionKey + lift_resilience::rate_limit::StoreKey,
{
    match store.try_check(key) {
        Some(d) => d.unwrap(),
        None => store.check(key).await.unwrap(),
    }
}

fn app() -> tower::util::BoxCloneSyncService<http::Request<()>, http::Response<()>, BoxError> {
    tower::util::BoxCloneSyncService::new(tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, BoxError>(http::Response::new(()))
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_stores_sharing_a_table_admit_exactly_the_limit_of_400_concurrent_calls() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let mut apps = Vec::new();
        for _ in 0..4 {
            // Each "environment" has its own SDK client, as separate Lambda processes do.
            let own = lift_dynamodb::FleetTable::new(common::client(&endpoint), table.name());
            let store = DynamoRateLimitStore::builder(&own, "fleet", Limit::fixed(50, Duration::from_secs(3600)))
                .clock(mid_hour())
                .timeout(SLOW_SERVER)
                .build();
            let layer = RateLimitLayer::with_store(|_: &http::Request<()>| -> &'static str { "client-1" }, store)
                .http_headers();
            apps.push(layer.layer(app()));
        }
        // All 400 in flight at once (one task polls them all; the SDK's calls run concurrently).
        let calls = (0..400).map(|i| apps[i % 4].clone().oneshot(http::Request::new(())));
        let results = futures_util::future::join_all(calls).await;
        let (mut admitted, mut limited) = (0, 0);
        let mut a_429 = None;
        for result in results {
            match result {
                Ok(res) => {
                    assert_eq!(res.headers()["ratelimit-limit"], "50", "{server}");
                    admitted += 1;
                }
                Err(e) => {
                    assert!(e.is::<RateLimited>(), "{server}: {e}");
                    a_429 = Some(e);
                    limited += 1;
                }
            }
        }
        assert_eq!((admitted, limited), (50, 350), "{server}");
        let r = rejection(&*a_429.unwrap()).unwrap();
        assert_eq!(r.status, 429, "{server}");
        let headers = r.headers();
        let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&retry_after), "{server}: {retry_after}");
        assert_eq!(headers["ratelimit-remaining"], "0", "{server}");
        assert_eq!(headers["x-ratelimit-limit"], "50", "{server}");
    }
}

#[tokio::test]
async fn sliding_window_across_a_boundary_admits_what_its_formula_says() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let w = next_window(1000);
        let clock = HandClock::at(w + 200);
        let store = DynamoRateLimitStore::builder(&table, "sliding", Limit::sliding(10, Duration::from_secs(1)))
            .clock(clock.reader())
            .timeout(SLOW_SERVER)
            .build();
        let key = "k".to_string();
        // First window (the one before it is empty): 8 calls, all admitted, 10 − n left.
        for n in 1..=8u32 {
            let d = check(&store, &key).await;
            assert!(d.allowed, "{server}: call {n}");
            assert_eq!(d.remaining, 10 - n, "{server}");
            assert_eq!(d.reset, Duration::from_millis(800), "{server}");
        }
        // 250 ms into the next window: 8 × 750/1000 = 6 weighted, so 10 − 6 = 4 more.
        clock.set(w + 1250);
        for n in 1..=4u32 {
            let d = check(&store, &key).await;
            assert!(d.allowed, "{server}: call {n} of the second window");
            assert_eq!(d.remaining, 4 - n, "{server}");
        }
        let denied = check(&store, &key).await;
        assert!(!denied.allowed, "{server}");
        // Admitted again once ⌈8 × rest/1000⌉ ≤ 5: rest ≤ 625 ms, i.e. 125 ms from now.
        assert_eq!(denied.retry_after, Some(Duration::from_millis(125)), "{server}");
        assert_eq!(denied.reset, Duration::from_millis(750), "{server}");
        clock.set(w + 1375);
        assert!(
            check(&store, &key).await.allowed,
            "{server}: 8 × 0.625 = 5 weighted, 5 + 5 < 10"
        );
        assert!(!check(&store, &key).await.allowed, "{server}: 5 + 5 + 1 > 10");
    }
}

#[tokio::test]
async fn two_limits_on_one_key_behave_as_both() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let w = next_window(3_600_000) + 10_000;
        let clock = HandClock::at(w);
        let store = DynamoRateLimitStore::builder(&table, "two", Limit::fixed(3, Duration::from_secs(1)))
            .limit(Limit::fixed(5, Duration::from_secs(3600)))
            .clock(clock.reader())
            .timeout(SLOW_SERVER)
            .build();
        let key = 42u64;
        let remaining: Vec<u32> = [
            check(&store, &key).await,
            check(&store, &key).await,
            check(&store, &key).await,
        ]
        .iter()
        .map(|d| {
            assert!(d.allowed, "{server}");
            d.remaining
        })
        .collect();
        // The tighter of the two: 3 per second.
        assert_eq!(remaining, [2, 1, 0], "{server}");
        let d = check(&store, &key).await;
        assert_eq!((d.allowed, d.limit), (false, 3), "{server}: 3 per second");
        assert_eq!(d.retry_after, Some(Duration::from_secs(1)), "{server}");
        // Next second: the hour has 2 left.
        clock.set(w + 1000);
        let d = check(&store, &key).await;
        assert_eq!((d.allowed, d.remaining), (true, 1), "{server}: the hour's 4th");
        assert!(check(&store, &key).await.allowed, "{server}: the hour's 5th");
        let d = check(&store, &key).await;
        assert_eq!((d.allowed, d.limit), (false, 5), "{server}: 5 per hour");
        assert_eq!(
            d.retry_after,
            Some(Duration::from_millis(3_600_000 - 11_000)),
            "{server}"
        );
        // Still denied by the hour in later seconds.
        clock.set(w + 5000);
        assert!(!check(&store, &key).await.allowed, "{server}");
    }
}

#[tokio::test]
async fn hostile_keys_neither_collide_nor_fail() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let store = DynamoRateLimitStore::builder(&table, "hostile#name", Limit::fixed(1, Duration::from_secs(3600)))
            .clock(mid_hour())
            .timeout(SLOW_SERVER)
            .build();
        let long_a = "x".repeat(2048);
        let long_b = format!("{}y", "x".repeat(2047));
        let keys: Vec<String> = vec![
            "".into(),
            "#".into(),
            "a#b".into(),
            "a#c".into(),
            "a".into(),
            "a#".into(),
            "rl#hostile#name#".into(),
            "é".into(),
            "e\u{301}".into(),
            "🦀#🦀".into(),
            "\u{0}".into(),
            long_a,
            long_b,
        ];
        // One call per key per hour: if two keys shared an item, the second would be denied.
        for k in &keys {
            let d = check(&store, k).await;
            assert!(d.allowed, "{server}: first call for {k:?} was denied: it collided");
        }
        for k in &keys {
            assert!(!check(&store, k).await.allowed, "{server}: second call for {k:?}");
        }
        // Tuples whose parts concatenate alike are different keys too.
        let tuples = DynamoRateLimitStore::builder(&table, "tuples", Limit::fixed(1, Duration::from_secs(3600)))
            .clock(mid_hour())
            .timeout(SLOW_SERVER)
            .build();
        for k in [("a#", "b"), ("a", "#b"), ("", "a#b")] {
            assert!(check(&tuples, &k).await.allowed, "{server}: {k:?} collided");
        }
        let id = store.item_id(&keys[11], &Limit::fixed(1, Duration::from_secs(3600)), 0);
        assert!(id.len() < 128, "{server}: {id}");
    }
}

#[tokio::test]
async fn after_exhaustion_further_denials_cost_no_round_trip_until_the_window_ends() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let (table, trips) = counted(&endpoint, &table);
        let w = next_window(10_000);
        let clock = HandClock::at(w + 1_000);
        let store = DynamoRateLimitStore::builder(&table, "flood", Limit::fixed(2, Duration::from_secs(10)))
            .clock(clock.reader())
            .timeout(SLOW_SERVER)
            .build();
        let svc = RateLimitLayer::with_store(|_: &http::Request<()>| -> &'static str { "flooder" }, store).layer(app());
        for _ in 0..2 {
            svc.clone().oneshot(http::Request::new(())).await.unwrap();
        }
        let err = svc.clone().oneshot(http::Request::new(())).await.unwrap_err();
        assert!(err.is::<RateLimited>(), "{server}");
        assert_eq!(trips.total(), 3, "{server}: two admitted, one denial learned");
        for _ in 0..100 {
            let err = svc.clone().oneshot(http::Request::new(())).await.unwrap_err();
            let d = *err.downcast_ref::<RateLimited>().unwrap().decision();
            assert_eq!(d.retry_after, Some(Duration::from_secs(9)), "{server}");
        }
        clock.set(w + 9_999);
        assert!(svc.clone().oneshot(http::Request::new(())).await.is_err(), "{server}");
        assert_eq!(trips.total(), 3, "{server}: 101 denials, no round trip");
        // The window ends: the next call asks the table again, and is admitted.
        clock.set(w + 10_000);
        svc.clone().oneshot(http::Request::new(())).await.unwrap();
        assert_eq!(trips.of("UpdateItem"), 4, "{server}");
    }
}

#[tokio::test]
async fn exactly_one_update_item_is_sent_per_admitted_call() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let (table, trips) = counted(&endpoint, &table);
        let fixed = DynamoRateLimitStore::builder(&table, "fixed", Limit::fixed(100, Duration::from_secs(3600)))
            .timeout(SLOW_SERVER)
            .build();
        for n in 1..=5 {
            assert!(check(&fixed, &"k").await.allowed);
            assert_eq!((trips.of("UpdateItem"), trips.total()), (n, n), "{server}");
        }
        // A sliding window adds one read of the previous window, once per window.
        let w = next_window(3_600_000);
        let sliding = DynamoRateLimitStore::builder(&table, "sliding", Limit::sliding(100, Duration::from_secs(3600)))
            .clock(move || w + 1)
            .timeout(SLOW_SERVER)
            .build();
        for _ in 0..5 {
            assert!(check(&sliding, &"k").await.allowed);
        }
        assert_eq!((trips.of("UpdateItem"), trips.of("GetItem")), (10, 1), "{server}");
        assert_eq!(trips.total(), 11, "{server}");
    }
}
