//! The WebSocket connection store on the fleet table, on moto and on dynalite: records and
//! tenant lists, expiry, shards, concurrent connects, a broadcast through `lift` that reaches
//! only one tenant's connections and forgets those answering 410 Gone, and a table that is down
//! or slow giving a clear error (a 503 at `$connect`).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod faults;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use faults::{closed_port, FaultProxy};
use lift::websocket::sdk::config::{BehaviorVersion, Builder, Credentials, Region};
use lift::websocket::{self, ConnectionStore, Management, ManagementError};
use lift::{App, Context, Error, State, WebSocket};
use lift_dynamodb::connections::{StoreError, StoredConnection};
use lift_dynamodb::{epoch_secs, DynamoConnectionStore, FleetTable};
use lift_testing::{events, FakeManagementApi, TestClient};

fn stored(id: &str, tenant: Option<&str>) -> StoredConnection {
    StoredConnection::new(
        id.to_owned(),
        tenant.map(str::to_owned),
        Some(format!("user-of-{id}")),
        epoch_secs() + 600,
    )
}

async fn sorted(store: &DynamoConnectionStore, tenant: Option<&str>) -> Vec<String> {
    let mut ids = store.tenant_connections(tenant).await.unwrap();
    ids.sort();
    ids
}

async fn item_count(table: &FleetTable) -> usize {
    let out = table.client().scan().table_name(table.name()).send().await.unwrap();
    out.items().len()
}

#[tokio::test]
async fn connections_are_recorded_listed_by_tenant_and_removed() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let store = DynamoConnectionStore::new(&table, "chat");
        for c in [
            stored("a1", Some("acme")),
            stored("a2", Some("acme")),
            stored("g1", Some("globex")),
            stored("n1", None),
        ] {
            store.put(&c).await.unwrap();
        }
        assert_eq!(sorted(&store, Some("acme")).await, ["a1", "a2"], "{server}");
        assert_eq!(sorted(&store, Some("globex")).await, ["g1"], "{server}");
        assert_eq!(sorted(&store, None).await, ["n1"], "{server}");
        assert!(sorted(&store, Some("initech")).await.is_empty(), "{server}");
        let a1 = store.get("a1").await.unwrap().unwrap();
        let expected = stored("a1", Some("acme"));
        assert_eq!(
            (&a1.connection_id, &a1.tenant, &a1.subject),
            (&expected.connection_id, &expected.tenant, &expected.subject),
            "{server}"
        );
        assert!(a1.expiration.abs_diff(expected.expiration) <= 2, "{server}: {a1:?}");

        let removed = store.remove("a1").await.unwrap().unwrap();
        assert_eq!(removed.tenant.as_deref(), Some("acme"), "{server}");
        assert_eq!(store.get("a1").await.unwrap(), None, "{server}");
        assert_eq!(sorted(&store, Some("acme")).await, ["a2"], "{server}");
        assert_eq!(
            store.remove("a1").await.unwrap(),
            None,
            "{server}: a second $disconnect is fine"
        );

        // Another API's name on the same table sees none of these.
        let other = DynamoConnectionStore::new(&table, "other");
        assert!(sorted(&other, Some("acme")).await.is_empty(), "{server}");
        assert_eq!(other.get("a2").await.unwrap(), None, "{server}");
    }
}

#[tokio::test]
async fn expired_connections_are_absent_and_an_expired_list_is_started_afresh() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let store = DynamoConnectionStore::new(&table, "chat");
        let mut old = stored("old", Some("acme"));
        old.expiration = epoch_secs() - 10;
        store.put(&old).await.unwrap();
        assert_eq!(store.get("old").await.unwrap(), None, "{server}");
        assert!(
            sorted(&store, Some("acme")).await.is_empty(),
            "{server}: the list expired with it"
        );

        store.put(&stored("new", Some("acme"))).await.unwrap();
        assert_eq!(
            sorted(&store, Some("acme")).await,
            ["new"],
            "{server}: the expired id does not come back"
        );
        assert_eq!(store.remove("old").await.unwrap(), None, "{server}: expired is absent");
    }
}

#[tokio::test]
async fn unlisting_from_a_missing_list_writes_nothing() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let store = DynamoConnectionStore::new(&table, "chat");
        store.unlist(Some("nobody"), "c1").await.unwrap();
        assert_eq!(store.remove("c1").await.unwrap(), None, "{server}");
        assert_eq!(item_count(&table).await, 0, "{server}: no key-only item without TTL");
    }
}

#[tokio::test]
async fn concurrent_connects_of_one_tenant_are_all_listed_across_shards() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        for shards in [1, 4] {
            let name = format!("chat{shards}");
            // Each "process" has its own client and store, as Lambda environments do.
            let puts = (0..24).map(|i| {
                let store =
                    DynamoConnectionStore::new(&FleetTable::new(common::client(&endpoint), table.name()), &name)
                        .shards(shards);
                async move { store.put(&stored(&format!("c{i:02}"), Some("acme"))).await }
            });
            for r in futures_util::future::join_all(puts).await {
                r.unwrap();
            }
            let store = DynamoConnectionStore::new(&table, &name).shards(shards);
            let expected: Vec<String> = (0..24).map(|i| format!("c{i:02}")).collect();
            assert_eq!(
                sorted(&store, Some("acme")).await,
                expected,
                "{server}, {shards} shard(s)"
            );
        }
    }
}

#[tokio::test]
async fn a_table_that_is_down_or_slow_is_a_clear_error() {
    let down = FleetTable::new(common::client(&closed_port().await), "lift-fleet");
    let store = DynamoConnectionStore::new(&down, "chat").timeout(Duration::from_secs(2));
    match store.put(&stored("c1", Some("acme"))).await {
        Err(StoreError::Failed(msg)) => {
            assert!(msg.contains("PutItem on table `lift-fleet`"), "{msg}");
            assert!(msg.contains("dispatch failure") || msg.contains("connect"), "{msg}");
        }
        other => panic!("expected a failure naming the table, got {other:?}"),
    }
    assert!(matches!(
        store.tenant_connections(Some("acme")).await,
        Err(StoreError::Failed(_))
    ));

    let (_, moto) = common::servers().remove(0);
    let table = common::fresh_table(&moto).await;
    let slow = FaultProxy::delaying(&moto, Duration::from_secs(5)).await;
    let store = DynamoConnectionStore::new(&FleetTable::new(common::client(slow.endpoint()), table.name()), "chat")
        .timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = store.get("c1").await.unwrap_err();
    assert!(
        matches!(err, StoreError::TimedOut { after, .. } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let msg = err.to_string();
    assert!(
        msg.contains(table.name()) && msg.contains("did not answer within 300ms"),
        "{msg}"
    );
}

// --- through lift: `$connect`, `$disconnect`, broadcast -------------------------------------

type Store = Arc<dyn ConnectionStore>;

async fn on_connect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<StatusCode, Error> {
    websocket::connect(&*store, &ctx, &ws).await?;
    Ok(StatusCode::OK)
}

async fn on_disconnect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<StatusCode, Error> {
    websocket::disconnect(&*store, &ctx, &ws).await?;
    Ok(StatusCode::OK)
}

fn ws_app(store: DynamoConnectionStore) -> TestClient {
    let store: Store = Arc::new(store);
    TestClient::new(
        App::new()
            .with_state(store)
            .websocket("$connect", on_connect)
            .websocket("$disconnect", on_disconnect)
            .build(),
    )
}

#[tokio::test]
async fn connect_answers_503_when_the_table_is_down_and_records_when_it_is_up() {
    let down = FleetTable::new(common::client(&closed_port().await), "lift-fleet");
    let app = ws_app(DynamoConnectionStore::new(&down, "chat").timeout(Duration::from_secs(2)));
    let out = app.invoke_json(events::websocket("$connect", "c-1", None)).await;
    assert_eq!(out["statusCode"], 503, "{out}");
    let body: serde_json::Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "connection_store_unavailable");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("lift-fleet"),
        "the message names the table: {body}"
    );

    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let store = DynamoConnectionStore::new(&table, "chat");
        let app = ws_app(store.clone());
        let out = app.invoke_json(events::websocket("$connect", "c-1", None)).await;
        assert_eq!(out["statusCode"], 200, "{server}: {out}");
        assert_eq!(store.tenant_connections(None).await.unwrap(), ["c-1"], "{server}");
        let out = app.invoke_json(events::websocket("$disconnect", "c-1", None)).await;
        assert_eq!(out["statusCode"], 200, "{server}: {out}");
        assert!(store.tenant_connections(None).await.unwrap().is_empty(), "{server}");
        assert_eq!(store.get("c-1").await.unwrap(), None, "{server}");
    }
}

fn management_config() -> Builder {
    Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "lift-tests"))
}

async fn put_tenants(store: &DynamoConnectionStore) {
    for c in [
        stored("acme-1", Some("acme")),
        stored("acme-2", Some("acme")),
        stored("acme-gone", Some("acme")),
        stored("globex-1", Some("globex")),
    ] {
        store.put(&c).await.unwrap();
    }
}

#[tokio::test]
async fn a_broadcast_reaches_only_the_tenant_and_410s_leave_the_table() {
    let fake = FakeManagementApi::start().await.unwrap();
    fake.mark_gone("acme-gone");
    let api = Management::from_conf(management_config())
        .endpoint_override(fake.url())
        .for_endpoint("https://unused.example/prod", None);
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        let store = DynamoConnectionStore::new(&table, "chat").shards(2);
        put_tenants(&store).await;
        let before = fake.posts().len();
        let report = websocket::broadcast(&store, &api, Some("acme"), b"news").await.unwrap();
        assert_eq!(report.sent, 2, "{server}");
        assert_eq!(report.gone, ["acme-gone"], "{server}");
        let mut receivers: Vec<String> = fake.posts()[before..].iter().map(|p| p.connection_id.clone()).collect();
        receivers.sort();
        assert_eq!(
            receivers,
            ["acme-1", "acme-2"],
            "{server}: only acme's live connections"
        );
        assert_eq!(
            store.get("acme-gone").await.unwrap(),
            None,
            "{server}: 410 removed the record"
        );
        assert_eq!(
            sorted(&store, Some("acme")).await,
            ["acme-1", "acme-2"],
            "{server}: and the listing"
        );
        assert_eq!(sorted(&store, Some("globex")).await, ["globex-1"], "{server}");
    }
}

/// One request to moto's own API (`/moto-api/...`): the answer's body.
async fn moto_api(moto: &str, method: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = moto.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    assert!(
        text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/1.0 200"),
        "{text}"
    );
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// `(connection id, data)` of every `PostToConnection` in moto's recording, sorted.
fn posts_in(recording: &str) -> Vec<(String, Vec<u8>)> {
    use base64::Engine;
    let mut posts: Vec<(String, Vec<u8>)> = recording
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["method"] == "POST")
        .filter_map(|r| {
            let url = r["url"].as_str()?;
            let id = url.split_once("/@connections/")?.1.to_owned();
            let body = r["body"].as_str().unwrap_or("");
            let data = if r["body_encoded"] == true {
                base64::engine::general_purpose::STANDARD.decode(body).ok()?
            } else {
                body.as_bytes().to_vec()
            };
            Some((id, data))
        })
        .collect();
    posts.sort();
    posts
}

#[tokio::test]
async fn a_broadcast_through_moto_reaches_only_the_tenant() {
    // moto as the management API, its request recorder showing who was sent what (moto accepts
    // every post, so the 410 path is the test above).
    let (_, moto) = common::servers().remove(0);
    let api = Management::from_conf(management_config())
        .endpoint_override(moto.clone())
        .for_endpoint("https://unused.example/prod", None);
    let table = common::fresh_table(&moto).await;
    let store = DynamoConnectionStore::new(&table, "chat");
    put_tenants(&store).await;
    moto_api(&moto, "POST", "/moto-api/recorder/reset-recording").await;
    moto_api(&moto, "POST", "/moto-api/recorder/start-recording").await;
    let report = websocket::broadcast(&store, &api, Some("acme"), b"news").await;
    moto_api(&moto, "POST", "/moto-api/recorder/stop-recording").await;
    let report = report.unwrap();
    assert_eq!(report.sent, 3);
    assert!(report.gone.is_empty() && report.failed.is_empty(), "{report:?}");
    let recording = moto_api(&moto, "GET", "/moto-api/recorder/download-recording").await;
    let news = b"news".to_vec();
    assert_eq!(
        posts_in(&recording),
        [
            ("acme-1".to_owned(), news.clone()),
            ("acme-2".to_owned(), news.clone()),
            ("acme-gone".to_owned(), news),
        ],
        "moto received the broadcast on acme's connections only"
    );
    let report = websocket::broadcast(&store, &api, Some("globex"), b"news")
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(
        websocket::send(&store, &api, "globex-1", b"direct").await,
        Ok::<(), ManagementError>(())
    );
}

#[tokio::test]
async fn round_trips_per_operation_do_not_grow_with_the_table() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        // Other tenants' connections and other kinds of state in the table.
        let filler = DynamoConnectionStore::new(&table, "chat").shards(2);
        for i in 0..30 {
            filler
                .put(&stored(&format!("other-{i}"), Some(&format!("t{}", i % 5))))
                .await
                .unwrap();
        }
        let (counted, trips) = faults::counted(&endpoint, &table);
        let store = DynamoConnectionStore::new(&counted, "chat").shards(2);

        store.put(&stored("mine", Some("acme"))).await.unwrap();
        assert_eq!(
            (trips.reads(), trips.writes()),
            (0, 2),
            "{server}: $connect is two writes"
        );
        let ids = store.tenant_connections(Some("acme")).await.unwrap();
        assert_eq!(ids, ["mine"], "{server}");
        assert_eq!(
            trips.reads(),
            2,
            "{server}: a broadcast reads one item per shard, no scan"
        );
        store.remove("mine").await.unwrap();
        assert_eq!(trips.writes(), 4, "{server}: $disconnect is two writes");
        assert_eq!(trips.total(), 6, "{server}: nothing else was sent");
    }
}
