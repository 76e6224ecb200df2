//! The quick start with `LIFT_APPCONFIG`, as a user runs it: a loopback server stands in for
//! the AppConfig Lambda extension; a new document changes `/quota`'s limit and the log level
//! of later invocations without a restart; a bad document keeps the last good one with one
//! error line.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use lift_testing::ExtensionServer;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

async fn quota(server: &Server, key: &str) -> (u16, Value) {
    let (status, body) = server
        .request(&format!("GET /quota HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\n\r\n"))
        .await
        .unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Collects the server's stdout lines as they come.
fn collect(server: &mut Server) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = server.child.stdout.take().unwrap();
    let l = lines.clone();
    tokio::spawn(async move {
        let mut r = BufReader::new(out).lines();
        while let Ok(Some(line)) = r.next_line().await {
            l.lock().unwrap().push(line);
        }
    });
    lines
}

fn count(lines: &Mutex<Vec<String>>, pred: impl Fn(&Value) -> bool) -> usize {
    lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| pred(v))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appconfig_document_changes_the_quota_and_the_log_level_without_a_restart() {
    let ext = ExtensionServer::start().await.unwrap();
    ext.appconfig("shop", "prod", "main", "{}");
    let port = ext.port().to_string();
    let mut server = Server::start(
        &[
            ("LIFT_APPCONFIG", "shop/prod/main"),
            ("AWS_APPCONFIG_EXTENSION_HTTP_PORT", &port),
            ("LIFT_CONFIG_POLL_SECONDS", "0.2"),
            ("POWERTOOLS_SERVICE_NAME", "shop"),
            ("POWERTOOLS_LOG_LEVEL", "INFO"),
        ],
        Stdio::piped(),
        Stdio::null(),
    )
    .await;
    let lines = collect(&mut server);
    let pid = server.child.id();
    let path = ExtensionServer::appconfig_path("shop", "prod", "main");

    // The default: 20 per minute, INFO.
    assert_eq!(
        quota(&server, "first").await,
        (200, serde_json::json!({"remaining": 19}))
    );
    let debug_lines =
        |lines: &Mutex<Vec<String>>| count(lines, |v| v["message"] == "quota answered" && v["level"] == "DEBUG");
    assert_eq!(debug_lines(&lines), 0, "INFO hides DEBUG lines");

    ext.appconfig(
        "shop",
        "prod",
        "main",
        r#"{"quota_per_minute": 5, "log_level": "DEBUG"}"#,
    );
    let changed = Instant::now();
    loop {
        let (status, body) = quota(&server, &format!("probe-{}", changed.elapsed().as_micros())).await;
        assert_eq!(status, 200);
        if body["remaining"] == 4 {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(3),
            "the new limit did not apply within a poll: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 0..5 {
        assert_eq!(
            quota(&server, "second").await.0,
            200,
            "call {i} within the new limit of 5"
        );
    }
    assert_eq!(
        quota(&server, "second").await.0,
        429,
        "the sixth call in the minute is refused"
    );
    assert!(
        debug_lines(&lines) >= 6,
        "later invocations log at DEBUG: {:?}",
        lines.lock().unwrap()
    );
    assert_eq!(server.child.id(), pid, "no restart");

    // A document with an unknown key keeps the last good settings, with one error line.
    let polls_before = ext.calls(&path);
    ext.appconfig("shop", "prod", "main", r#"{"quota_per_minut": 50}"#);
    while ext.calls(&path) < polls_before + 4 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let errors = count(&lines, |v| {
        v["level"] == "ERROR"
            && v["message"]
                .as_str()
                .is_some_and(|m| m.contains("configuration poll failed"))
    });
    assert_eq!(
        errors,
        1,
        "one error line for the bad document, however often it is polled: {:?}",
        lines.lock().unwrap()
    );
    let (status, body) = quota(&server, "third").await;
    assert_eq!(
        (status, body["remaining"].clone()),
        (200, serde_json::json!(4)),
        "the limit of 5 stays"
    );

    // A 500 from the extension: the same, one more error line.
    ext.reply(&path, lift_testing::Reply::Status(500));
    let polls_before = ext.calls(&path);
    while ext.calls(&path) < polls_before + 3 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let errors = count(&lines, |v| {
        v["level"] == "ERROR"
            && v["message"]
                .as_str()
                .is_some_and(|m| m.contains("configuration poll failed"))
    });
    assert_eq!(errors, 2);
    assert_eq!(quota(&server, "fourth").await.1["remaining"], 4);
    let _ = server.terminate().await;
}

/// Runs the binary locally with `vars` until it exits (it must, on a configuration error).
async fn run_to_exit(vars: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_quickstart"));
    cmd.env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("PORT", common::free_port().to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(20), cmd.output())
        .await
        .expect("a configuration error ends the process")
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_configuration_variable_fails_the_start_with_a_config_error() {
    for (vars, names) in [
        (vec![("LIFT_APPCONFIG", "shop/prod")], "LIFT_APPCONFIG"),
        (
            vec![
                ("LIFT_APPCONFIG", "shop/prod/main"),
                ("LIFT_CONFIG_POLL_SECONDS", "soon"),
            ],
            "LIFT_CONFIG_POLL_SECONDS",
        ),
        (
            vec![("LIFT_APPCONFIG", "shop/prod/main"), ("LIFT_CONFIG_TIMEOUT_MS", "-1")],
            "LIFT_CONFIG_TIMEOUT_MS",
        ),
        (
            vec![
                ("LIFT_APPCONFIG", "shop/prod/main"),
                ("AWS_APPCONFIG_EXTENSION_HTTP_PORT", "99999"),
            ],
            "AWS_APPCONFIG_EXTENSION_HTTP_PORT",
        ),
    ] {
        let (ok, stdout) = run_to_exit(&vars).await;
        assert!(!ok, "{vars:?}: exits non-zero");
        let line: Value = serde_json::from_str(stdout.lines().next().unwrap_or("")).unwrap_or(Value::Null);
        assert_eq!(line["errorType"], "Lift.config", "{vars:?}: {stdout}");
        assert!(
            line["errorMessage"].as_str().unwrap_or("").contains(names),
            "{vars:?}: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_extension_at_start_keeps_the_environments_quota() {
    // Nothing listens on the port: the server starts anyway, logs one error, and serves with
    // QUICKSTART_QUOTA_PER_MINUTE until a document arrives.
    let port = common::free_port().to_string();
    let mut server = Server::start(
        &[
            ("LIFT_APPCONFIG", "shop/prod/main"),
            ("AWS_APPCONFIG_EXTENSION_HTTP_PORT", &port),
            ("LIFT_CONFIG_POLL_SECONDS", "0.1"),
            ("QUICKSTART_QUOTA_PER_MINUTE", "3"),
        ],
        Stdio::piped(),
        Stdio::null(),
    )
    .await;
    let lines = collect(&mut server);
    for _ in 0..3 {
        assert_eq!(quota(&server, "k").await.0, 200);
    }
    assert_eq!(quota(&server, "k").await.0, 429);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let errors = count(&lines, |v| {
        v["level"] == "ERROR" && v["error"].as_str().is_some_and(|e| e.contains("unreachable"))
    });
    assert_eq!(
        errors,
        1,
        "one line for a source that stays unreachable: {:?}",
        lines.lock().unwrap()
    );
    let _ = server.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appconfig_document_tunes_the_routes_circuit_breaker() {
    let ext = ExtensionServer::start().await.unwrap();
    ext.appconfig("shop", "prod", "main", "{}");
    let port = ext.port().to_string();
    let server = Server::start(
        &[
            ("LIFT_APPCONFIG", "shop/prod/main"),
            ("AWS_APPCONFIG_EXTENSION_HTTP_PORT", &port),
            ("LIFT_CONFIG_POLL_SECONDS", "0.2"),
        ],
        Stdio::null(),
        Stdio::null(),
    )
    .await;
    // The built breaker needs 10 calls before it judges: 5 failures leave it closed.
    let (status, _) = server.get("/flaky?fail=5").await;
    assert_eq!(status, 500);
    for _ in 0..4 {
        assert_eq!(
            server.get("/flaky").await.0,
            500,
            "closed: every call reaches the handler"
        );
    }
    assert_eq!(server.get("/flaky").await.0, 200, "the counter spent, still closed");

    // A document lowers the minimum to 2 calls at 50 %: the same failures now open it.
    ext.appconfig(
        "shop",
        "prod",
        "main",
        r#"{"breaker": {"minimum_calls": 2, "failure_rate_threshold": 50}}"#,
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, _) = server.get("/flaky?fail=3&reset=true").await;
    assert_eq!(status, 500);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(server.get("/flaky").await.0);
    }
    assert!(
        statuses.contains(&503),
        "with the tuned thresholds the circuit opens within a few failures: {statuses:?}"
    );
    let (status, body) = server.get("/hello/x").await;
    assert_eq!(status, 200, "other routes unaffected: {body}");
}
