//! The quick start binary as a local server, used the way a hostile client or a careless shell
//! would: stdout piped and never read, stalled uploads, idle and slowloris connections, an SQS
//! batch with a record that does not decode, a panic, SIGTERM. Real processes, real sockets.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A free loopback port (bound and released; the server binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts the quick start on a free port with `vars`, stdout and stderr as given, and waits
    /// until `/health` answers.
    async fn start(vars: &[(&str, &str)], stdout: Stdio, stderr: Stdio) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickstart"));
        cmd.env_remove("AWS_LAMBDA_RUNTIME_API")
            .env("PORT", port.to_string())
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn the quickstart binary");
        let server = Self { child, port };
        for _ in 0..200 {
            if let Ok((200, _)) = server.request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the local server did not come up on port {port}");
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).await.unwrap()
    }

    /// Sends one raw request (`Connection: close` is added) and reads the status and body.
    async fn request(&self, head_and_body: &str) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).await?;
        let raw = head_and_body.replacen("\r\n", "\r\nConnection: close\r\n", 1);
        s.write_all(raw.as_bytes()).await?;
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("no answer within 10 s"))??;
        Ok(parse_response(&buf))
    }

    async fn get(&self, path: &str) -> (u16, String) {
        self.request(&format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"))
            .await
            .unwrap()
    }

    async fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
        .unwrap()
    }

    /// Sends SIGTERM and waits for the process to exit.
    async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        assert!(killed.success());
        tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("the server exits after SIGTERM")
            .unwrap()
    }
}

fn parse_response(buf: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(buf);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

fn error_code(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap_or(Value::Null)["error"]["code"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_stdout_that_nobody_reads_never_stalls_the_server() {
    let mut server = Server::start(&[("POWERTOOLS_LOG_LEVEL", "DEBUG")], Stdio::piped(), Stdio::null()).await;
    // Nobody reads stdout: a pipe holds 64 KiB, about a hundred requests' lines, and Lift's
    // queue 8,192 lines. Far more requests than both must all be answered.
    let stdout = server.child.stdout.take().unwrap();
    for i in 0..4000 {
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
