//! The local server over real sockets: bodies read whole before the routes (408 / 413 JSON),
//! slow and idle connections closed, graceful shutdown. Timeouts are configured short and
//! every timing assertion is a generous upper bound ("closed within 5 s").

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::{get, post};
use lift::local::{LocalConfig, INVOKE_PATH};
use lift::{App, Lift};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Notify};

const BOUND: Duration = Duration::from_secs(5);

fn app(started: Arc<Notify>) -> Lift {
    App::new()
        .route("/ping", get(|| async { "pong" }))
        .route("/upload", post(|body: Bytes| async move { body.len().to_string() }))
        .route(
            "/slow",
            get(move || {
                let started = started.clone();
                async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }
            }),
        )
        // Five requests at once at most: uploads that entered the routes would fill it.
        .resilience(lift::resilience::BulkheadLayer::new(5))
        .build()
}

fn config() -> LocalConfig {
    let mut c = LocalConfig::default();
    c.header_timeout = Duration::from_millis(300);
    c.body_timeout = Duration::from_millis(300);
    c.body_limit = 1024;
    c
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<Result<(), lift::BoxError>>,
    started: Arc<Notify>,
}

async fn start(config: LocalConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let started = Arc::new(Notify::new());
    let lift = app(started.clone());
    let done = tokio::spawn(lift::local::serve_listener(lift, listener, config, async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        stop: Some(stop),
        done,
        started,
    }
}

/// Sends `head` (and no more) and returns the open stream.
async fn send(addr: SocketAddr, bytes: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes.as_bytes()).await.unwrap();
    s
}

/// Reads until the peer closes (or resets) the connection; what it said before closing.
async fn read_until_closed(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One request on its own connection (`connection: close`): status and body.
async fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = send(addr, &req).await;
    parse(
        &tokio::time::timeout(BOUND, read_until_closed(&mut s))
            .await
            .expect("answered within 5 s"),
    )
}

fn parse(raw: &str) -> (u16, String) {
    let status = raw.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn assert_lift_error(body: &str, code: &str) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    assert_eq!(v["error"]["code"], code, "{body}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(
        v["error"]["request_id"].as_str().is_some_and(|s| s.len() == 36),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_never_reach_the_routes_and_each_gets_408() {
    let server = start(config()).await;
    let stalled_head = "POST /upload HTTP/1.1\r\nhost: localhost\r\ncontent-length: 1000\r\n\r\nonly the start";
    let mut stalled = Vec::new();
    for _ in 0..20 {
        stalled.push(send(server.addr, stalled_head).await);
    }
    // Twenty uploads hang, yet the five-wide bulkhead is free: a GET is served at once.
    let (status, body) = request(server.addr, "GET", "/ping", "").await;
    assert_eq!((status, body.as_str()), (200, "pong"));
    let stalled_invoke = format!("POST {INVOKE_PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n\r\n{{");
    stalled.push(send(server.addr, &stalled_invoke).await);
    for mut s in stalled {
        let raw = tokio::time::timeout(BOUND, read_until_closed(&mut s))
            .await
            .expect("answered and closed within 5 s");
        let (status, body) = parse(&raw);
        assert_eq!(status, 408, "{raw}");
        assert_lift_error(&body, "request_timeout");
    }
    let (status, _) = request(server.addr, "POST", "/upload", "complete").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_json_on_routes_and_raw_events() {
    let server = start(config()).await;
    let big = "x".repeat(2048);
    for path in ["/upload", INVOKE_PATH] {
        let (status, body) = request(server.addr, "POST", path, &big).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert_lift_error(&body, "payload_too_large");
    }
    // Chunked, so the size is only known while reading.
    let chunked = format!(
        "POST /upload HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    let mut s = send(server.addr, &chunked).await;
    let (status, body) = parse(&tokio::time::timeout(BOUND, read_until_closed(&mut s)).await.unwrap());
    assert_eq!(status, 413, "{body}");
    assert_lift_error(&body, "payload_too_large");
    let (status, body) = request(server.addr, "POST", "/upload", "small").await;
    assert_eq!((status, body.as_str()), (200, "5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_header_and_an_idle_keep_alive_connection_are_closed() {
    let server = start(config()).await;
    let mut slowloris = send(server.addr, "GET /ping HTTP/1.1\r\nhost: loc").await;
    tokio::time::timeout(BOUND, read_until_closed(&mut slowloris))
        .await
        .expect("a half-sent header is closed within 5 s");

    let mut keep_alive = send(server.addr, "GET /ping HTTP/1.1\r\nhost: localhost\r\n\r\n").await;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.ends_with(b"pong") {
        let n = tokio::time::timeout(BOUND, keep_alive.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before answering");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(seen.starts_with(b"HTTP/1.1 200"));
    // Kept alive after the answer, then closed once idle.
    tokio::time::timeout(BOUND, read_until_closed(&mut keep_alive))
        .await
        .expect("an idle keep-alive connection is closed within 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_idle_connections_are_all_closed_and_requests_still_served() {
    let server = start(config()).await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let (status, body) = request(server.addr, "GET", "/ping", "").await;
    assert_eq!((status, body.as_str()), (200, "pong"));
    let closed = futures_util::future::join_all(idle.iter_mut().map(read_until_closed));
    tokio::time::timeout(BOUND, closed)
        .await
        .expect("300 idle connections closed within 5 s");
    let (status, _) = request(server.addr, "GET", "/ping", "").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish_then_serve_returns() {
    let mut server = start(config()).await;
    let addr = server.addr;
    let in_flight = tokio::spawn(async move { request(addr, "GET", "/slow", "").await });
    server.started.notified().await;
    let _ = server.stop.take().map(|s| s.send(()));
    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status, body.as_str()), (200, "done"));
    let returned = tokio::time::timeout(BOUND, &mut server.done)
        .await
        .expect("serve returns within 5 s of the signal");
    assert!(returned.unwrap().is_ok());
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}
