//! The quick start binary as a local server, used the way a hostile client or a careless shell
//! would: stdout piped and never read, stalled uploads, idle and slowloris connections, an SQS
//! batch with a record that does not decode, a panic, SIGTERM. Real processes, real sockets.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::{error_code, parse_response, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_stdout_that_nobody_reads_never_stalls_the_server() {
    let mut server = Server::start(&[("POWERTOOLS_LOG_LEVEL", "DEBUG")], Stdio::piped(), Stdio::null()).await;
    // Nobody reads stdout: a pipe holds 64 KiB, about a hundred requests' lines, and Lift's
    // queue 8,192 lines. Far more requests than both must all be answered. (Two lines each:
    // 6,000 requests overflow both however many of them the rate limit answers, which depends
    // on the machine's speed.)
    let stdout = server.child.stdout.take().unwrap();
    for i in 0..6000 {
        let (status, body) = server.get(&format!("/hello/n{i}")).await;
        // 429 once the default stack's 1000/s limit is reached: an answer all the same.
        assert!(status == 200 || status == 429, "request {i}: {status} {body}");
    }
    // Now read it: the lines queued and the notice of those dropped come out, and SIGTERM
    // flushes what is queued before the process exits.
    let reader = tokio::spawn(async move {
        let mut out = String::new();
        let mut stdout = stdout;
        stdout.read_to_string(&mut out).await.unwrap();
        out
    });
    let status = server.terminate().await;
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
    let out = reader.await.unwrap();
    let lines: Vec<Value> = out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(lines.len() > 100, "queued lines were written: {}", lines.len());
    assert!(
        out.lines().any(|l| l.contains("dropped")),
        "a line says how many lines were dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_batch_with_one_undecodable_record_fails_only_that_record() {
    let server = Server::start(&[], Stdio::null(), Stdio::null()).await;
    let mut ev: Value = serde_json::from_str(include_str!("../events/sqs.json")).unwrap();
    let records = ev["Records"].as_array_mut().unwrap();
    let mut bad = records[0].clone();
    bad["messageId"] = json!("msg-bad");
    bad["messageAttributes"] = json!({"blob": {"binaryValue": "%% not base64 %%", "dataType": "Binary"}});
    records.push(bad);
    let body = ev.to_string();
    let (status, out) = server
        .post_json("/2015-03-31/functions/function/invocations", &body)
        .await;
    assert_eq!(status, 200);
    let out: Value = serde_json::from_str(&out).unwrap();
    let mut ids: Vec<&str> = out["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    // msg-2 asks to fail (the event file's own failure), msg-bad does not decode.
    assert_eq!(ids, vec!["msg-2", "msg-bad"], "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_one_json_line_on_stdout_and_nothing_on_stderr() {
    let mut server = Server::start(&[], Stdio::piped(), Stdio::piped()).await;
    let (status, body) = server.get("/panic").await;
    assert_eq!(status, 500);
    assert_eq!(error_code(&body), "panic");
    let (status, _) = server.get("/health").await;
    assert_eq!(status, 200, "the process keeps serving");
    let mut stdout = server.child.stdout.take().unwrap();
    let mut stderr = server.child.stderr.take().unwrap();
    let status = server.terminate().await;
    assert!(status.success());
    let (mut out, mut err) = (String::new(), String::new());
    stdout.read_to_string(&mut out).await.unwrap();
    stderr.read_to_string(&mut err).await.unwrap();
    assert!(err.trim().is_empty(), "nothing on stderr: {err}");
    let panics: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["code"] == "panic")
        .collect();
    assert_eq!(panics.len(), 1, "{out}");
    assert_eq!(panics[0]["route"], "/panic");
    assert!(panics[0]["function_request_id"].is_string());
    assert!(!out.contains(".rs:"), "no source paths: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correlation_id_that_could_forge_logs_is_replaced_not_echoed() {
    let server = Server::start(&[], Stdio::null(), Stdio::null()).await;
    let long = "x".repeat(300);
    let mut s = server.connect().await;
    let req = format!("GET /health HTTP/1.1\r\nHost: x\r\nx-correlation-id: {long}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(!text.contains(&long), "the long id is not echoed");
    let echoed = text
        .lines()
        .find_map(|l| l.strip_prefix("x-correlation-id: "))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let request_id = text
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert_eq!(echoed, request_id, "replaced by the request id");
}

/// Reads until the peer closes (or `limit` passes); what was read.
async fn read_until_closed(mut s: TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    match tokio::time::timeout(limit, s.read_to_end(&mut buf)).await {
        Ok(_) => Some(buf),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_and_idle_connections_neither_block_routes_nor_stay_open() {
    let server = Server::start(
        &[("LIFT_HEADER_TIMEOUT_SECS", "1"), ("LIFT_BODY_TIMEOUT_SECS", "1")],
        Stdio::null(),
        Stdio::null(),
    )
    .await;
    // 20 uploads that announce 1000 bytes, send 10 and stall.
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut s = server.connect().await;
        s.write_all(
            b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"item\":\"",
        )
        .await
        .unwrap();
        stalled.push(s);
    }
    // 500 connections that never send a byte, and 20 that trickle half a header.
    let mut idle = Vec::new();
    for _ in 0..500 {
        idle.push(server.connect().await);
    }
    for _ in 0..20 {
        let mut s = server.connect().await;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        idle.push(s);
    }
    // Meanwhile every route answers at once, and /orders' breaker stays closed.
    for i in 0..20 {
        let (status, body) = server.get(&format!("/hello/u{i}")).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = server.post_json("/orders", r#"{"item":"book","quantity":1}"#).await;
        assert_eq!(status, 201, "{body}");
    }
    // Each stalled upload gets 408 JSON once its body timeout passes.
    for s in stalled {
        let buf = read_until_closed(s, Duration::from_secs(5))
            .await
            .expect("answered and closed");
        let (status, body) = parse_response(&buf);
        assert_eq!(status, 408, "{body}");
        assert_eq!(error_code(&body), "request_timeout");
    }
    // Idle and slowloris connections are closed by the server.
    let closed = futures_closed(idle).await;
    assert_eq!(closed, 520, "every idle or half-sent connection is closed within 5 s");
    let (status, _) = server.post_json("/orders", r#"{"item":"pen","quantity":3}"#).await;
    assert_eq!(status, 201, "still serving, breaker closed");
    assert!(server.terminate().await.success());
}

/// How many of `conns` the server closes within 5 s.
async fn futures_closed(conns: Vec<TcpStream>) -> usize {
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|s| tokio::spawn(read_until_closed(s, Duration::from_secs(5))))
        .collect();
    let mut closed = 0;
    for t in tasks {
        if t.await.unwrap().is_some() {
            closed += 1;
        }
    }
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_wide_rate_limit_follows_its_setting() {
    let server = Server::start(
        &[("QUICKSTART_RATE_LIMIT_PER_SECOND", "5")],
        Stdio::null(),
        Stdio::null(),
    )
    .await;
    let mut admitted = 0;
    let mut limited = 0;
    for i in 0..30 {
        match server.get(&format!("/hello/n{i}")).await {
            (200, _) => admitted += 1,
            (429, body) => {
                assert_eq!(error_code(&body), "rate_limited", "{body}");
                limited += 1;
            }
            (status, body) => panic!("request {i}: {status} {body}"),
        }
    }
    // A burst of 5 (less the start-up probe's request), plus at most a few refilled while 30
    // requests go by on a slow machine; with the default 1000/s none would be refused.
    assert!((3..=10).contains(&admitted), "admitted {admitted}");
    assert_eq!(admitted + limited, 30);
}
