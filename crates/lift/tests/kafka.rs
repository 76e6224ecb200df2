//! Kafka batches (Amazon MSK as AWS wrote it in the `aws_lambda_events` fixture, and
//! self-managed clusters) through `App`: base64 keys and values decoded, headers kept in order,
//! values decoded into the handler's type. Kafka cannot report single records, so a failed,
//! undecodable or unrouted record fails the invocation (never acknowledged) and the records
//! after it are not offered.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use base64::Engine;
use lift::{App, Context, Kafka, KafkaSource, Lift};
use lift_testing::TestClient;
use serde::Deserialize;
use serde_json::{json, Value};

type Seen = Arc<Mutex<Vec<String>>>;
type Headers = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn fixture() -> Value {
    let path = format!("{}/tests/fixtures/example-kafka-event.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn record(topic: &str, partition: i64, offset: i64, value: Option<&str>) -> Value {
    json!({
        "topic": topic, "partition": partition, "offset": offset,
        "timestamp": 1_700_000_000_000i64, "timestampType": "CREATE_TIME",
        "key": b64(&format!("k{offset}")),
        "value": value.map(b64),
        "headers": [{"trace": [116, 49]}, {"bin": [-1, 128, 0]}, {"trace": [116, 50]}]
    })
}

fn self_managed(records: Value) -> Value {
    json!({"eventSource": "SelfManagedKafka", "bootstrapServers": "b1:9092,b2:9092", "records": records})
}

#[derive(Deserialize, Debug)]
struct Order {
    item: String,
    #[serde(default)]
    fail: bool,
}

fn typed_app(seen: Seen) -> Lift {
    App::new()
        .kafka("orders*", move |_ctx: Context, rec: Kafka<Order>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(format!(
                    "{}-{}@{}:{}",
                    rec.meta.topic, rec.meta.partition, rec.meta.offset, rec.item
                ));
                if rec.fail {
                    return Err(lift::Error::internal("asked to fail"));
                }
                Ok(())
            }
        })
        .build()
}

#[tokio::test]
async fn msk_fixture_decodes_key_value_and_headers() {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = seen.clone();
    let app = App::new()
        .kafka("AWSKafkaTopic", move |_ctx: Context, rec: Kafka<String>| {
            let s = s.clone();
            async move {
                let m = &rec.meta;
                s.lock().unwrap().push(json!({
                    "msk": m.source == KafkaSource::Msk,
                    "arn": m.event_source_arn.as_deref(),
                    "servers": m.bootstrap_servers.as_deref(),
                    "topic": m.topic, "partition": m.partition, "offset": m.offset,
                    "ts": m.timestamp_ms, "ts_type": m.timestamp_type,
                    "key": m.key_str(), "value": rec.body,
                    "header": m.header("headerKey").map(|h| String::from_utf8_lossy(h).into_owned()),
                }));
                Ok::<_, lift::Error>(())
            }
        })
        .build();
    let out = TestClient::new(app).invoke(fixture()).await.unwrap();
    assert_eq!(out.to_json(), b"null");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r["msk"], true);
    assert!(r["arn"].as_str().unwrap().starts_with("arn:aws:kafka:"));
    assert!(r["servers"].as_str().unwrap().contains(":9092"));
    assert_eq!(
        (r["topic"].as_str(), r["partition"].as_i64(), r["offset"].as_i64()),
        (Some("AWSKafkaTopic"), Some(0), Some(0))
    );
    assert_eq!(r["ts"], 1_595_035_749_700i64);
    assert_eq!(r["ts_type"], "CREATE_TIME");
    assert_eq!(r["key"], "8d5596b4-1813-4238-b24b-6dad8e3d1c0c");
    assert_eq!(r["value"], "8d5596b4-1813-4238-b24b-6dad8e3d1c0c");
    assert_eq!(r["header"], "headerValue");
}

#[tokio::test]
async fn self_managed_records_are_typed_and_offered_in_order() {
    let seen: Seen = Arc::default();
    let headers: Headers = Arc::default();
    let h = headers.clone();
    let s = seen.clone();
    let app = App::new()
        .kafka("orders", move |_ctx: Context, rec: Kafka<Order>| {
            let (s, h) = (s.clone(), h.clone());
            async move {
                assert_eq!(rec.meta.source, KafkaSource::SelfManaged);
                assert!(rec.meta.event_source_arn.is_none());
                s.lock().unwrap().push(format!(
                    "{}@{}:{}:{}",
                    rec.meta.partition,
                    rec.meta.offset,
                    rec.item,
                    rec.meta.key_str().unwrap()
                ));
                *h.lock().unwrap() = rec.meta.headers.clone();
                Ok::<_, lift::Error>(())
            }
        })
        .build();
    let event = self_managed(json!({
        "orders-1": [record("orders", 1, 7, Some(r#"{"item":"c"}"#))],
        "orders-0": [record("orders", 0, 3, Some(r#"{"item":"a"}"#)), record("orders", 0, 4, Some(r#"{"item":"b"}"#))],
    }));
    TestClient::new(app).invoke(event).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), ["0@3:a:k3", "0@4:b:k4", "1@7:c:k7"]);
    let headers = headers.lock().unwrap();
    assert_eq!(
        *headers,
        [
            ("trace".to_owned(), b"t1".to_vec()),
            ("bin".to_owned(), vec![255, 128, 0]),
            ("trace".to_owned(), b"t2".to_vec())
        ],
        "headers in order, repeated names kept, signed bytes read as bytes"
    );
}

#[tokio::test]
async fn a_failed_record_fails_the_invocation_and_stops_the_batch() {
    let seen: Seen = Arc::default();
    let event = self_managed(json!({
        "orders-0": [
            record("orders", 0, 1, Some(r#"{"item":"a"}"#)),
            record("orders", 0, 2, Some(r#"{"item":"b","fail":true}"#)),
            record("orders", 0, 3, Some(r#"{"item":"c"}"#)),
        ],
        "orders-1": [record("orders", 1, 1, Some(r#"{"item":"d"}"#))],
    }));
    let err = TestClient::new(typed_app(seen.clone()))
        .invoke(event)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Lift.handler_failed");
    assert!(err.error_message.contains("orders-0@2"), "{}", err.error_message);
    assert!(err.error_message.contains("asked to fail"), "{}", err.error_message);
    assert_eq!(
        *seen.lock().unwrap(),
        ["orders-0@1:a", "orders-0@2:b"],
        "nothing after the failure runs"
    );
}

#[tokio::test]
async fn unrouted_undecodable_and_panicking_records_are_never_acknowledged() {
    let seen: Seen = Arc::default();
    let client = TestClient::new(typed_app(seen.clone()));
    let cases = [
        (
            "unrouted topic",
            self_managed(json!({"audit-0": [record("audit", 0, 1, Some(r#"{"item":"a"}"#))]})),
            "no route for Kafka topic `audit`",
        ),
        (
            "value not JSON",
            self_managed(json!({"orders-0": [record("orders", 0, 1, Some("plain text"))]})),
            "Kafka value",
        ),
        (
            "value of the wrong shape",
            self_managed(json!({"orders-0": [record("orders", 0, 1, Some(r#"{"item": 5}"#))]})),
            "Kafka value",
        ),
        (
            "tombstone into a struct",
            self_managed(json!({"orders-0": [record("orders", 0, 1, None)]})),
            "Kafka value",
        ),
    ];
    for (what, event, needle) in cases {
        let err = client.invoke(event).await.unwrap_err();
        assert_eq!(err.error_type, "Lift.handler_failed", "{what}");
        assert!(err.error_message.contains(needle), "{what}: {}", err.error_message);
    }

    let mut bad_value = record("orders", 0, 1, None);
    bad_value["value"] = json!("!!not base64!!");
    let mut bad_key = record("orders", 0, 1, Some(r#"{"item":"a"}"#));
    bad_key["key"] = json!("%%%");
    for (what, rec) in [("bad base64 value", bad_value), ("bad base64 key", bad_key)] {
        let err = client
            .invoke(self_managed(json!({"orders-0": [rec]})))
            .await
            .unwrap_err();
        assert!(
            err.error_message.contains("not base64"),
            "{what}: {}",
            err.error_message
        );
    }
    assert!(seen.lock().unwrap().is_empty(), "no handler saw an undecodable record");

    let panicking = App::new()
        .kafka("*", |_ctx: Context, _rec: Kafka<Value>| async move {
            if true {
                panic!("kafka handler panics");
            }
            Ok::<_, lift::Error>(())
        })
        .build();
    let err = TestClient::new(panicking)
        .invoke(self_managed(json!({"t-0": [record("t", 0, 1, Some("{}"))]})))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Lift.handler_failed");
    assert!(err.error_message.contains("panic"), "{}", err.error_message);
}

#[tokio::test]
async fn malformed_envelopes_fail_before_any_handler_runs() {
    let seen: Seen = Arc::default();
    let client = TestClient::new(typed_app(seen.clone()));
    let good = record("orders", 0, 1, Some(r#"{"item":"a"}"#));
    let mut no_offset = record("orders", 0, 2, Some(r#"{"item":"b"}"#));
    no_offset.as_object_mut().unwrap().remove("offset");
    let mut big_byte = record("orders", 0, 2, Some(r#"{"item":"b"}"#));
    big_byte["headers"] = json!([{"h": [256]}]);
    let cases = [
        (
            "missing offset",
            self_managed(json!({"orders-0": [good.clone(), no_offset]})),
        ),
        (
            "header byte out of range",
            self_managed(json!({"orders-0": [good.clone(), big_byte]})),
        ),
        (
            "records not a map",
            json!({"eventSource": "aws:kafka", "records": [good.clone()]}),
        ),
        ("no records", json!({"eventSource": "aws:kafka"})),
    ];
    for (what, event) in cases {
        let err = client.invoke(event).await.unwrap_err();
        assert_eq!(err.error_type, "Lift.malformed_event", "{what}: {}", err.error_message);
    }
    assert!(seen.lock().unwrap().is_empty(), "an undecodable batch runs no handler");
}

#[tokio::test]
async fn tombstones_reach_value_handlers_as_null() {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = seen.clone();
    let app = App::new()
        .kafka("*", move |_ctx: Context, rec: Kafka<Value>| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(rec.body);
                Ok::<_, lift::Error>(())
            }
        })
        .build();
    let mut keyless = record("t", 0, 2, Some("[1]"));
    keyless["key"] = Value::Null;
    TestClient::new(app)
        .invoke(self_managed(json!({"t-0": [record("t", 0, 1, None), keyless]})))
        .await
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), [Value::Null, json!([1])]);
}

#[tokio::test]
async fn byte_handlers_get_any_value_as_is() {
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let s = seen.clone();
    let app = App::new()
        .kafka("*", move |_ctx: Context, rec: Kafka<Vec<u8>>| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(rec.body);
                Ok::<_, lift::Error>(())
            }
        })
        .build();
    let mut binary = record("t", 0, 2, None);
    binary["value"] = json!(base64::engine::general_purpose::STANDARD.encode([0xffu8, 0, 0x80]));
    TestClient::new(app)
        .invoke(self_managed(
            json!({"t-0": [record("t", 0, 1, Some("not json")), binary]}),
        ))
        .await
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), [b"not json".to_vec(), vec![0xff, 0, 0x80]]);
}

#[tokio::test]
async fn test_kit_builder_makes_batches_lift_serves() {
    use lift_testing::events;
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = App::new()
        .kafka("*", move |_ctx: Context, rec: Kafka<String>| {
            let s = s.clone();
            async move {
                let m = &rec.meta;
                let h = m.header("h").map(|h| h.to_vec()).unwrap_or_default();
                s.lock().unwrap().push(format!(
                    "{:?} {}-{}@{} {:?} {} {:?}",
                    m.source,
                    m.topic,
                    m.partition,
                    m.offset,
                    m.key_str(),
                    rec.body,
                    h
                ));
                Ok::<_, lift::Error>(())
            }
        })
        .build();
    let client = TestClient::new(app);
    client
        .invoke(
            events::kafka()
                .record("a", b"one")
                .record("a", b"two")
                .record_with("b", 3, Some(b"k"), Some(b"\"three\""), &[("h", &[200, 1])])
                .build(),
        )
        .await
        .unwrap();
    client
        .invoke(events::kafka().self_managed().record("c", b"four").build())
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "Msk a-0@0 None one []",
            "Msk a-0@1 None two []",
            "Msk b-3@0 Some(\"k\") three [200, 1]",
            "SelfManaged c-0@0 None four []",
        ]
    );
}
