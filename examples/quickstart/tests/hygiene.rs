//! The quick start binary as a black box: CORS for `QUICKSTART_CORS_ORIGINS`, the
//! security-headers preset on every answer, `/health/ready` with a moto of the test's own
//! (up, then killed), and credentials that never reach stdout at TRACE (local server and the
//! real `lambda_runtime` loop).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{free_port, Server};
use lift_testing::{events, RuntimeApiServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEFAULT_ORIGIN: &str = "https://app.example.com";

/// Status, lower-cased headers and body of one raw request (`Connection: close` added).
async fn exchange(server: &Server, head: &str) -> (u16, BTreeMap<String, String>, String) {
    let mut s = server.connect().await;
    let raw = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = BTreeMap::new();
    for (k, v) in lines.filter_map(|l| l.split_once(':')) {
        headers
            .entry(k.trim().to_ascii_lowercase())
            .and_modify(|have: &mut String| {
                have.push_str(", ");
                have.push_str(v.trim());
            })
            .or_insert_with(|| v.trim().to_owned());
    }
    (status, headers, body.to_owned())
}

fn preflight(path: &str, origin: &str) -> String {
    format!(
        "OPTIONS {path} HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, idempotency-key\r\n\r\n"
    )
}

fn assert_security_headers(h: &BTreeMap<String, String>, what: &str) {
    assert_eq!(
        h.get("x-content-type-options").map(String::as_str),
        Some("nosniff"),
        "{what}: {h:?}"
    );
    assert_eq!(h.get("x-frame-options").map(String::as_str), Some("DENY"), "{what}");
    assert!(h["strict-transport-security"].starts_with("max-age="), "{what}");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin", "{what}");
}

fn assert_no_cors(h: &BTreeMap<String, String>, what: &str) {
    let cors: Vec<&String> = h.keys().filter(|k| k.starts_with("access-control-")).collect();
    assert!(cors.is_empty(), "{what}: {cors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_for_the_default_origin_and_security_headers_on_every_answer() {
    let server = Server::start(&[], Stdio::null(), Stdio::null()).await;

    // A preflight to a route with no OPTIONS handler, answered before the rate limit & co.
    let (status, h, _) = exchange(&server, &preflight("/orders", DEFAULT_ORIGIN)).await;
    assert_eq!(status, 200, "{h:?}");
    assert_eq!(h["access-control-allow-origin"], DEFAULT_ORIGIN);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "600");
    assert!(h["access-control-allow-methods"].contains("POST"));
    assert!(h["access-control-allow-headers"].contains("idempotency-key"));
    assert_security_headers(&h, "preflight");

    let get = |path: &str, origin: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\r\n");
    for (path, want) in [("/hello/ada", 200), ("/nowhere", 404), ("/panic", 500)] {
        let (status, h, _) = exchange(&server, &get(path, DEFAULT_ORIGIN)).await;
        assert_eq!(status, want, "{path}");
        assert_eq!(h["access-control-allow-origin"], DEFAULT_ORIGIN, "{path}");
        assert!(h["access-control-expose-headers"].contains("x-request-id"), "{path}");
        assert!(
            h["access-control-expose-headers"].contains("idempotent-replayed"),
            "{path}"
        );
        assert_security_headers(&h, path);
    }
    // 405 and 422 too.
    let (status, h, _) = exchange(
        &server,
        &format!("DELETE /orders HTTP/1.1\r\nHost: x\r\nOrigin: {DEFAULT_ORIGIN}\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(h["access-control-allow-origin"], DEFAULT_ORIGIN);
    let body = r#"{"item": "", "quantity": 1}"#;
    let post = format!(
        "POST /orders HTTP/1.1\r\nHost: x\r\nOrigin: {DEFAULT_ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, h, _) = exchange(&server, &post).await;
    assert_eq!(status, 422);
    assert_eq!(h["access-control-allow-origin"], DEFAULT_ORIGIN);
    assert_security_headers(&h, "422");

    // Another origin: no CORS header; its preflight refused.
    let (status, h, body) = exchange(&server, &preflight("/orders", "https://evil.example.net")).await;
    assert_eq!(status, 403);
    assert_eq!(common::error_code(&body), "cors_origin_not_allowed");
    assert_no_cors(&h, "disallowed preflight");
    let (status, h, _) = exchange(&server, &get("/hello/ada", "https://evil.example.net")).await;
    assert_eq!(status, 200);
    assert_no_cors(&h, "disallowed GET");
    assert_security_headers(&h, "disallowed GET");
    // No Origin at all (curl, server to server): no CORS header either.
    let (_, h, _) = exchange(&server, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_no_cors(&h, "no origin");
    assert_security_headers(&h, "/health");
    server.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_origins_come_from_the_environment() {
    let vars = [(
        "QUICKSTART_CORS_ORIGINS",
        " http://localhost:5173 , https://shop.example.org",
    )];
    let server = Server::start(&vars, Stdio::null(), Stdio::null()).await;
    for origin in ["http://localhost:5173", "https://shop.example.org"] {
        let (status, h, _) = exchange(&server, &preflight("/orders", origin)).await;
        assert_eq!(status, 200, "{origin}");
        assert_eq!(h["access-control-allow-origin"], origin);
    }
    let (status, h, _) = exchange(&server, &preflight("/orders", DEFAULT_ORIGIN)).await;
    assert_eq!(status, 403, "the default is replaced, not extended");
    assert_no_cors(&h, "default origin");
    server.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_origin_list_fails_the_start_with_a_config_error() {
    for bad in [
        "app.example.com",
        "https://app.example.com/path",
        "https://*.example.com",
    ] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_quickstart"))
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env("PORT", free_port().to_string())
            .env("QUICKSTART_CORS_ORIGINS", bad)
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{bad}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
        assert_eq!(line["errorType"], "Lift.config", "{bad}: {line}");
        assert!(
            line["errorMessage"]
                .as_str()
                .unwrap()
                .contains("QUICKSTART_CORS_ORIGINS"),
            "{line}"
        );
        assert!(String::from_utf8_lossy(&out.stderr).trim().is_empty(), "no panic");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_without_a_table_has_no_check() {
    let server = Server::start(&[], Stdio::null(), Stdio::null()).await;
    let (status, h, body) = exchange(&server, "GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        serde_json::json!({"status": "ready", "checks": {}})
    );
    assert_eq!(h["cache-control"], "no-store");
    server.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_follows_the_table_200_while_moto_runs_then_503_once_it_is_killed() {
    let (mut moto, endpoint) = common::own_moto().await;
    let table = format!("quickstart-ready-{}", fastrand::u64(..));
    let vars = [
        ("LIFT_TABLE", table.as_str()),
        ("LIFT_CREATE_TABLE", "true"),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let server = Server::start(&vars, Stdio::null(), Stdio::null()).await;
    let ready = "GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n";
    let (status, _, body) = exchange(&server, ready).await;
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "ready");
    assert_eq!(report["checks"]["table"]["status"], "up");
    assert!(report["checks"]["table"]["latency_ms"].as_f64().unwrap() > 0.0);

    moto.kill().await.unwrap();
    // The last report is kept 2 s; then the check runs again and fails within its 1 s timeout.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let asked = Instant::now();
    let (status, h, body) = exchange(&server, ready).await;
    assert!(asked.elapsed() < Duration::from_secs(3), "{:?}", asked.elapsed());
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 503, "{report}");
    assert_eq!(report["status"], "not_ready");
    let check = &report["checks"]["table"];
    assert!(check["status"] == "down" || check["status"] == "timed_out", "{check}");
    assert!(check["latency_ms"].is_number());
    assert_security_headers(&h, "503");
    // Liveness is unaffected.
    let (status, body) = server.get("/health").await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    server.terminate().await;
}

const SECRETS: [&str; 4] = [
    "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig",
    "session=s3cr3t-cookie",
    "key-0987654321",
    "Basic dXNlcjpwYXNz",
];

fn assert_no_secret(stdout: &str) {
    assert!(stdout.lines().count() > 0, "the control: something was logged");
    for s in SECRETS
        .iter()
        .chain(["s3cr3t-cookie", "key-0987654321", "dXNlcjpwYXNz"].iter())
    {
        assert!(!stdout.contains(s), "{s:?} in stdout:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_reach_stdout_at_trace_on_the_local_server() {
    let vars = [("POWERTOOLS_LOG_LEVEL", "TRACE")];
    let mut server = Server::start(&vars, Stdio::piped(), Stdio::null()).await;
    let mut stdout = server.child.stdout.take().unwrap();
    let reader = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s).await;
        s
    });
    for path in ["/hello/ada", "/quota", "/nowhere", "/panic"] {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nCookie: {}\r\nx-api-key: {}\r\nProxy-Authorization: {}\r\nOrigin: {DEFAULT_ORIGIN}\r\n\r\n",
            SECRETS[0], SECRETS[1], SECRETS[2], SECRETS[3]
        );
        exchange(&server, &head).await;
    }
    server.terminate().await;
    assert_no_secret(&reader.await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_reach_stdout_at_trace_on_the_lambda_runtime_loop() {
    let api = RuntimeApiServer::start().await.unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("POWERTOOLS_LOG_LEVEL", "TRACE")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("LOG_LEVEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s).await;
        s
    });
    for (method, path) in [
        ("GET", "/hello/ada"),
        ("GET", "/quota"),
        ("POST", "/orders"),
        ("GET", "/panic"),
    ] {
        let event = events::apigw_v2(method, path)
            .header("authorization", SECRETS[0])
            .header("cookie", SECRETS[1])
            .header("x-api-key", SECRETS[2])
            .header("proxy-authorization", SECRETS[3])
            .body(r#"{"item": "tea", "quantity": 1}"#)
            .build();
        let out = api.invoke(event.to_string()).outcome(Duration::from_secs(20)).await;
        assert!(out.json().is_some(), "{out:?}");
    }
    let _ = child.kill().await;
    assert_no_secret(&reader.await.unwrap());
}
