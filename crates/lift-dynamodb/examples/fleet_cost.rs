//! What fleet state costs this process, against a local DynamoDB-compatible server:
//! CPU time (not wall time: the server is local and its own CPU is not ours) and round trips
//! per admitted and per denied rate-limit check, and the breaker's writes and reads in steady
//! state.
//!
//! ```sh
//! source scripts/dynamodb-servers.sh
//! cargo run --release -p lift-dynamodb --example fleet_cost            # moto
//! cargo run --release -p lift-dynamodb --example fleet_cost -- "$LIFT_TEST_DYNALITE_ENDPOINT"
//! stop_dynamodb_servers
//! ```

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use lift_dynamodb::rate_limit::{DynamoRateLimitStore, Limit};
use lift_dynamodb::{FleetBreakerStore, FleetTable, RequestCounter};
use lift_resilience::circuit_breaker::{BreakerConfig, CircuitBreakerLayer};
use lift_resilience::rate_limit::RateLimitStore;
use tower::{Layer, Service, ServiceExt};

/// This process's CPU time (user + system), from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are the 14th and 15th fields of the line: 12th and 13th after ')'.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let endpoint = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("LIFT_TEST_MOTO_ENDPOINT").ok())
        .expect("an endpoint argument, or LIFT_TEST_MOTO_ENDPOINT (source scripts/dynamodb-servers.sh)");
    let count = RequestCounter::new();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "fleet-cost"))
        .interceptor(count.clone())
        .build();
    let table = FleetTable::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        format!("fleet-cost-{}", fastrand::u64(..)),
    );
    table.create_if_missing(Duration::from_secs(10)).await.unwrap();

    // Rate limit: N admitted calls, then M denied ones, one key, an hour-long window.
    const ADMITTED: u32 = 2_000;
    const DENIED: usize = 20_000;
    let store =
        DynamoRateLimitStore::builder(&table, "cost", Limit::fixed(ADMITTED, Duration::from_secs(3600))).build();
    let key = "client-1".to_owned();
    let (cpu0, wall0, trips0) = (cpu_time(), Instant::now(), count.total());
    for _ in 0..ADMITTED {
        let d = store.check(&key).await.unwrap();
        assert!(d.allowed);
    }
    let (cpu1, wall1, trips1) = (cpu_time(), Instant::now(), count.total());
    for _ in 0..DENIED {
        let d = store.check(&key).await.unwrap();
        assert!(!d.allowed);
    }
    let (cpu2, wall2, trips2) = (cpu_time(), Instant::now(), count.total());
    let per = |d: Duration, n: usize| d.as_secs_f64() * 1e6 / n as f64;
    println!("server: {endpoint}");
    println!(
        "rate limit, admitted: {:.1} µs CPU per call ({:.0} µs wall), {:.2} round trips per call",
        per(cpu1 - cpu0, ADMITTED as usize),
        per(wall1 - wall0, ADMITTED as usize),
        (trips1 - trips0) as f64 / f64::from(ADMITTED)
    );
    println!(
        "rate limit, denied:   {:.2} µs CPU per call ({:.2} µs wall), {:.2} round trips per call (denial cache)",
        per(cpu2 - cpu1, DENIED),
        per(wall2 - wall1, DENIED),
        (trips2 - trips1) as f64 / DENIED as f64,
    );

    // Breaker: a closed breaker under load for 3 s.
    let store: FleetBreakerStore<()> = FleetBreakerStore::new(table.clone(), "cost");
    let layer = CircuitBreakerLayer::new(BreakerConfig::default()).store(store);
    let mut svc = layer.layer(tower::service_fn(|_: ()| async { Ok::<_, std::io::Error>(()) }));
    let (updates0, gets0) = (count.writes(), count.reads());
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        svc.ready().await.unwrap().call(()).await.unwrap();
        calls += 1;
        if calls.is_multiple_of(1000) {
            tokio::task::yield_now().await;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "breaker, closed, {calls} calls in {secs:.1} s: {} writes, {:.2} reads per second",
        count.writes() - updates0,
        (count.reads() - gets0) as f64 / secs
    );
}
