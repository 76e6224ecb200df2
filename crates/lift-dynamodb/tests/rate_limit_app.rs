//! The distributed rate limiter wired into a Lift `App` as the quick start wires it (a quota
//! per `x-api-key`, fail open, the invocation's deadline): 429 with its headers from the table's
//! count, and a store failure counted as `RateLimitStoreErrors` in the invocation's EMF.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod faults;

use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use lift::observability::{CaptureSink, Observability};
use lift::resilience::{rate_limit, MetricsListener, ResilienceStack};
use lift::{App, Lift};
use lift_dynamodb::rate_limit::{DynamoRateLimitStore, Limit};
use lift_dynamodb::FleetTable;
use lift_testing::{events, TestClient};
use serde_json::Value;

fn api_key(req: &http::Request<Body>) -> Option<String> {
    req.headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Waits until at least 10 s are left in the current wall-clock minute, so the per-minute
/// window this test counts in is not crossed mid-test.
async fn clear_of_minute_boundary() {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 60_000)
        .unwrap_or(0) as u64;
    if ms > 50_000 {
        tokio::time::sleep(std::time::Duration::from_millis(60_000 - ms + 100)).await;
    }
}

fn quota_app(table: &FleetTable, per_minute: u32, timeout: Duration, emf: CaptureSink) -> Lift {
    let store = DynamoRateLimitStore::builder(table, "quota", Limit::per_minute(per_minute))
        .timeout(timeout)
        .build();
    let layer = rate_limit::RateLimitLayer::with_store(api_key, store)
        .fail_mode(rate_limit::FailMode::Open)
        .http_headers()
        .request_deadline()
        .listener(MetricsListener);
    let obs = Observability::builder()
        .service("quota")
        .log_sink(CaptureSink::new())
        .emf_sink(emf)
        .build()
        .unwrap();
    App::new()
        .route("/quota", get(|| async { "ok" }))
        .resilience(ResilienceStack::new().rate_limit(layer))
        .observability(obs)
        .build()
}

#[tokio::test]
async fn the_table_s_quota_answers_429_with_retry_after_and_rate_limit_headers() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        clear_of_minute_boundary().await;
        let c = TestClient::new(quota_app(&table, 2, Duration::from_secs(30), CaptureSink::new()));
        let call = |key: &str| c.invoke_json(events::apigw_v2("GET", "/quota").header("x-api-key", key).build());
        let first = call("alice").await;
        assert_eq!(first["statusCode"], 200, "{server}: {first}");
        assert_eq!(first["headers"]["ratelimit-remaining"], "1", "{server}: {first}");
        assert_eq!(call("alice").await["statusCode"], 200, "{server}");
        let third = call("alice").await;
        assert_eq!(third["statusCode"], 429, "{server}: {third}");
        let retry_after: u64 = third["headers"]["retry-after"].as_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{server}: {third}");
        assert_eq!(third["headers"]["ratelimit-limit"], "2", "{server}: {third}");
        // Another client has its own quota.
        assert_eq!(call("bob").await["statusCode"], 200, "{server}");
    }
}

#[tokio::test]
async fn an_unreachable_table_fails_open_and_is_counted_in_the_invocation_metrics() {
    let endpoint = faults::closed_port().await;
    let table = FleetTable::new(common::client(&endpoint), "absent");
    let emf = CaptureSink::new();
    clear_of_minute_boundary().await;
    let c = TestClient::new(quota_app(&table, 2, Duration::from_secs(1), emf.clone()));
    let out = c
        .invoke_json(events::apigw_v2("GET", "/quota").header("x-api-key", "k").build())
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
    let docs = emf.json_lines().unwrap();
    let counted: Vec<&Value> = docs
        .iter()
        .filter(|d| d.get("RateLimitStoreErrors").is_some())
        .collect();
    assert_eq!(counted.len(), 1, "{docs:?}");
    assert_eq!(counted[0]["RateLimitStoreErrors"], 1);
}
