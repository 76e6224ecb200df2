//! Idempotent orders in the quick start binary: `POST /orders` on `Idempotency-Key` in one
//! process and across three processes sharing a table (dynalite and moto), panics releasing
//! the key, the table going away (503, moto), and SQS order messages processed once per
//! `order_id`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use common::{error_code, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request; the whole response: (status, lower-cased head, body).
async fn send(server: &Server, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String, String) {
    let key = key.map(|k| format!("Idempotency-Key: {k}\r\n")).unwrap_or_default();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{key}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = server.connect().await;
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn order_id(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["order_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

const ORDER: &str = r#"{"item": "book", "quantity": 2}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_one_process_a_repeat_replays_the_order_and_another_body_gets_422() {
    let server = Server::start(&[], Stdio::null(), Stdio::null()).await;
    let (status, head, first) = send(&server, "POST", "/orders", Some("k-1"), ORDER).await;
    assert_eq!(status, 201, "{first}");
    assert!(!head.contains("idempotent-replayed"));
    let (status, head, again) = send(&server, "POST", "/orders", Some("k-1"), ORDER).await;
    assert_eq!(status, 201);
    assert!(head.contains("idempotent-replayed: true"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(order_id(&again), order_id(&first));
    let (status, _, body) = send(
        &server,
        "POST",
        "/orders",
        Some("k-1"),
        r#"{"item": "pen", "quantity": 1}"#,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error_code(&body), "idempotency_key_reused");
    // Without a key every POST creates an order, as before.
    let (_, _, a) = send(&server, "POST", "/orders", None, ORDER).await;
    let (_, _, b) = send(&server, "POST", "/orders", None, ORDER).await;
    assert_ne!(order_id(&a), order_id(&b));
    assert!(server.terminate().await.success());
}

fn moto() -> String {
    std::env::var("LIFT_TEST_MOTO_ENDPOINT")
        .expect("LIFT_TEST_MOTO_ENDPOINT is not set: run the tests with `bash scripts/test.sh`")
}

async fn fleet(endpoint: &str, table: &str, n: usize) -> Vec<Server> {
    let mut servers = Vec::new();
    for _ in 0..n {
        let vars = [
            ("LIFT_TABLE", table),
            ("LIFT_CREATE_TABLE", "true"),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ];
        servers.push(Server::start(&vars, Stdio::null(), Stdio::null()).await);
    }
    servers
}

fn table_name() -> String {
    format!("quickstart-idem-{}", fastrand::u64(..))
}

fn dynalite() -> String {
    std::env::var("LIFT_TEST_DYNALITE_ENDPOINT")
        .expect("LIFT_TEST_DYNALITE_ENDPOINT is not set: run the tests with `bash scripts/test.sh`")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_sharing_the_table_create_one_order_per_key() {
    // dynalite locks each item around a conditional write, as DynamoDB makes it atomic: the
    // strict claim holds there.
    one_order_per_key(&dynalite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_sharing_a_moto_table_create_one_order_per_key() {
    // moto_server alone checks a condition and writes with nothing held in between, so two
    // racing claims could both win; scripts/moto-server.py serves one request at a time, which
    // gives moto DynamoDB's atomic conditional writes (see docs/idempotency.md).
    one_order_per_key(&moto()).await;
}

async fn one_order_per_key(endpoint: &str) {
    let servers = fleet(endpoint, &table_name(), 3).await;
    let servers: Vec<std::sync::Arc<Server>> = servers.into_iter().map(std::sync::Arc::new).collect();
    let calls = (0..30).map(|i| {
        let s = servers[i % 3].clone();
        tokio::spawn(async move { send(&s, "POST", "/orders", Some("fleet-key"), ORDER).await })
    });
    let mut ids = HashSet::new();
    let mut created = 0;
    for r in futures_join(calls).await {
        let (status, head, body) = r;
        match status {
            201 => {
                if !head.contains("idempotent-replayed") {
                    created += 1;
                }
                ids.insert(order_id(&body));
            }
            409 => assert_eq!(error_code(&body), "idempotency_in_progress", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1, "one process created the order");
    assert_eq!(ids.len(), 1, "one order id: {ids:?}");
    // After completion every process replays it.
    let mut after = HashSet::new();
    for s in &servers {
        let (status, head, body) = send(s, "POST", "/orders", Some("fleet-key"), ORDER).await;
        assert_eq!(status, 201);
        assert!(head.contains("idempotent-replayed: true"));
        after.insert(order_id(&body));
    }
    assert_eq!(after.len(), 1, "every process replays one order: {after:?}");
    assert_eq!(ids, after);

    // A panic releases the key: the next call with it runs (and panics) again, anywhere.
    for s in &servers {
        let mut status = 0;
        let mut body = String::new();
        for _ in 0..50 {
            (status, _, body) = send(s, "GET", "/panic", Some("panic-key"), "").await;
            if status != 409 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!((status, error_code(&body)), (500, json!("panic")), "{body}");
    }
    for s in servers {
        let s = std::sync::Arc::into_inner(s).unwrap();
        assert!(s.terminate().await.success());
    }
}

async fn futures_join<T: Send + 'static>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_gone_refuses_idempotent_posts_with_503_and_runs_the_others() {
    let (mut moto, endpoint) = common::own_moto().await;
    let server = fleet(&endpoint, &table_name(), 1).await.remove(0);
    assert_eq!(send(&server, "POST", "/orders", Some("before"), ORDER).await.0, 201);
    moto.kill().await.unwrap();
    let started = std::time::Instant::now();
    let (status, head, body) = send(&server, "POST", "/orders", Some("after"), ORDER).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), "idempotency_unavailable");
    assert!(head.contains("retry-after"), "{head}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(
        send(&server, "POST", "/orders", None, ORDER).await.0,
        201,
        "no key: runs"
    );
    assert!(server.terminate().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_sqs_order_message_is_acknowledged_without_running_again() {
    let mut server = Server::start(&[], Stdio::piped(), Stdio::null()).await;
    let mut stdout = server.child.stdout.take().unwrap();
    let invoke = "/2015-03-31/functions/function/invocations";
    let event = lift_testing::events::sqs("orders")
        .message(r#"{"order_id": "o-42", "item": "book"}"#)
        .message(r#"{"note": "no order id"}"#)
        .build()
        .to_string();
    for _ in 0..2 {
        let (status, out) = server.post_json(invoke, &event).await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["batchItemFailures"],
            json!([])
        );
    }
    // A failing order message releases its key: its redelivery runs (and fails) again.
    let failing = lift_testing::events::sqs("orders")
        .message(r#"{"order_id": "o-43", "fail": true}"#)
        .build()
        .to_string();
    for _ in 0..2 {
        let (_, out) = server.post_json(invoke, &failing).await;
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["batchItemFailures"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    assert!(server.terminate().await.success());
    let mut logs = String::new();
    stdout.read_to_string(&mut logs).await.unwrap();
    let processed = |needle: &str| {
        logs.lines()
            .filter(|l| l.contains("SQS message processed") && l.contains(needle))
            .count()
    };
    assert_eq!(processed("\"order_id\":\"o-42\""), 1, "o-42 ran once: {logs}");
    assert_eq!(
        processed("\"order_id\":\"\""),
        2,
        "the message without an order id ran each time"
    );
}
