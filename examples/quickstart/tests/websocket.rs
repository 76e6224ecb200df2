//! The quick start's WebSocket contract, run as a user would: `$connect` records the
//! connection (in memory, or in `LIFT_TABLE` on moto shared by every process), `$disconnect`
//! removes it, `$default` still echoes, and `broadcast` reaches every connection of the
//! sender's tenant and no other, forgetting those that answer 410 Gone.
//!
//! The management API is lift-testing's `FakeManagementApi` (named for what it is: moto accepts
//! a post to any connection id, so it can neither answer 410 nor show who received what),
//! reached through `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{error_code, Server};
use lift_testing::{events, FakeManagementApi, RuntimeApiServer};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

const INVOKE: &str = "/2015-03-31/functions/function/invocations";

fn moto() -> String {
    std::env::var("LIFT_TEST_MOTO_ENDPOINT")
        .expect("LIFT_TEST_MOTO_ENDPOINT is not set: run the tests with `bash scripts/test.sh`")
}

/// What the SDK needs to sign a request; any value does for local endpoints.
const SIGNING: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", "us-east-1"),
];

fn broadcast_event(connection_id: &str, message: &str) -> Value {
    let body = json!({"action": "broadcast", "message": message}).to_string();
    events::websocket("broadcast", connection_id, Some(&body))
}

/// Invokes the local server with a raw event: `(statusCode, parsed body)`.
async fn invoke(server: &Server, event: Value) -> (u64, Value) {
    let (status, out) = server.post_json(INVOKE, &event.to_string()).await;
    assert_eq!(status, 200, "{out}");
    let out: Value = serde_json::from_str(&out).unwrap();
    let body = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    (out["statusCode"].as_u64().unwrap_or(0), body)
}

async fn connect(server: &Server, id: &str) {
    let (status, body) = invoke(server, events::websocket("$connect", id, None)).await;
    assert_eq!(status, 200, "$connect {id}: {body}");
}

fn received(fake: &FakeManagementApi, from: usize) -> Vec<(String, Value)> {
    let mut got: Vec<(String, Value)> = fake.posts()[from..]
        .iter()
        .map(|p| (p.connection_id.clone(), serde_json::from_slice(&p.data).unwrap()))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_connect_broadcast_disconnect_and_gone_cleanup() {
    let fake = FakeManagementApi::start().await.unwrap();
    let url = fake.url();
    let mut vars = vec![("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", url.as_str())];
    vars.extend(SIGNING);
    let server = Server::start(&vars, Stdio::null(), Stdio::null()).await;

    connect(&server, "c1").await;
    connect(&server, "c2").await;
    let (status, body) = invoke(&server, events::websocket("$default", "c1", Some("hi"))).await;
    assert_eq!((status, &body["echo"]), (200, &json!("hi")), "$default keeps echoing");

    let (status, body) = invoke(&server, broadcast_event("c1", "hello all")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"sent": 2, "gone": [], "failed": 0}));
    let msg = json!({"from": "c1", "message": "hello all"});
    assert_eq!(received(&fake, 0), [("c1".into(), msg.clone()), ("c2".into(), msg)]);

    let (status, _) = invoke(&server, events::websocket("$disconnect", "c2", None)).await;
    assert_eq!(status, 200);
    let before = fake.posts().len();
    let (_, body) = invoke(&server, broadcast_event("c1", "after c2 left")).await;
    assert_eq!(body["sent"], 1, "{body}");
    assert_eq!(received(&fake, before).len(), 1);

    // c3 vanished without a $disconnect: the broadcast's 410 removes it.
    connect(&server, "c3").await;
    fake.mark_gone("c3");
    let (_, body) = invoke(&server, broadcast_event("c1", "who is there")).await;
    assert_eq!(body, json!({"sent": 1, "gone": ["c3"], "failed": 0}));
    let (status, body) = invoke(&server, broadcast_event("c3", "still here?")).await;
    assert_eq!(status, 409, "c3 is forgotten: {body}");
    assert_eq!(error_code(&body.to_string()), "not_connected");
    let (_, body) = invoke(&server, broadcast_event("c1", "again")).await;
    assert_eq!(body["gone"], json!([]), "nothing gone is sent to twice: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lift_table_every_process_reaches_every_connection() {
    let fake = FakeManagementApi::start().await.unwrap();
    let (moto, url) = (moto(), fake.url());
    let table = format!("quickstart-ws-{}", fastrand::u64(..));
    let mut vars = vec![
        ("LIFT_TABLE", table.as_str()),
        ("LIFT_CREATE_TABLE", "true"),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.as_str()),
        ("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", url.as_str()),
    ];
    vars.extend(SIGNING);
    let a = Server::start(&vars, Stdio::null(), Stdio::null()).await;
    let b = Server::start(&vars, Stdio::null(), Stdio::null()).await;

    connect(&a, "on-a").await;
    connect(&b, "on-b").await;
    let (status, body) = invoke(&b, broadcast_event("on-b", "fleet")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sent"], 2, "b reaches the connection a recorded: {body}");
    let ids: Vec<String> = received(&fake, 0).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["on-a", "on-b"]);

    let (status, _) = invoke(&a, events::websocket("$disconnect", "on-b", None)).await;
    assert_eq!(status, 200, "a forgets what b recorded");
    let (_, body) = invoke(&b, broadcast_event("on-a", "fewer")).await;
    assert_eq!(body["sent"], 1, "{body}");
}

fn spawn_on_runtime_api(server: &RuntimeApiServer, vars: &[(&str, &str)]) -> Child {
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
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn the quickstart binary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_only_the_senders_tenant() {
    // A tenant-isolated function on Lambda: each invocation names its tenant, which `$connect`
    // records; a broadcast goes to the sender's tenant only.
    let fake = FakeManagementApi::start().await.unwrap();
    let (moto, url) = (moto(), fake.url());
    let table = format!("quickstart-ws-{}", fastrand::u64(..));
    let mut vars = vec![
        ("LIFT_TABLE", table.as_str()),
        ("LIFT_CREATE_TABLE", "true"),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.as_str()),
        ("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", url.as_str()),
    ];
    vars.extend(SIGNING);
    let runtime = RuntimeApiServer::start().await.unwrap();
    let _child = spawn_on_runtime_api(&runtime, &vars);
    let invoke_as = |tenant: &str, event: Value| {
        runtime.invoke_for_tenant(
            event.to_string(),
            Duration::from_secs(20),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into(),
            Some(tenant.to_owned()),
        )
    };
    for (tenant, id) in [("acme", "acme-1"), ("acme", "acme-2"), ("globex", "globex-1")] {
        let out = invoke_as(tenant, events::websocket("$connect", id, None))
            .outcome(Duration::from_secs(30))
            .await;
        assert_eq!(out.json().unwrap()["statusCode"], 200, "{out:?}");
    }
    let out = invoke_as("acme", broadcast_event("acme-1", "acme only"))
        .outcome(Duration::from_secs(30))
        .await;
    let v = out.json().unwrap();
    assert_eq!(v["statusCode"], 200, "{v}");
    let ids: Vec<String> = received(&fake, 0).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["acme-1", "acme-2"], "globex-1 received nothing");

    let out = invoke_as("globex", broadcast_event("globex-1", "globex only"))
        .outcome(Duration::from_secs(30))
        .await;
    assert_eq!(out.json().unwrap()["statusCode"], 200);
    let ids: Vec<String> = received(&fake, 2).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["globex-1"]);
}
