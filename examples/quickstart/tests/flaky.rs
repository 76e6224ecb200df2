//! `GET /flaky?fail=N`: the quick start's circuit breaker opens and recovers (paused clock),
//! and an open circuit on one route leaves the others serving.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use lift_testing::{events, TestClient};
use serde_json::Value;

async fn get(client: &TestClient, path: &str, query: &[(&str, &str)]) -> Value {
    let mut ev = events::apigw_v2("GET", path);
    for (k, v) in query {
        ev = ev.query(k, v);
    }
    client.invoke_json(ev.build()).await
}

fn code(res: &Value) -> String {
    let body: Value = serde_json::from_str(res["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    body["error"]["code"].as_str().unwrap_or("").to_owned()
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_after_failures_and_recovers() {
    let client = TestClient::new(quickstart::app().build());
    for i in 0..10 {
        let res = get(&client, "/flaky", &[("fail", "10")]).await;
        assert_eq!(res["statusCode"], 500, "call {i}: {res}");
        assert_eq!(code(&res), "internal_error");
    }
    // 10 of the last 10 calls failed: the route's circuit is open.
    let res = get(&client, "/flaky", &[]).await;
    assert_eq!(res["statusCode"], 503, "{res}");
    assert_eq!(code(&res), "circuit_open");
    assert_eq!(res["headers"]["retry-after"], "5", "{res}");
    // Other routes are unaffected.
    assert_eq!(get(&client, "/health", &[]).await["statusCode"], 200);

    tokio::time::advance(Duration::from_secs(5)).await;
    // Half-open: the trial calls reach the handler; the counter is spent, so they succeed.
    for _ in 0..3 {
        assert_eq!(get(&client, "/flaky", &[]).await["statusCode"], 200);
    }
    assert_eq!(get(&client, "/flaky", &[]).await["statusCode"], 200, "closed again");
}

#[tokio::test]
async fn admitted_responses_carry_rate_limit_headers() {
    let client = TestClient::new(quickstart::app().build());
    let res = get(&client, "/health", &[]).await;
    assert_eq!(res["statusCode"], 200);
    assert_eq!(res["headers"]["ratelimit-limit"], "1000", "{res}");
    assert!(res["headers"]["ratelimit-remaining"].as_str().is_some(), "{res}");
    assert!(res["headers"]["x-request-id"].as_str().is_some(), "{res}");
}
