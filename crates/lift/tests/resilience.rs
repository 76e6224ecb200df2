//! Resilience layers on Lift routes and record handlers: rejections become 429 / 503 / 504
//! with their headers, and failed records with their codes.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use axum::routing::get;
use lift::resilience::{bulkhead::BulkheadLayer, rate_limit, record_layer, timeout::TimeoutLayer, ResilienceStack};
use lift::{App, Context, Error, Sqs};
use lift_testing::{events, TestClient};
use serde_json::Value;

fn body(v: &Value) -> Value {
    serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn rate_limited_requests_get_429_with_headers() {
    let stack = ResilienceStack::new().rate_limit(rate_limit::RateLimitLayer::new(rate_limit::per_second(2)));
    let lift = App::new().route("/x", get(|| async { "ok" })).resilience(stack).build();
    let c = TestClient::new(lift);
    let mut statuses = Vec::new();
    let mut last = Value::Null;
    for _ in 0..4 {
        last = c.invoke_json(events::apigw_v2("GET", "/x").build()).await;
        statuses.push(last["statusCode"].as_u64().unwrap());
    }
    assert_eq!(statuses, vec![200, 200, 429, 429]);
    assert_eq!(body(&last)["error"]["code"], "rate_limited");
    let h = &last["headers"];
    assert!(h["retry-after"].as_str().is_some(), "{last}");
    assert_eq!(h["ratelimit-limit"], "2", "{last}");
    assert_eq!(h["ratelimit-remaining"], "0", "{last}");
    assert!(h["x-ratelimit-limit"].as_str().is_some(), "{last}");
}

#[tokio::test]
async fn the_invocation_deadline_bounds_the_route_and_answers_504() {
    let stack =
        ResilienceStack::new().timeout(TimeoutLayer::new(Duration::from_secs(60)).margin(Duration::from_millis(100)));
    let lift = App::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .resilience(stack)
        .build();
    // The invocation has 400 ms left: the deadline (not the configured 60 s) fires.
    let c = TestClient::new(lift).timeout(Duration::from_millis(400));
    let started = std::time::Instant::now();
    let res = c.invoke_json(events::apigw_v2("GET", "/slow").build()).await;
    assert_eq!(res["statusCode"], 504, "{res}");
    assert_eq!(body(&res)["error"]["code"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn record_handlers_behind_layers_fail_records_with_the_rejection_code() {
    async fn slow(_ctx: Context, _m: Sqs<Value>) -> Result<(), Error> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }
    async fn refuse(_ctx: Context, _m: Sqs<Value>) -> Result<(), Error> {
        Err(Error::bad_request("nope", "refused"))
    }
    let lift = App::new()
        .sqs(
            "slow",
            record_layer(
                slow,
                TimeoutLayer::new(Duration::from_millis(10)).margin(Duration::ZERO),
            ),
        )
        .sqs("refuse", record_layer(refuse, BulkheadLayer::new(1)))
        .build();
    let c = TestClient::new(lift);
    let out = c
        .invoke_json(events::sqs("slow").message("{}").message("{}").build())
        .await;
    assert_eq!(out["batchItemFailures"].as_array().unwrap().len(), 2, "{out}");
    let out = c.invoke_json(events::sqs("refuse").message("{}").build()).await;
    assert_eq!(out["batchItemFailures"][0]["itemIdentifier"], "msg-0", "{out}");
}

#[tokio::test]
async fn rejections_are_counted_in_the_invocation_metrics() {
    use lift::observability::{CaptureSink, Observability};
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .service("svc")
        .log_sink(CaptureSink::new())
        .emf_sink(emf.clone())
        .build()
        .unwrap();
    let stack = ResilienceStack::new().rate_limit(
        rate_limit::RateLimitLayer::new(rate_limit::per_second(1)).listener(lift::resilience::MetricsListener),
    );
    let lift = App::new()
        .route("/x", get(|| async { "ok" }))
        .resilience(stack)
        .observability(obs)
        .build();
    let c = TestClient::new(lift);
    let first = c.invoke_json(events::apigw_v2("GET", "/x").build()).await;
    let second = c.invoke_json(events::apigw_v2("GET", "/x").build()).await;
    assert_eq!(
        (first["statusCode"].as_u64(), second["statusCode"].as_u64()),
        (Some(200), Some(429))
    );
    let docs = emf.json_lines().unwrap();
    let limited: Vec<&Value> = docs.iter().filter(|d| d.get("RateLimited").is_some()).collect();
    assert_eq!(limited.len(), 1, "{docs:?}");
    assert_eq!(limited[0]["RateLimited"], 1);
    assert_eq!(limited[0]["status"], 429);
}
