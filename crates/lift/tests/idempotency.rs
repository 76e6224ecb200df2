//! Idempotency on the in-memory store: HTTP routes, record handlers and the function API.
//! (The same state machine on DynamoDB, against moto and dynalite, is in
//! `crates/lift-dynamodb/tests/idempotency.rs`.)

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use lift::idempotency::{
    code, ClaimOutcome, ClaimRequest, Completion, Idempotency, IdempotencyLayer, IdempotencyStore, Key, MemoryStore,
    Selection, StoreError, StoreFuture,
};
use lift::{App, Context, Error, Json, Sqs};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

fn body(v: &Value) -> Value {
    serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

fn status(v: &Value) -> u64 {
    v["statusCode"].as_u64().unwrap_or(0)
}

/// An app whose `POST /orders` counts its runs, waits `hold` (so calls overlap), and fails
/// with 500 when the body says `"fail": true`, panics on `"panic": true`.
fn orders_app(policy: Idempotency, runs: Arc<AtomicUsize>, hold: Duration) -> TestClient {
    let handler = move |Json(order): Json<Value>| {
        let runs = runs.clone();
        async move {
            let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(hold).await;
            if order["fail"] == true {
                return Err(Error::internal("failing on purpose"));
            }
            if order["panic"] == true {
                panic!("panicking on purpose");
            }
            let id = format!("order-{n}-{}", uuid::Uuid::new_v4());
            Ok((
                StatusCode::CREATED,
                Json(json!({"order_id": id, "item": order["item"]})),
            ))
        }
    };
    let lift = App::new()
        .route("/orders", post(handler).layer(IdempotencyLayer::new(policy)))
        .build();
    TestClient::new(lift)
}

fn post_order(key: &str, order: &Value) -> Value {
    events::apigw_v2("POST", "/orders")
        .header("idempotency-key", key)
        .json(order)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_calls_across_four_apps_run_the_handler_once() {
    let policy = Idempotency::in_memory();
    let runs = Arc::new(AtomicUsize::new(0));
    let apps: Vec<TestClient> = (0..4)
        .map(|_| orders_app(policy.clone(), runs.clone(), Duration::from_millis(200)))
        .collect();
    let order = json!({"item": "book"});
    let calls = (0..64).map(|i| {
        let app = apps[i % 4].clone();
        let event = post_order("k-64", &order);
        tokio::spawn(async move { app.invoke_json(event).await })
    });
    let results = futures_util::future::join_all(calls).await;
    let mut created = 0;
    let mut replays = 0;
    let mut in_progress = 0;
    let mut ids = std::collections::HashSet::new();
    for r in results {
        let r = r.unwrap();
        match status(&r) {
            201 if r["headers"]["idempotent-replayed"] == "true" => replays += 1,
            201 => created += 1,
            409 => {
                assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_IN_PROGRESS);
                assert!(r["headers"]["retry-after"].as_str().is_some(), "{r}");
                in_progress += 1;
            }
            other => panic!("unexpected {other}: {r}"),
        }
        if status(&r) == 201 {
            ids.insert(body(&r)["order_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
    assert_eq!(created, 1);
    assert_eq!(created + replays + in_progress, 64);
    assert_eq!(ids.len(), 1, "one order id");
    // After completion, every call replays the same order.
    for app in &apps {
        let r = app.invoke_json(post_order("k-64", &order)).await;
        assert_eq!(status(&r), 201);
        assert_eq!(r["headers"]["idempotent-replayed"], "true");
        assert_eq!(r["headers"]["content-type"], "application/json");
        assert!(ids.contains(body(&r)["order_id"].as_str().unwrap()));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// A clock the test moves by hand (epoch ms).
fn manual_clock() -> (Arc<AtomicU64>, impl Fn() -> u64 + Send + Sync + 'static) {
    let now = Arc::new(AtomicU64::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64,
    ));
    let read = now.clone();
    (now, move || read.load(Ordering::SeqCst))
}

#[tokio::test]
async fn an_expired_record_runs_again() {
    let (now, clock) = manual_clock();
    let policy = Idempotency::builder(MemoryStore::default())
        .expiry(Duration::from_secs(10))
        .clock(clock)
        .build();
    let runs = Arc::new(AtomicUsize::new(0));
    let app = orders_app(policy, runs.clone(), Duration::ZERO);
    let order = json!({"item": "pen"});
    assert_eq!(status(&app.invoke_json(post_order("k-exp", &order)).await), 201);
    now.fetch_add(9_000, Ordering::SeqCst);
    let r = app.invoke_json(post_order("k-exp", &order)).await;
    assert_eq!(r["headers"]["idempotent-replayed"], "true", "still live at 9 s");
    now.fetch_add(1_000, Ordering::SeqCst);
    let r = app.invoke_json(post_order("k-exp", &order)).await;
    assert_eq!(status(&r), 201);
    assert!(
        r["headers"]["idempotent-replayed"].is_null(),
        "expired at 10 s: ran again"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_past_its_in_progress_expiration_runs_again() {
    let (now, clock) = manual_clock();
    let policy = Idempotency::builder(MemoryStore::default()).clock(clock).build();
    let runs = Arc::new(AtomicUsize::new(0));
    // The first invocation has 5 s and never finishes in time (its handler holds 60 s).
    let slow = orders_app(policy.clone(), runs.clone(), Duration::from_secs(60)).timeout(Duration::from_secs(5));
    let fast = orders_app(policy, runs.clone(), Duration::ZERO);
    let order = json!({"item": "cup"});
    let first = tokio::spawn({
        let event = post_order("k-ipe", &order);
        async move { slow.invoke_json(event).await }
    });
    while runs.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let r = fast.invoke_json(post_order("k-ipe", &order)).await;
    assert_eq!(status(&r), 409, "in flight: {r}");
    let retry: u64 = r["headers"]["retry-after"].as_str().unwrap().parse().unwrap();
    // Seconds rounded up; the manual clock started a few ms before the invocation: 6 at most.
    assert!(
        (1..=6).contains(&retry),
        "until the first invocation's deadline: {retry}"
    );
    // Past the first invocation's deadline, its claim is abandoned.
    now.fetch_add(10_000, Ordering::SeqCst);
    let r = fast.invoke_json(post_order("k-ipe", &order)).await;
    assert_eq!(status(&r), 201, "{r}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    first.abort();
}

#[tokio::test]
async fn a_handler_error_releases_the_key_and_the_next_call_runs() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = orders_app(Idempotency::in_memory(), runs.clone(), Duration::ZERO);
    let r = app.invoke_json(post_order("k-err", &json!({"fail": true}))).await;
    assert_eq!(status(&r), 500);
    let r = app.invoke_json(post_order("k-err", &json!({"fail": true}))).await;
    assert_eq!(status(&r), 500, "ran again rather than replaying the failure");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_releases_the_key() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = orders_app(Idempotency::in_memory(), runs.clone(), Duration::ZERO);
    let order = json!({"panic": true});
    let r = app.invoke_json(post_order("k-panic", &order)).await;
    assert_eq!(status(&r), 500);
    assert_eq!(body(&r)["error"]["code"], "panic");
    // The release runs in the background (the panic unwound through the claim).
    let mut again = 0;
    for _ in 0..100 {
        again = status(&app.invoke_json(post_order("k-panic", &order)).await);
        if again != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(again, 500, "the key was released and the handler ran again");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn another_payload_under_the_same_key_gets_422_and_leaves_the_record() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = orders_app(Idempotency::in_memory(), runs.clone(), Duration::ZERO);
    let first = app.invoke_json(post_order("k-reuse", &json!({"item": "a"}))).await;
    let r = app.invoke_json(post_order("k-reuse", &json!({"item": "b"}))).await;
    assert_eq!(status(&r), 422);
    assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_KEY_REUSED);
    let again = app.invoke_json(post_order("k-reuse", &json!({"item": "a"}))).await;
    assert_eq!(again["headers"]["idempotent-replayed"], "true");
    assert_eq!(body(&again), body(&first), "the stored record is untouched");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn requests_without_a_key_run_and_bad_keys_are_refused() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = orders_app(Idempotency::in_memory(), runs.clone(), Duration::ZERO);
    for _ in 0..2 {
        let r = app
            .invoke_json(events::apigw_v2("POST", "/orders").json(&json!({"item": "x"})).build())
            .await;
        assert_eq!(status(&r), 201);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2, "no key: no idempotency");
    for bad in ["has space", &"k".repeat(256)] {
        let r = app.invoke_json(post_order(bad, &json!({"item": "x"}))).await;
        assert_eq!(status(&r), 400, "{bad}");
        assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_KEY_INVALID);
    }
    let required = App::new()
        .route(
            "/orders",
            post(|| async { "ok" }).layer(IdempotencyLayer::new(Idempotency::in_memory()).require_key()),
        )
        .build();
    let r = TestClient::new(required)
        .invoke_json(events::apigw_v2("POST", "/orders").build())
        .await;
    assert_eq!(status(&r), 400);
    assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_KEY_MISSING);
}

/// A fake store that injects the fault the real in-memory store cannot produce: it never
/// answers (or fails at once).
struct FakeDownStore {
    hang: bool,
}

impl IdempotencyStore for FakeDownStore {
    fn claim(&self, _: ClaimRequest) -> StoreFuture<'_, ClaimOutcome> {
        if self.hang {
            Box::pin(std::future::pending())
        } else {
            Box::pin(std::future::ready(Err(StoreError::Failed("connection refused".into()))))
        }
    }
    fn complete(&self, _: Completion) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Err(StoreError::Failed("connection refused".into()))))
    }
    fn release(&self, _: Arc<str>, _: Arc<str>) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

#[tokio::test]
async fn a_store_that_is_down_gets_503_by_default_and_runs_when_fail_open() {
    let runs = Arc::new(AtomicUsize::new(0));
    let closed = Idempotency::builder(FakeDownStore { hang: true })
        .store_timeout(Duration::from_millis(50))
        .build();
    let app = orders_app(closed, runs.clone(), Duration::ZERO);
    let started = std::time::Instant::now();
    let r = app.invoke_json(post_order("k-down", &json!({"item": "x"}))).await;
    assert_eq!(status(&r), 503);
    assert_eq!(body(&r)["error"]["code"], code::IDEMPOTENCY_UNAVAILABLE);
    assert!(r["headers"]["retry-after"].is_string());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "bounded by the store timeout"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0, "nothing ran");

    let open = Idempotency::builder(FakeDownStore { hang: false })
        .fail_open(true)
        .build();
    let app = orders_app(open, runs.clone(), Duration::ZERO);
    let r = app.invoke_json(post_order("k-down", &json!({"item": "x"}))).await;
    assert_eq!(status(&r), 201, "fail open: runs unprotected");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn store_calls_are_bounded_by_the_invocations_remaining_time() {
    let policy = Idempotency::builder(FakeDownStore { hang: true })
        .store_timeout(Duration::from_secs(60))
        .build();
    let runs = Arc::new(AtomicUsize::new(0));
    let app = orders_app(policy, runs, Duration::ZERO).timeout(Duration::from_secs(2));
    let started = tokio::time::Instant::now();
    let r = app.invoke_json(post_order("k-deadline", &json!({}))).await;
    assert_eq!(status(&r), 503);
    let waited = started.elapsed();
    assert!(waited <= Duration::from_secs(2), "{waited:?}");
}

fn sqs_app(policy: Idempotency, runs: Arc<AtomicUsize>, hold: Duration) -> TestClient {
    let handler = move |_ctx: Context, msg: Sqs<Value>| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(hold).await;
            if msg.body["fail"] == true {
                return Err(Error::bad_request("refused", "asked to fail"));
            }
            Ok::<(), Error>(())
        }
    };
    let lift = App::new()
        .sqs("*", policy.records("orders", Selection::fields(["order_id"]), handler))
        .build();
    TestClient::new(lift)
}

fn failed_ids(v: &Value) -> Vec<String> {
    v["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

fn message_ids(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_batch_acks_repeats_without_running_and_fails_messages_in_flight() {
    let policy = Idempotency::in_memory();
    let runs = Arc::new(AtomicUsize::new(0));
    let app = sqs_app(policy.clone(), runs.clone(), Duration::ZERO);
    let first = events::sqs("orders").message(r#"{"order_id": "o-1"}"#).build();
    assert_eq!(failed_ids(&app.invoke_json(first).await), Vec::<String>::new());
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Another environment is processing o-2 right now.
    let slow_runs = Arc::new(AtomicUsize::new(0));
    let slow = sqs_app(policy, slow_runs.clone(), Duration::from_secs(30));
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
        .message(r#"{"no_key": true}"#)
        .build();
    let ids = message_ids(&batch);
    let out = app.invoke_json(batch).await;
    assert_eq!(
        failed_ids(&out),
        vec![ids[1].clone()],
        "only the message in flight failed: {out}"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "o-1 acked without running; o-3 and the keyless one ran"
    );
    elsewhere.abort();
}

#[tokio::test]
async fn a_failed_record_releases_its_key_and_is_retried() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = sqs_app(Idempotency::in_memory(), runs.clone(), Duration::ZERO);
    let event = events::sqs("orders")
        .message(r#"{"order_id": "o-9", "fail": true}"#)
        .build();
    assert_eq!(failed_ids(&app.invoke_json(event.clone()).await).len(), 1);
    assert_eq!(failed_ids(&app.invoke_json(event).await).len(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn sns_in_flight_elsewhere_fails_the_invocation() {
    let policy = Idempotency::in_memory();
    let ctx = TestClient::new(App::new().build()).context();
    // Another call holds the key (the function API claims it in the same scope).
    let held = policy.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn(async move {
        held.run(
            &ctx,
            "notes",
            Key::from_json(&json!({"id": 1}), &Selection::fields(["id"])).unwrap(),
            || async {
                let _ = rx.await;
                Ok::<_, Error>(1)
            },
        )
        .await
    });
    tokio::task::yield_now().await;
    let handler = |_ctx: Context, _msg: lift::Sns<Value>| async { Ok::<(), Error>(()) };
    let lift = App::new()
        .sns("*", policy.records("notes", Selection::fields(["id"]), handler))
        .build();
    let out = TestClient::new(lift).invoke(events::sns("topic", r#"{"id": 1}"#)).await;
    let err = out.map(|_| ()).expect_err("a Lambda error");
    assert_eq!(err.error_type, "Lift.handler_failed", "{err:?}");
    let _ = tx.send(());
    assert_eq!(holder.await.unwrap().unwrap(), 1);
}

#[tokio::test]
async fn the_function_api_runs_once_replays_and_releases_on_error() {
    let policy = Idempotency::in_memory();
    let ctx = TestClient::new(App::new().build()).context();
    let runs = AtomicUsize::new(0);
    let work = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Error>(json!({"charged": 42}))
    };
    let a: Value = policy.run(&ctx, "charge", Key::new("c-1"), work).await.unwrap();
    let b: Value = policy.run(&ctx, "charge", Key::new("c-1"), work).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Another scope is another key.
    let _: Value = policy.run(&ctx, "refund", Key::new("c-1"), work).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let failing = || async { Err::<Value, _>(Error::internal("declined")) };
    assert!(policy.run(&ctx, "charge", Key::new("c-2"), failing).await.is_err());
    let c: Value = policy.run(&ctx, "charge", Key::new("c-2"), work).await.unwrap();
    assert_eq!(c["charged"], 42, "released after the error");

    let reused = policy
        .run(&ctx, "pay", Key::new("c-3").with_payload("a"), work)
        .await
        .and(policy.run(&ctx, "pay", Key::new("c-3").with_payload("b"), work).await);
    assert_eq!(
        reused.err().map(|e| e.code().to_owned()).as_deref(),
        Some(code::IDEMPOTENCY_KEY_REUSED)
    );
}

/// A fake store: the in-memory store with a tiny size limit (DynamoDB's 400 KB limit is
/// exercised for real in the lift-dynamodb tests).
struct FakeSmallStore(MemoryStore);

impl IdempotencyStore for FakeSmallStore {
    fn claim(&self, r: ClaimRequest) -> StoreFuture<'_, ClaimOutcome> {
        self.0.claim(r)
    }
    fn complete(&self, c: Completion) -> StoreFuture<'_, ()> {
        self.0.complete(c)
    }
    fn release(&self, id: Arc<str>, token: Arc<str>) -> StoreFuture<'_, ()> {
        self.0.release(id, token)
    }
    fn max_data_bytes(&self) -> usize {
        64
    }
}

#[tokio::test]
async fn a_result_too_large_to_store_is_refused_and_the_key_released() {
    let policy = Idempotency::new(FakeSmallStore(MemoryStore::default()));
    let ctx = TestClient::new(App::new().build()).context();
    let big = || async { Ok::<_, Error>("x".repeat(100)) };
    let err = policy.run(&ctx, "big", Key::new("b"), big).await.unwrap_err();
    assert_eq!(err.code(), code::IDEMPOTENCY_RESULT_TOO_LARGE);
    let small = || async { Ok::<_, Error>("ok".to_owned()) };
    assert_eq!(
        policy.run(&ctx, "big", Key::new("b"), small).await.unwrap(),
        "ok",
        "released"
    );
}
