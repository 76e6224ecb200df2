//! JWT, tenancy and WebSocket together, black box: with `QUICKSTART_JWT_SECRET` set, the tenant
//! of a verified token is the invocation's tenant (in `/me`'s log lines), `$connect` needs a
//! token, and a connection is recorded under its token's tenant, so a broadcast reaches only
//! the sender's tenant.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use common::Server;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use lift_testing::{events, FakeManagementApi};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

const SECRET: &str = "quickstart identity test secret, 32+ bytes";
const INVOKE: &str = "/2015-03-31/functions/function/invocations";

fn token(sub: &str, tenant: &str) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 600;
    encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": sub, "tenant_id": tenant, "exp": exp}),
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A WebSocket event with `Authorization: Bearer {token}` when given.
fn ws_event(route: &str, id: &str, body: Option<&str>, token: Option<&str>) -> Value {
    let mut ev = events::websocket(route, id, body);
    if let Some(t) = token {
        ev["headers"]["Authorization"] = json!(format!("Bearer {t}"));
        ev["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {t}")]);
    }
    ev
}

async fn invoke(server: &Server, event: Value) -> (u64, Value) {
    let (status, out) = server.post_json(INVOKE, &event.to_string()).await;
    assert_eq!(status, 200, "{out}");
    let out: Value = serde_json::from_str(&out).unwrap();
    let body = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    (out["statusCode"].as_u64().unwrap_or(0), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_tenant_scopes_me_connect_and_broadcast() {
    let fake = FakeManagementApi::start().await.unwrap();
    let url = fake.url();
    let vars = [
        ("QUICKSTART_JWT_SECRET", SECRET),
        ("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", url.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let mut server = Server::start(&vars, Stdio::piped(), Stdio::null()).await;
    let stdout = server.child.stdout.take().unwrap();

    // `/me`: the claim's tenant is the invocation's tenant.
    let acme = token("alice", "acme");
    let raw = format!("GET /me HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {acme}\r\n\r\n");
    let (status, body) = server.request(&raw).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"sub": "alice", "tenant": "acme"})
    );

    // `$connect` needs a token; connections are recorded under their token's tenant.
    let (status, body) = invoke(&server, ws_event("$connect", "anon", None, None)).await;
    assert_eq!(status, 401, "no token, no connection: {body}");
    let globex = token("bob", "globex");
    for (id, t) in [("a1", &acme), ("a2", &acme), ("g1", &globex)] {
        let (status, body) = invoke(&server, ws_event("$connect", id, None, Some(t))).await;
        assert_eq!(status, 200, "$connect {id}: {body}");
    }
    let msg = json!({"action": "broadcast", "message": "hi acme"}).to_string();
    let (status, body) = invoke(&server, ws_event("broadcast", "a1", Some(&msg), None)).await;
    assert_eq!((status, &body["sent"]), (200, &json!(2)), "{body}");
    let mut to: Vec<String> = fake.posts().iter().map(|p| p.connection_id.clone()).collect();
    to.sort();
    assert_eq!(to, ["a1", "a2"], "only acme's connections receive acme's broadcast");
    let (status, _) = invoke(&server, ws_event("broadcast", "anon", Some(&msg), None)).await;
    assert_eq!(status, 409, "the refused connection was never recorded");

    let reader = tokio::spawn(async move {
        let mut out = String::new();
        let mut stdout = stdout;
        stdout.read_to_string(&mut out).await.unwrap();
        out
    });
    assert!(server.terminate().await.success());
    let out = reader.await.unwrap();
    let me_summary = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["route"] == "/me" && l["message"] == "request completed")
        .unwrap_or_else(|| panic!("no summary line for /me: {out}"));
    assert_eq!(me_summary["tenant_id"], "acme", "{me_summary}");
    assert!(!out.contains(&acme), "the token never reaches a log line");
}
