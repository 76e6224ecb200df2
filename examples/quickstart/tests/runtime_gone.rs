//! The Runtime API going away mid-run: the quick start answers what it was given, then stops
//! with one `Lift.runtime` line and a failing exit, without a panic and without posting an init
//! error (Lambda takes those only during init).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Stdio;
use std::time::Duration;

use lift_testing::{events, VanishingRuntimeApi};
use serde_json::Value;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_api_that_vanishes_after_an_invocation_stops_the_function_as_a_runtime_error() {
    let event = events::apigw_v2("GET", "/health").build().to_string();
    let api = VanishingRuntimeApi::start(vec![event]).await.unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("the function exits once the Runtime API is gone")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);

    let responses = api.responses();
    assert_eq!(responses.len(), 1, "{responses:?}");
    let answer: Value = serde_json::from_str(&responses[0]).unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");

    assert!(!out.status.success(), "a failing exit");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    let lines: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        lines.iter().any(|l| l["route"] == "/health" && l["status"] == 200),
        "the invocation's summary: {stdout}"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["errorType"], "Lift.runtime", "{stdout}");
    assert_eq!(last["message"], "the function stopped", "{stdout}");
    assert!(!stdout.contains("could not start"), "{stdout}");
    assert!(
        !stdout.contains("init error"),
        "nothing tried to post an init error: {stdout}"
    );
    assert!(api.init_errors().is_empty());
}
