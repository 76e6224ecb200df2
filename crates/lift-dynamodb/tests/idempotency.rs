//! Idempotency records on the fleet table, against moto and dynalite: Lift apps with a
//! client each (as Lambda environments have) share one table; the handler runs once per key.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // tests: a failed unwrap is a failed test

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::http::StatusCode;
use axum::routing::post;
use lift::idempotency::{code, Idempotency, IdempotencyLayer, Key, Selection};
use lift::{App, Context, Error, Json, Sqs};
use lift_dynamodb::idempotency::{DynamoIdempotencyStore, MAX_DATA_BYTES};
use lift_dynamodb::{FleetTable, RequestCounter};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

fn body(v: &Value) -> Value {
    serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

fn status(v: &Value) -> u64 {
    v["statusCode"].as_u64().unwrap_or(0)
}

fn replayed(v: &Value) -> bool {
    v["headers"]["idempotent-replayed"] == "true"
}

/// The table reached by a client of its own, counting its requests.
fn environment(endpoint: &str, table: &FleetTable) -> (FleetTable, RequestCounter) {
    let count = RequestCounter::new();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "lift-tests"))
        .interceptor(count.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    (FleetTable::new(client, table.name()), count)
}

type Clock = Arc<AtomicU64>;

fn clock() -> Clock {
    Arc::new(AtomicU64::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64,
    ))
}

fn policy(table: &FleetTable, clock: &Clock) -> Idempotency {
    let now = clock.clone();
    Idempotency::builder(DynamoIdempotencyStore::new(table))
        .function_name("orders-fn")
        .store_timeout(Duration::from_secs(5))
        .clock(move || now.load(Ordering::SeqCst))
        .build()
}

/// `POST /orders`: counts runs, holds `hold`, fails on `"fail": true`, answers `size` bytes
/// of padding when asked.
fn orders_app(policy: Idempotency, runs: Arc<AtomicUsize>, hold: Duration) -> TestClient {
    let handler = move |Json(order): Json<Value>| {
        let runs = runs.clone();
        async move {
            let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(hold).await;
            if order["fail"] == true {
                return Err(Error::internal("failing on purpose"));
            }
            let pad = "p".repeat(order["pad"].as_u64().unwrap_or(0) as usize);
            let id = format!("order-{n}-{}", fastrand::u64(..));
            Ok((StatusCode::CREATED, Json(json!({"order_id": id, "pad": pad}))))
        }
    };
    TestClient::new(
        App::new()
            .route("/orders", post(handler).layer(IdempotencyLayer::new(policy)))
            .build(),
    )
}

fn post_order(key: &str, order: &Value) -> Value {
    events::apigw_v2("POST", "/orders")
        .header("idempotency-key", key)
        .json(order)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_calls_across_four_apps_run_the_handler_once() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let now = clock();
        let runs = Arc::new(AtomicUsize::new(0));
        let apps: Vec<TestClient> = (0..4)
            .map(|_| {
                let (env, _) = environment(&endpoint, &table);
                orders_app(policy(&env, &now), runs.clone(), Duration::from_millis(500))
            })
            .collect();
        let order = json!({"item": "book"});
        let calls = (0..64).map(|i| {
            let app = apps[i % 4].clone();
            let event = post_order("k-64", &order);
            tokio::spawn(async move { app.invoke_json(event).await })
        });
        let mut ids = std::collections::HashSet::new();
        let (mut created, mut replays, mut in_progress) = (0, 0, 0);
        for r in futures_util::future::join_all(calls).await {
            let r = r.unwrap();
            match status(&r) {
                201 if replayed(&r) => replays += 1,
                201 => created += 1,
                409 => {
                    assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_IN_PROGRESS, "{server}");
                    in_progress += 1;
                }
                other => panic!("{server}: unexpected {other}: {r}"),
            }
            if status(&r) == 201 {
                ids.insert(body(&r)["order_id"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{server}: the handler ran once");
        assert_eq!((created, created + replays + in_progress), (1, 64), "{server}");
        assert_eq!(ids.len(), 1, "{server}");
        for app in &apps {
            let r = app.invoke_json(post_order("k-64", &order)).await;
            assert!(status(&r) == 201 && replayed(&r), "{server}: {r}");
            assert!(ids.contains(body(&r)["order_id"].as_str().unwrap()), "{server}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{server}");
    }
}

#[tokio::test]
async fn expired_and_abandoned_records_run_again() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let now = clock();
        let runs = Arc::new(AtomicUsize::new(0));
        // Two environments, no local cache in the second so it asks the table each time.
        let a = orders_app(policy(&table, &now), runs.clone(), Duration::ZERO);
        let order = json!({"item": "pen"});
        assert_eq!(
            status(&a.invoke_json(post_order("k-exp", &order)).await),
            201,
            "{server}"
        );
        let n = now.clone();
        let b_policy = Idempotency::builder(DynamoIdempotencyStore::new(&table))
            .function_name("orders-fn")
            .local_cache(0)
            .clock(move || n.load(Ordering::SeqCst))
            .build();
        let b = orders_app(b_policy, runs.clone(), Duration::ZERO);
        assert!(replayed(&b.invoke_json(post_order("k-exp", &order)).await), "{server}");
        // An hour later (the default expiry) the record is absent, though still in the table.
        now.fetch_add(3_600_000, Ordering::SeqCst);
        let r = b.invoke_json(post_order("k-exp", &order)).await;
        assert!(status(&r) == 201 && !replayed(&r), "{server}: expired, ran again: {r}");
        assert_eq!(runs.load(Ordering::SeqCst), 2, "{server}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_past_its_in_progress_expiration_runs_again() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let now = clock();
        let runs = Arc::new(AtomicUsize::new(0));
        let slow =
            orders_app(policy(&table, &now), runs.clone(), Duration::from_secs(60)).timeout(Duration::from_secs(5));
        let fast = orders_app(policy(&table, &now), runs.clone(), Duration::ZERO);
        let order = json!({"item": "cup"});
        let event = post_order("k-ipe", &order);
        let first = tokio::spawn(async move { slow.invoke_json(event).await });
        while runs.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let r = fast.invoke_json(post_order("k-ipe", &order)).await;
        assert_eq!(status(&r), 409, "{server}: {r}");
        assert!(r["headers"]["retry-after"].is_string(), "{server}");
        now.fetch_add(10_000, Ordering::SeqCst);
        let r = fast.invoke_json(post_order("k-ipe", &order)).await;
        assert_eq!(status(&r), 201, "{server}: {r}");
        assert_eq!(runs.load(Ordering::SeqCst), 2, "{server}");
        first.abort();
    }
}

#[tokio::test]
async fn a_handler_error_releases_the_key() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let runs = Arc::new(AtomicUsize::new(0));
        let app = orders_app(policy(&table, &clock()), runs.clone(), Duration::ZERO);
        for _ in 0..2 {
            let r = app.invoke_json(post_order("k-err", &json!({"fail": true}))).await;
            assert_eq!(status(&r), 500, "{server}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2, "{server}: released, ran again");
    }
}

#[tokio::test]
async fn another_payload_under_the_same_key_gets_422_and_leaves_the_record_untouched() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let now = clock();
        let runs = Arc::new(AtomicUsize::new(0));
        let p = policy(&table, &now);
        let app = orders_app(p.clone(), runs.clone(), Duration::ZERO);
        let first = app.invoke_json(post_order("k-reuse", &json!({"item": "a"}))).await;
        let store = DynamoIdempotencyStore::new(&table);
        let id = p.record_id(None, "POST /orders", &Key::new("k-reuse"));
        let before = store.get(&id).await.unwrap().unwrap();
        assert_eq!(before.status, "COMPLETED", "{server}");
        // Another environment (no cached copy) asks the table.
        let other = orders_app(policy(&table, &now), runs.clone(), Duration::ZERO);
        let r = other.invoke_json(post_order("k-reuse", &json!({"item": "b"}))).await;
        assert_eq!(status(&r), 422, "{server}: {r}");
        assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_KEY_REUSED);
        assert_eq!(store.get(&id).await.unwrap().unwrap(), before, "{server}: untouched");
        let again = other.invoke_json(post_order("k-reuse", &json!({"item": "a"}))).await;
        assert_eq!(body(&again), body(&first), "{server}");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{server}");
    }
}

#[tokio::test]
async fn the_stored_item_follows_powertools_schema() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let p = policy(&table, &clock());
        let ctx = TestClient::new(App::new().build()).context();
        let out: Value = p
            .run(&ctx, "charge", Key::new("c-1").with_payload("p"), || async {
                Ok::<_, Error>(json!({"ok": 1}))
            })
            .await
            .unwrap();
        assert_eq!(out["ok"], 1);
        let item = table
            .client()
            .get_item()
            .table_name(table.name())
            .key(
                "id",
                aws_sdk_dynamodb::types::AttributeValue::S(DynamoIdempotencyStore::item_id(&p.record_id(
                    Some(&ctx),
                    "charge",
                    &Key::new("c-1"),
                ))),
            )
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let n = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        assert!(s("id").starts_with("idem#"), "{server}");
        assert_eq!(s("status"), "COMPLETED", "{server}");
        assert_eq!(s("data"), r#"{"ok":1}"#, "{server}");
        assert_eq!(s("validation").len(), 64, "{server}");
        let now_s = lift_dynamodb::epoch_secs();
        assert!(
            (now_s + 3590..=now_s + 3610).contains(&n("expiration")),
            "{server}: epoch seconds"
        );
        assert!(
            n("in_progress_expiration") > now_s * 1000,
            "{server}: epoch milliseconds"
        );
    }
}

#[tokio::test]
async fn round_trips_first_call_two_repeat_one_or_none_from_the_local_cache() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let now = clock();
        let (env_a, count_a) = environment(&endpoint, &table);
        let (env_b, count_b) = environment(&endpoint, &table);
        let a = orders_app(policy(&env_a, &now), Arc::default(), Duration::ZERO);
        let b = orders_app(policy(&env_b, &now), Arc::default(), Duration::ZERO);
        let order = json!({"item": "x"});
        assert_eq!(status(&a.invoke_json(post_order("k-rt", &order)).await), 201);
        assert_eq!(
            (count_a.of("PutItem"), count_a.of("UpdateItem"), count_a.total()),
            (1, 1, 2),
            "{server}: claim + complete"
        );
        assert!(replayed(&b.invoke_json(post_order("k-rt", &order)).await));
        let repeat = count_b.total();
        if server == "moto" {
            assert_eq!(repeat, 1, "moto returns ALL_OLD: one conditional PutItem");
        } else {
            // dynalite does not return the old item: the fallback reads it (one GetItem more).
            assert_eq!((repeat, count_b.reads()), (2, 1), "{server}");
        }
        assert!(replayed(&a.invoke_json(post_order("k-rt", &order)).await));
        assert!(replayed(&b.invoke_json(post_order("k-rt", &order)).await));
        assert_eq!(count_a.total(), 2, "{server}: answered from the local cache");
        assert_eq!(count_b.total(), repeat, "{server}: answered from the local cache");
        println!("{server}: first call 2 round trips, repeat elsewhere {repeat}, repeat here 0");
    }
}

#[tokio::test]
async fn a_result_over_the_item_size_is_refused_and_the_key_released() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let runs = Arc::new(AtomicUsize::new(0));
        let app = orders_app(policy(&table, &clock()), runs.clone(), Duration::ZERO);
        let big = json!({"pad": MAX_DATA_BYTES + 1});
        let r = app.invoke_json(post_order("k-big", &big)).await;
        assert_eq!(status(&r), 500, "{server}");
        assert_eq!(
            body(&r)["error"]["code"],
            code::IDEMPOTENCY_RESULT_TOO_LARGE,
            "{server}"
        );
        // Just under the limit is stored whole.
        let fits = json!({"pad": MAX_DATA_BYTES - 1024});
        let r = app.invoke_json(post_order("k-fits", &fits)).await;
        assert_eq!(status(&r), 201, "{server}: {}", body(&r));
        let again = app.invoke_json(post_order("k-fits", &fits)).await;
        assert!(
            replayed(&again) && body(&again) == body(&r),
            "{server}: {}",
            &again.to_string()[..300.min(again.to_string().len())]
        );
        // The refused key was released: it runs again.
        app.invoke_json(post_order("k-big", &big)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "{server}");
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_gets_503_and_nothing_runs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let table = FleetTable::new(common::client(&format!("http://127.0.0.1:{port}")), "gone");
    let runs = Arc::new(AtomicUsize::new(0));
    let p = Idempotency::builder(DynamoIdempotencyStore::new(&table))
        .store_timeout(Duration::from_millis(500))
        .build();
    let app = orders_app(p, runs.clone(), Duration::ZERO);
    let r = app.invoke_json(post_order("k", &json!({}))).await;
    assert_eq!(status(&r), 503);
    assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_UNAVAILABLE);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

fn sqs_app(policy: Idempotency, runs: Arc<AtomicUsize>, hold: Duration) -> TestClient {
    let handler = move |_ctx: Context, _msg: Sqs<Value>| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(hold).await;
            Ok::<(), Error>(())
        }
    };
    TestClient::new(
        App::new()
            .sqs("*", policy.records("orders", Selection::fields(["order_id"]), handler))
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_batch_acks_a_processed_repeat_and_fails_a_message_in_flight_elsewhere() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let now = clock();
        let runs = Arc::new(AtomicUsize::new(0));
        let app = sqs_app(policy(&table, &now), runs.clone(), Duration::ZERO);
        let first = events::sqs("orders").message(r#"{"order_id": "o-1"}"#).build();
        assert_eq!(app.invoke_json(first).await["batchItemFailures"], json!([]), "{server}");
        let slow_runs = Arc::new(AtomicUsize::new(0));
        let (env, _) = environment(&endpoint, &table);
        let slow = sqs_app(policy(&env, &now), slow_runs.clone(), Duration::from_secs(30));
        let elsewhere = tokio::spawn(async move {
            slow.invoke_json(events::sqs("orders").message(r#"{"order_id": "o-2"}"#).build())
                .await
        });
        while slow_runs.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let batch = events::sqs("orders")
            .message(r#"{"order_id": "o-1"}"#)
            .message(r#"{"order_id": "o-2"}"#)
            .message(r#"{"order_id": "o-3"}"#)
            .build();
        let in_flight = batch["Records"][1]["messageId"].clone();
        let out = app.invoke_json(batch).await;
        assert_eq!(
            out["batchItemFailures"],
            json!([{"itemIdentifier": in_flight}]),
            "{server}: {out}"
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "{server}: o-1 and o-3; o-1's repeat acked"
        );
        elsewhere.abort();
    }
}
