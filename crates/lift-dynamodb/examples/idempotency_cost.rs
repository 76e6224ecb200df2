//! What fleet-wide idempotency costs this process, against a local DynamoDB-compatible
//! server: CPU time (not wall time: the server is local and its CPU is not ours) and round
//! trips per `POST /orders` call through Lift's `IdempotencyLayer` — first calls (claim and
//! complete), repeats answered by the table (another environment), and repeats answered by the
//! local cache — next to the same route without the layer.
//!
//! ```sh
//! source scripts/dynamodb-servers.sh
//! cargo run --release -p lift-dynamodb --example idempotency_cost            # moto
//! cargo run --release -p lift-dynamodb --example idempotency_cost -- "$LIFT_TEST_DYNALITE_ENDPOINT"
//! stop_dynamodb_servers
//! ```

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::http::StatusCode;
use axum::routing::post;
use lift::idempotency::{Idempotency, IdempotencyLayer};
use lift::{App, Json, Lift};
use lift_dynamodb::idempotency::DynamoIdempotencyStore;
use lift_dynamodb::{FleetTable, RequestCounter};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

/// This process's CPU time (user + system), from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn environment(endpoint: &str, table: &str) -> (FleetTable, RequestCounter) {
    let count = RequestCounter::new();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "idempotency-cost"))
        .interceptor(count.clone())
        .build();
    (
        FleetTable::new(aws_sdk_dynamodb::Client::from_conf(config), table),
        count,
    )
}

async fn create(Json(order): Json<Value>) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({"order_id": "o-1", "item": order["item"]})),
    )
}

fn app(layer: Option<IdempotencyLayer>) -> Lift {
    let route = match layer {
        Some(l) => post(create).layer(l),
        None => post(create),
    };
    App::new().route("/orders", route).build()
}

fn event(key: &str) -> String {
    events::apigw_v2("POST", "/orders")
        .header("idempotency-key", key)
        .json(&json!({"item": "book", "quantity": 2}))
        .build()
        .to_string()
}

const CALLS: usize = 1_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let endpoint = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("LIFT_TEST_MOTO_ENDPOINT").ok())
        .expect("an endpoint argument, or LIFT_TEST_MOTO_ENDPOINT (source scripts/dynamodb-servers.sh)");
    let name = format!("idempotency-cost-{}", fastrand::u64(..));
    let (table_a, count_a) = environment(&endpoint, &name);
    table_a.create_if_missing(Duration::from_secs(10)).await.unwrap();
    let (table_b, count_b) = environment(&endpoint, &name);
    let a = app(Some(IdempotencyLayer::new(Idempotency::new(
        DynamoIdempotencyStore::new(&table_a),
    ))));
    // Environment B keeps no local cache: each of its repeats asks the table.
    let b = app(Some(IdempotencyLayer::new(
        Idempotency::builder(DynamoIdempotencyStore::new(&table_b))
            .local_cache(0)
            .build(),
    )));
    let plain = app(None);
    let ctx = TestClient::new(plain.clone()).context().lambda().clone();
    let keys: Vec<String> = (0..CALLS).map(|i| event(&format!("key-{i}"))).collect();

    let measure = |label: &str, cpu: Duration, wall: Duration, trips: usize| {
        println!(
            "{label:<34} {:>7.1} µs CPU per call ({:>6.0} µs wall), {:.2} round trips per call",
            cpu.as_secs_f64() * 1e6 / CALLS as f64,
            wall.as_secs_f64() * 1e6 / CALLS as f64,
            trips as f64 / CALLS as f64
        );
    };
    println!("server: {endpoint}");

    let (cpu0, wall0) = (cpu_time(), Instant::now());
    for e in &keys {
        let out = plain.invoke(e, ctx.clone()).await.unwrap();
        assert!(out.to_json().starts_with(b"{\"statusCode\":201"));
    }
    measure("without the layer", cpu_time() - cpu0, wall0.elapsed(), 0);

    let (cpu0, wall0, t0) = (cpu_time(), Instant::now(), count_a.total());
    for e in &keys {
        a.invoke(e, ctx.clone()).await.unwrap();
    }
    measure(
        "first call (claim + complete)",
        cpu_time() - cpu0,
        wall0.elapsed(),
        count_a.total() - t0,
    );

    let (cpu0, wall0, t0) = (cpu_time(), Instant::now(), count_b.total());
    for e in &keys {
        let out = b.invoke(e, ctx.clone()).await.unwrap();
        assert!(String::from_utf8_lossy(&out.to_json()).contains("idempotent-replayed"));
    }
    measure(
        "repeat, answered by the table",
        cpu_time() - cpu0,
        wall0.elapsed(),
        count_b.total() - t0,
    );

    let (cpu0, wall0, t0) = (cpu_time(), Instant::now(), count_a.total());
    for e in &keys {
        a.invoke(e, ctx.clone()).await.unwrap();
    }
    measure(
        "repeat, answered by the local cache",
        cpu_time() - cpu0,
        wall0.elapsed(),
        count_a.total() - t0,
    );
}
