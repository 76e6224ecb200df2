//! The quick start binary on the real `lambda_runtime` loop, driven over HTTP by the Runtime
//! API test server: a mix of HTTP and record events, a malformed payload, an unknown event and
//! a panicking route, in sequential and concurrent modes. Every invocation gets its own right
//! answer and the process survives.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Stdio;
use std::time::Duration;

use lift_testing::{events, Outcome, RuntimeApiServer};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

const LIMIT: Duration = Duration::from_secs(20);

fn spawn(server: &RuntimeApiServer, concurrency: Option<u32>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickstart"));
    cmd.env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    match concurrency {
        Some(n) => cmd.env("AWS_LAMBDA_MAX_CONCURRENCY", n.to_string()),
        None => cmd.env_remove("AWS_LAMBDA_MAX_CONCURRENCY"),
    };
    cmd.spawn().expect("spawn the quickstart binary")
}

/// What each kind of invocation must produce.
#[derive(Clone, Debug)]
enum Expect {
    Http(u16, Option<(&'static str, Value)>),
    Batch(Vec<&'static str>),
    Null,
    Error(&'static str),
}

fn mix(i: usize) -> Vec<(String, Expect)> {
    let name = format!("n{i}");
    vec![
        (
            events::apigw_v2("GET", &format!("/hello/{name}")).build().to_string(),
            Expect::Http(200, Some(("message", json!(format!("hello, {name}"))))),
        ),
        (
            events::apigw_v1("POST", "/orders")
                .json(&json!({"item": "book", "quantity": 2}))
                .build()
                .to_string(),
            Expect::Http(201, Some(("item", json!("book")))),
        ),
        (
            events::alb("POST", "/orders")
                .header("content-type", "application/json")
                .body("{oops")
                .build()
                .to_string(),
            Expect::Http(400, None),
        ),
        (
            events::function_url("POST", "/orders")
                .json(&json!({"item": "", "quantity": 5}))
                .build()
                .to_string(),
            Expect::Http(422, None),
        ),
        (
            events::apigw_v2("GET", "/health").build().to_string(),
            Expect::Http(200, Some(("status", json!("ok")))),
        ),
        (
            events::apigw_v2("GET", "/nowhere").build().to_string(),
            Expect::Http(404, None),
        ),
        (
            events::apigw_v2("DELETE", "/health").build().to_string(),
            Expect::Http(405, None),
        ),
        (
            events::apigw_v2("GET", "/panic").build().to_string(),
            Expect::Http(500, None),
        ),
        (
            events::websocket("$default", "conn-1", Some("hi")).to_string(),
            Expect::Http(200, Some(("echo", json!("hi")))),
        ),
        (
            events::sqs("orders")
                .message(r#"{"a":1}"#)
                .message(r#"{"fail":true}"#)
                .message("{}")
                .build()
                .to_string(),
            Expect::Batch(vec!["msg-1"]),
        ),
        (
            events::kinesis("clicks")
                .record(br#"{"fail":true}"#)
                .record(b"{}")
                .build()
                .to_string(),
            Expect::Batch(vec!["49590338271490256608559692538361571095921575989136580000"]),
        ),
        (
            events::dynamodb("Orders")
                .insert(&json!({"id": "1"}), &json!({"id": "1"}))
                .build()
                .to_string(),
            Expect::Batch(vec![]),
        ),
        (events::sns("alerts", "hello").to_string(), Expect::Null),
        (
            events::s3("ObjectCreated:Put", "bucket", "key").to_string(),
            Expect::Null,
        ),
        (events::schedule("nightly").to_string(), Expect::Null),
        (
            events::eventbridge("com.acme", "Thing", json!({})).to_string(),
            Expect::Null,
        ),
        (
            r#"{"unknown": "shape"}"#.to_owned(),
            Expect::Error("Lift.unknown_event"),
        ),
        ("{this is not json".to_owned(), Expect::Error("DeserializeError")),
    ]
}

fn check(what: &str, outcome: &Outcome, expect: &Expect) {
    match expect {
        Expect::Http(status, field) => {
            let v = outcome
                .json()
                .unwrap_or_else(|| panic!("{what}: no JSON response: {outcome:?}"));
            assert_eq!(v["statusCode"], *status, "{what}: {v}");
            let body: Value = serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
            if let Some((k, want)) = field {
                assert_eq!(&body[*k], want, "{what}: {v}");
            }
            if *status >= 400 {
                assert!(
                    body["error"]["code"].is_string(),
                    "{what}: error body without code: {v}"
                );
                assert!(
                    body["error"]["request_id"].is_string(),
                    "{what}: error body without request id: {v}"
                );
            }
            if *status == 500 {
                assert!(
                    !v["body"].as_str().unwrap_or("").contains("on purpose"),
                    "{what}: panic message leaked"
                );
            }
        }
        Expect::Batch(ids) => {
            let v = outcome
                .json()
                .unwrap_or_else(|| panic!("{what}: no JSON response: {outcome:?}"));
            let got: Vec<&str> = v["batchItemFailures"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f["itemIdentifier"].as_str()).collect())
                .unwrap_or_default();
            assert_eq!(&got, ids, "{what}: {v}");
        }
        Expect::Null => assert_eq!(outcome.json(), Some(Value::Null), "{what}: {outcome:?}"),
        Expect::Error(ty) => {
            let t = outcome
                .error_type()
                .unwrap_or_else(|| panic!("{what}: expected an error, got {outcome:?}"));
            assert!(t.contains(ty), "{what}: error type {t}");
        }
    }
}

async fn drive(concurrency: Option<u32>, rounds: usize) -> usize {
    let server = RuntimeApiServer::start().await.expect("runtime api");
    let mut child = spawn(&server, concurrency);
    let mut pending = Vec::new();
    for i in 0..rounds {
        for (n, (payload, expect)) in mix(i).into_iter().enumerate() {
            let inv = server.invoke(payload.clone());
            pending.push((
                format!("round {i} case {n}: {}", &payload[..payload.len().min(60)]),
                inv,
                expect,
            ));
        }
    }
    let total = pending.len();
    for (what, inv, expect) in pending {
        let outcome = inv.outcome(LIMIT).await;
        check(&what, &outcome, &expect);
    }
    // Still alive after panics, malformed and unknown events: one more invocation answers.
    let last = server
        .invoke(events::apigw_v2("GET", "/health").build().to_string())
        .outcome(LIMIT)
        .await;
    check("after everything", &last, &Expect::Http(200, None));
    assert!(
        child.try_wait().expect("child status").is_none(),
        "the function process exited"
    );
    assert_eq!(server.delivered(), total + 1);
    let max = server.max_in_flight();
    let _ = child.kill().await;
    max
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_mode_answers_every_invocation() {
    let max = drive(None, 3).await;
    assert_eq!(max, 1, "sequential mode must take one invocation at a time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mode_answers_every_invocation() {
    let max = drive(Some(8), 6).await;
    assert!(
        max > 1,
        "concurrent mode never had two invocations in flight (max {max})"
    );
}

/// Runs the binary against a Runtime API test server with `vars` set, and returns its exit
/// status, stdout, stderr and what it posted to `/runtime/init/error`.
async fn start_with(vars: &[(&str, &str)], remove: &[&str]) -> (bool, String, String, Vec<String>) {
    let server = RuntimeApiServer::start().await.unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickstart"));
    cmd.env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    for k in remove {
        cmd.env_remove(k);
    }
    let out = tokio::time::timeout(LIMIT, cmd.output())
        .await
        .expect("exits")
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        server.init_errors(),
    )
}

/// The configuration error must be one JSON line with `Lift.config`, posted to the init error
/// endpoint, with a failing exit and nothing on stderr (no panic, no Rust `Error: ..` dump).
fn assert_config_error(run: (bool, String, String, Vec<String>), names: &str) {
    let (ok, stdout, stderr, init_errors) = run;
    assert!(!ok, "the process must exit non-zero");
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {stdout}");
    let line: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["errorType"], "Lift.config", "{line}");
    assert_eq!(line["level"], "ERROR");
    assert!(line["errorMessage"].as_str().unwrap().contains(names), "{line}");
    assert_eq!(init_errors.len(), 1, "{init_errors:?}");
    let posted: Value = serde_json::from_str(&init_errors[0]).unwrap();
    assert_eq!(posted["errorType"], "Lift.config");
    assert!(posted["errorMessage"].as_str().unwrap().contains(names));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_lambda_environment_is_reported_as_a_config_error_not_a_panic() {
    let run = start_with(&[], &["AWS_LAMBDA_FUNCTION_NAME"]).await;
    assert_config_error(run, "AWS_LAMBDA_FUNCTION_NAME");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_observability_setting_is_reported_as_a_config_error() {
    let run = start_with(&[("POWERTOOLS_LOGGER_SAMPLE_RATE", "lots")], &[]).await;
    assert_config_error(run, "POWERTOOLS_LOGGER_SAMPLE_RATE");
    let run = start_with(&[("AWS_XRAY_DAEMON_ADDRESS", "not an address")], &[]).await;
    assert_config_error(run, "AWS_XRAY_DAEMON_ADDRESS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_stdout_even_at_trace_level() {
    let server = RuntimeApiServer::start().await.unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let event = events::apigw_v2("POST", "/orders")
        .header("authorization", "Bearer SECRET-TOKEN-1")
        .header("cookie", "session=SECRET-COOKIE-2")
        .header("x-api-key", "SECRET-KEY-3")
        .json(&json!({"item": "book", "quantity": 1}))
        .build()
        .to_string();
    let outcome = server.invoke(event).outcome(LIMIT).await;
    assert_eq!(outcome.json().unwrap()["statusCode"], 201, "{outcome:?}");
    let _ = child.start_kill();
    let out = child.wait_with_output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let levels: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        levels.iter().any(|l| l["level"] == "TRACE" || l["level"] == "DEBUG"),
        "the level really is TRACE: {text}"
    );
    for secret in ["SECRET-TOKEN-1", "SECRET-COOKIE-2", "SECRET-KEY-3"] {
        assert!(!text.contains(secret), "{secret} reached the output:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rate_limit_setting_is_reported_as_a_config_error() {
    for bad in ["0", "fast", "-5"] {
        let run = start_with(&[("QUICKSTART_RATE_LIMIT_PER_SECOND", bad)], &[]).await;
        assert_config_error(run, "QUICKSTART_RATE_LIMIT_PER_SECOND");
    }
}
