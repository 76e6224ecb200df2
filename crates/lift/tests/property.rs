//! Arbitrary JSON and arbitrary bytes never panic the dispatcher, and the process keeps serving.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use axum::routing::get;
use lift::{App, Context, Lift, Sqs};
use lift_testing::TestClient;
use proptest::prelude::*;
use serde_json::Value;

fn app() -> Lift {
    App::new()
        .route("/x/{id}", get(|| async { "ok" }))
        .sqs("*", |_c: Context, _m: Sqs<Value>| async { Ok::<_, lift::Error>(()) })
        .build()
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        // Keys and values Lift looks at, so the search reaches the typed decoders.
        prop::sample::select(vec![
            "aws:sqs",
            "aws:sns",
            "aws:s3",
            "aws:kinesis",
            "aws:dynamodb",
            "GET",
            "POST",
            "/x/1",
            "$connect",
            "Scheduled Event",
            "aws.events",
            "a b c",
            "%zz",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "Records",
                    "eventSource",
                    "EventSource",
                    "requestContext",
                    "http",
                    "elb",
                    "connectionId",
                    "httpMethod",
                    "rawPath",
                    "path",
                    "headers",
                    "multiValueHeaders",
                    "body",
                    "isBase64Encoded",
                    "detail-type",
                    "source",
                    "detail",
                    "Sns",
                    "s3",
                    "kinesis",
                    "dynamodb",
                    "messageId",
                    "routeKey",
                    "method",
                    "stage",
                    "host",
                    "data",
                    "NewImage",
                    "eventSourceARN",
                    "other",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = TestClient::new(app());
        rt.block_on(async {
            // Any outcome is fine except a panic escaping `invoke`.
            let _ = client.invoke(&v).await;
        });
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = TestClient::new(app());
        let text = String::from_utf8_lossy(&bytes).into_owned();
        rt.block_on(async {
            let _ = client.invoke_raw(&text).await;
        });
    }
}

#[tokio::test]
async fn still_serving_after_garbage() {
    let client = TestClient::new(app());
    for junk in [
        "",
        "null",
        "[]",
        "{\"Records\":{}}",
        "{\"requestContext\":null}",
        "\u{0}",
        "{\"Records\":[1]}",
    ] {
        let _ = client.invoke_raw(junk).await;
    }
    let ok = client
        .invoke(lift_testing::events::apigw_v2("GET", "/x/1").build())
        .await
        .expect("answer");
    assert_eq!(ok.status(), Some(200));
}
