//! The wiring the quick start uses, end to end: four Lift apps (four "processes", each its own
//! SDK client and store) whose per-route breaker shares its state through one table. A route
//! opened by failures in one app answers 503 `circuit_open` in the other three within 2 s, on
//! moto and on dynalite.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use lift::resilience::{
    code, default_stack, http_breaker_config, route_key, CircuitBreakerLayer, HttpClassifier, RouteKey, RouteKeyFn,
};
use lift::App;
use lift_dynamodb::{FleetBreakerStore, FleetTable};
use lift_testing::{events, TestClient};
use serde_json::Value;
use tokio::time::{sleep, Instant};

/// A quick-start-like app whose `/flaky` answers `status`; its route breaker shares state
/// through `table`.
fn app(table: FleetTable, status: StatusCode) -> TestClient {
    let breaker = CircuitBreakerLayer::new(http_breaker_config())
        .key(route_key as RouteKeyFn)
        .classifier(HttpClassifier)
        .store(FleetBreakerStore::<Option<RouteKey>>::new(table, "routes"));
    let lift = App::new()
        .route("/flaky", get(move || async move { (status, "flaky") }))
        .resilience(default_stack().circuit_breaker(breaker))
        .build();
    TestClient::new(lift)
}

async fn get_flaky(app: &TestClient) -> Value {
    app.invoke_json(events::apigw_v2("GET", "/flaky").build()).await
}

fn error_code(res: &Value) -> Value {
    let body: Value = serde_json::from_str(res["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    body["error"]["code"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_opened_in_one_lift_app_answers_503_circuit_open_in_the_others_within_2_s() {
    for (server, endpoint) in common::servers() {
        let name = common::fresh_table(&endpoint).await.name().to_owned();
        let table = || FleetTable::new(common::client(&endpoint), &name);
        let failing = app(table(), StatusCode::INTERNAL_SERVER_ERROR);
        let others = [
            app(table(), StatusCode::OK),
            app(table(), StatusCode::OK),
            app(table(), StatusCode::OK),
        ];
        for o in &others {
            assert_eq!(get_flaky(o).await["statusCode"], 200, "{server}");
        }
        // `http_breaker_config`: judged from 10 calls, opens at 50 % failures.
        let mut last = Value::Null;
        for _ in 0..10 {
            last = get_flaky(&failing).await;
        }
        let res = get_flaky(&failing).await;
        assert_eq!(
            (res["statusCode"].clone(), error_code(&res)),
            (503.into(), code::CIRCUIT_OPEN.into()),
            "{server}: {last} then {res}"
        );

        let opened = Instant::now();
        for (i, o) in others.iter().enumerate() {
            loop {
                let res = get_flaky(o).await;
                if res["statusCode"] == 503 {
                    assert_eq!(error_code(&res), code::CIRCUIT_OPEN, "{server}: app {i}: {res}");
                    assert!(res["headers"]["retry-after"].is_string(), "{server}: app {i}: {res}");
                    break;
                }
                assert_eq!(res["statusCode"], 200, "{server}: app {i}: {res}");
                assert!(
                    opened.elapsed() < Duration::from_secs(2),
                    "{server}: app {i} still serves /flaky 2 s after it opened elsewhere"
                );
                sleep(Duration::from_millis(20)).await;
            }
        }
    }
}
