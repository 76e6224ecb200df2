//! The quick start's VPC Lattice and Kafka contract, on the real `lambda_runtime` loop driven
//! by the Runtime API test server: `GET /hello/{name}` through Lattice v1 and v2 events answers
//! 200 in Lattice's response shape; Kafka records from any topic succeed, and a record whose
//! value is JSON with `"fail": true` makes the invocation an error (the batch is redelivered).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use lift_testing::{Outcome, RuntimeApiServer};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

const LIMIT: Duration = Duration::from_secs(20);

fn spawn(server: &RuntimeApiServer) -> Child {
    Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .env_remove("LIFT_TABLE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the quickstart binary")
}

fn event(name: &str) -> Value {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn kafka(source: &str, topic: &str, values: &[&str]) -> Value {
    let records: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({"topic": topic, "partition": 0, "offset": i, "timestamp": 1_764_480_000_000i64,
                   "timestampType": "CREATE_TIME", "key": null, "value": b64(v), "headers": []})
        })
        .collect();
    json!({"eventSource": source, "records": {format!("{topic}-0"): records}})
}

async fn outcome(server: &RuntimeApiServer, event: &Value) -> Outcome {
    server.invoke(event.to_string()).outcome(LIMIT).await
}

fn assert_lattice_hello(outcome: &Outcome, name: &str) {
    let v = outcome
        .json()
        .unwrap_or_else(|| panic!("no JSON response: {outcome:?}"));
    assert_eq!(v["statusCode"], 200, "{v}");
    assert_eq!(v["statusDescription"], "200 OK", "{v}");
    assert_eq!(v["isBase64Encoded"], false, "{v}");
    assert_eq!(v["headers"]["content-type"], "application/json", "{v}");
    assert!(
        v.get("multiValueHeaders").is_none() && v.get("cookies").is_none(),
        "{v}"
    );
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["message"], format!("hello, {name}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lattice_and_kafka_on_the_runtime_loop() {
    let server = RuntimeApiServer::start().await.unwrap();
    let mut child = spawn(&server);

    // VPC Lattice v2 (the file the README's curl example posts) and v1.
    assert_lattice_hello(&outcome(&server, &event("lattice-v2-hello.json")).await, "lattice");
    let v1 = json!({"raw_path": "/hello/v1", "method": "GET", "headers": {"accept": "*/*"},
                    "query_string_parameters": {}, "body": null, "is_base64_encoded": false});
    assert_lattice_hello(&outcome(&server, &v1).await, "v1");
    let mut missing = event("lattice-v2-hello.json");
    missing["path"] = json!("/nowhere");
    let v = outcome(&server, &missing).await.json().unwrap();
    assert_eq!(v["statusCode"], 404, "{v}");
    assert_eq!(v["statusDescription"], "404 Not Found", "{v}");

    // Kafka: any topic, any value, MSK or self-managed: success (`null`).
    for (source, topic, values) in [
        ("aws:kafka", "orders", &[r#"{"item":"book"}"#, "plain text"][..]),
        ("SelfManagedKafka", "audit-log", &[r#"{"fail":false}"#, "[1,2]"][..]),
    ] {
        let o = outcome(&server, &kafka(source, topic, values)).await;
        assert_eq!(o.json(), Some(Value::Null), "{source} {topic}: {o:?}");
    }

    // `"fail": true` fails the invocation: an error to the Runtime API, never an acknowledgement.
    let o = outcome(&server, &event("kafka.json")).await;
    assert_eq!(o.error_type(), Some("Lift.handler_failed"), "{o:?}");
    match &o {
        Outcome::Error { error_message, .. } => assert!(error_message.contains("orders-0@42"), "{error_message}"),
        other => panic!("{other:?}"),
    }
    let o = outcome(&server, &kafka("SelfManagedKafka", "any", &[r#"{"fail": true}"#])).await;
    assert_eq!(o.error_type(), Some("Lift.handler_failed"), "{o:?}");

    // A batch that does not decode is an error too; the process keeps serving afterwards.
    let mut bad = kafka("aws:kafka", "orders", &["{}"]);
    bad["records"]["orders-0"][0]["value"] = json!("%%% not base64");
    let o = outcome(&server, &bad).await;
    assert_eq!(o.error_type(), Some("Lift.handler_failed"), "{o:?}");
    assert_lattice_hello(&outcome(&server, &event("lattice-v2-hello.json")).await, "lattice");

    assert!(child.try_wait().unwrap().is_none(), "the process is still running");
    child.kill().await.unwrap();
}
