//! WebSocket management: the management client against moto (which implements
//! `apigatewaymanagementapi`) and, for the 410 Gone moto cannot produce, lift-testing's
//! `FakeManagementApi`; broadcasts to a tenant over the in-process store; `$connect` behind an
//! auth layer recording the principal and tenant it sets.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use lift::websocket::sdk::config::{BehaviorVersion, Builder, Credentials, Region};
use lift::websocket::{
    self, broadcast, Connection, ConnectionStore, Management, ManagementError, MemoryConnectionStore,
};
use lift::{App, Context, Error, Principal, State, WebSocket};
use lift_testing::{events, FakeManagementApi, TestClient};

fn sdk_config() -> Builder {
    Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "lift-tests"))
}

fn moto() -> String {
    std::env::var("LIFT_TEST_MOTO_ENDPOINT")
        .expect("LIFT_TEST_MOTO_ENDPOINT is not set: run the tests with `bash scripts/test.sh`")
}

fn ctx() -> Context {
    Context::from_lambda(lambda_runtime::Context::default(), false)
}

fn event_ws(domain: &str, stage: &str) -> WebSocket {
    let mut ws = WebSocket::default();
    ws.domain_name = Some(domain.to_owned());
    ws.stage = Some(stage.to_owned());
    ws
}

fn conn(id: &str, tenant: Option<&str>) -> Connection {
    Connection::new(id, tenant.map(str::to_owned), None, Duration::from_secs(600))
}

#[tokio::test]
async fn moto_accepts_send_and_close_through_the_sdk() {
    let api = Management::from_conf(sdk_config())
        .endpoint_override(moto())
        .for_event(&ctx(), &event_ws("abcd.execute-api.us-east-1.amazonaws.com", "prod"))
        .unwrap();
    assert_eq!(api.endpoint(), moto());
    let id = format!("conn-{}=", fastrand_id());
    api.send(&id, b"hello".as_slice()).await.unwrap();
    api.close(&id).await.unwrap();
    // moto answers GetConnection with epoch numbers where the API's model (and API Gateway)
    // has ISO 8601 timestamps, which the SDK refuses: `info` is checked on the fake.
    match api.info(&id).await {
        Err(ManagementError::Failed {
            status: Some(200),
            message,
        }) => {
            assert!(message.contains("failed to parse"), "{message}")
        }
        other => panic!("moto's GetConnection answer changed: {other:?}"),
    }
}

#[tokio::test]
async fn moto_never_answers_gone_for_an_unknown_connection() {
    // What moto does, checked so the fake below stays justified: an id it has never seen is
    // created on first use, so post, get and delete all succeed; 410 needs the fake.
    let api = Management::from_conf(sdk_config())
        .endpoint_override(moto())
        .for_endpoint("https://unused.example/prod", None);
    let never_seen = format!("never-seen-{}", fastrand_id());
    assert_eq!(api.send(&never_seen, b"x".as_slice()).await, Ok(()));
    api.close(&never_seen).await.unwrap();
    assert_eq!(
        api.send(&never_seen, b"x".as_slice()).await,
        Ok(()),
        "still no 410 after a close"
    );
}

#[tokio::test]
async fn the_endpoint_is_the_events_domain_and_stage_with_one_client_per_endpoint() {
    let management = Management::from_conf(sdk_config()).timeout(Duration::from_millis(300));
    let api = management.for_event(&ctx(), &event_ws("127.0.0.1:9", "prod")).unwrap();
    assert_eq!(api.endpoint(), "https://127.0.0.1:9/prod");
    assert_eq!(management.cached_clients(), 0, "no client before the first call");
    for _ in 0..3 {
        let again = management.for_event(&ctx(), &event_ws("127.0.0.1:9", "prod")).unwrap();
        assert!(
            again.send("c1", b"x".as_slice()).await.is_err(),
            "nothing listens there"
        );
    }
    assert_eq!(
        management.cached_clients(),
        1,
        "built once, reused by later invocations"
    );
    let other = management.for_event(&ctx(), &event_ws("127.0.0.1:9", "dev")).unwrap();
    let _ = other.send("c1", b"x".as_slice()).await;
    assert_eq!(management.cached_clients(), 2);

    let mut no_stage = WebSocket::default();
    no_stage.domain_name = Some("abcd.execute-api.us-east-1.amazonaws.com".into());
    let err = management.for_event(&ctx(), &no_stage).unwrap_err();
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn gone_and_other_failures_are_told_apart() {
    let fake = FakeManagementApi::start().await.unwrap();
    fake.mark_gone("gone-1");
    fake.fail("busy-1", StatusCode::TOO_MANY_REQUESTS, "LimitExceededException");
    let api = Management::from_conf(sdk_config())
        .endpoint_override(fake.url())
        .for_endpoint("https://unused.example/prod", None);
    assert_eq!(api.send("gone-1", b"x".as_slice()).await, Err(ManagementError::Gone));
    match api.send("busy-1", b"x".as_slice()).await {
        Err(ManagementError::Failed {
            status: Some(429),
            message,
        }) => {
            assert!(message.contains("LimitExceededException"), "{message}")
        }
        other => panic!("expected a 429 failure, got {other:?}"),
    }
    assert_eq!(ManagementError::Gone.into_error().status(), StatusCode::GONE);
    api.send("ok-1", b"hi".as_slice()).await.unwrap();
    let info = api.info("ok-1").await.unwrap();
    assert_eq!(info.identity().and_then(|i| i.source_ip()), Some("127.0.0.1"));
    assert!(info.connected_at().is_some());
    api.close("ok-1").await.unwrap();
    assert_eq!(fake.receivers(), ["ok-1"]);
    assert_eq!(fake.closed(), ["ok-1"]);
}

#[tokio::test]
async fn a_broadcast_reaches_only_the_tenants_connections_and_forgets_the_gone_ones() {
    let fake = FakeManagementApi::start().await.unwrap();
    let store = MemoryConnectionStore::new();
    for c in [
        conn("acme-1", Some("acme")),
        conn("acme-2", Some("acme")),
        conn("acme-gone", Some("acme")),
        conn("acme-busy", Some("acme")),
        conn("globex-1", Some("globex")),
        conn("none-1", None),
    ] {
        store.put(&c).await.unwrap();
    }
    fake.mark_gone("acme-gone");
    fake.fail("acme-busy", StatusCode::TOO_MANY_REQUESTS, "LimitExceededException");
    let api = Management::from_conf(sdk_config())
        .endpoint_override(fake.url())
        .for_endpoint("https://unused.example/prod", None);

    let report = broadcast(&store, &api, Some("acme"), b"news").await.unwrap();
    assert_eq!(report.sent, 2);
    assert_eq!(report.gone, ["acme-gone"]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, "acme-busy");
    assert_eq!(
        fake.receivers(),
        ["acme-1", "acme-2"],
        "only acme's live connections received"
    );
    assert!(fake.posts().iter().all(|p| p.data == b"news"));
    assert_eq!(store.get("acme-gone").await.unwrap(), None, "410 removed it");
    assert!(store.get("acme-busy").await.unwrap().is_some(), "a throttled one stays");
    let mut left = store.tenant_connections(Some("acme")).await.unwrap();
    left.sort();
    assert_eq!(left, ["acme-1", "acme-2", "acme-busy"]);

    // One connection: a 410 removes it too.
    fake.mark_gone("globex-1");
    assert_eq!(
        websocket::send(&store, &api, "globex-1", b"x").await,
        Err(ManagementError::Gone)
    );
    assert_eq!(store.get("globex-1").await.unwrap(), None);
}

// --- `$connect` behind an auth layer -------------------------------------------------------

type Store = Arc<dyn ConnectionStore>;

/// A stand-in for the JWT layer: `Authorization: Bearer <tenant>:<subject>` sets the tenant
/// and principal on the invocation's context; anything else is a 401.
async fn test_auth(req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| t.split_once(':'))
        .map(|(t, s)| (t.to_owned(), s.to_owned()));
    let (Some((tenant, subject)), Some(ctx)) = (token, req.extensions().get::<Context>().cloned()) else {
        return Error::new(StatusCode::UNAUTHORIZED, "unauthorized", "a bearer token is required").into_response();
    };
    ctx.set_tenant(tenant).unwrap();
    ctx.set_principal(Principal::new(subject)).unwrap();
    next.run(req).await
}

async fn on_connect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<StatusCode, Error> {
    websocket::connect(&*store, &ctx, &ws).await?;
    Ok(StatusCode::OK)
}

async fn on_disconnect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<StatusCode, Error> {
    websocket::disconnect(&*store, &ctx, &ws).await?;
    Ok(StatusCode::OK)
}

fn connect_event(connection_id: &str, token: Option<&str>) -> serde_json::Value {
    let mut ev = events::websocket("$connect", connection_id, None);
    if let Some(t) = token {
        ev["headers"]["Authorization"] = format!("Bearer {t}").into();
        ev["multiValueHeaders"]["Authorization"] = serde_json::json!([format!("Bearer {t}")]);
    }
    ev
}

#[tokio::test]
async fn connect_behind_an_auth_layer_records_the_principal_and_tenant_it_set() {
    let memory = Arc::new(MemoryConnectionStore::new());
    let store: Store = memory.clone();
    let app = TestClient::new(
        App::new()
            .with_state(store)
            .websocket("$connect", on_connect.layer(from_fn(test_auth)))
            .websocket("$disconnect", on_disconnect)
            .build(),
    );

    let out = app.invoke(connect_event("c-1", Some("acme:user-1"))).await.unwrap();
    assert_eq!(out.status(), Some(200));
    let recorded = memory.get("c-1").await.unwrap().unwrap();
    assert_eq!(recorded.tenant.as_deref(), Some("acme"));
    assert_eq!(recorded.subject.as_deref(), Some("user-1"));
    assert!(recorded.expiration > 0);
    assert_eq!(memory.tenant_connections(Some("acme")).await.unwrap(), ["c-1"]);

    let refused = app.invoke(connect_event("c-2", None)).await.unwrap();
    assert_eq!(refused.status(), Some(401));
    assert_eq!(
        memory.get("c-2").await.unwrap(),
        None,
        "an unauthenticated connect records nothing"
    );

    let out = app.invoke(events::websocket("$disconnect", "c-1", None)).await.unwrap();
    assert_eq!(out.status(), Some(200));
    assert!(memory.is_empty());
    let again = app.invoke(events::websocket("$disconnect", "c-1", None)).await.unwrap();
    assert_eq!(again.status(), Some(200), "a repeated $disconnect is fine");
}

fn fastrand_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[tokio::test]
async fn a_management_call_ends_before_the_invocations_deadline() {
    // A port that accepts and never answers; the invocation has 300 ms left.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let mut lambda = lambda_runtime::Context::default();
    lambda.deadline = (std::time::SystemTime::now() + Duration::from_millis(300))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let ctx = Context::from_lambda(lambda, false);
    let api = Management::from_conf(sdk_config())
        .endpoint_override(url)
        .timeout(Duration::from_secs(10))
        .for_event(&ctx, &WebSocket::default())
        .unwrap();
    let started = std::time::Instant::now();
    match api.send("c1", b"x".as_slice()).await {
        Err(ManagementError::TimedOut { after }) => assert!(after <= Duration::from_millis(300), "{after:?}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(
        ManagementError::TimedOut { after: Duration::ZERO }
            .into_error()
            .status(),
        StatusCode::GATEWAY_TIMEOUT
    );
}
