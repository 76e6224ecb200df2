//! Arbitrary JSON and arbitrary bytes never panic the dispatcher (no `Lift.panic`), every
//! HTTP-shaped event gets an HTTP answer (a `statusCode`), and the process keeps serving.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use axum::routing::{get, post};
use lift::{App, Context, Json, Lift, Sqs};
use lift_testing::{events, TestClient};
use proptest::prelude::*;
use serde_json::Value;

async fn boom() -> &'static str {
    panic!("handler bug")
}

fn app() -> Lift {
    App::new()
        .route(
            "/x/{id}",
            get(|lift::Path(id): lift::Path<u32>| async move { id.to_string() }),
        )
        .route(
            "/q",
            get(|lift::Query(q): lift::Query<std::collections::HashMap<String, String>>| async move { Json(q) }),
        )
        .route("/j", post(|Json(v): Json<Value>| async move { Json(v) }))
        .route("/boom", get(boom))
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

/// Fails the case if `json` produced a `Lift.panic`, or if an event Lift takes for HTTP did
/// not get an HTTP answer.
fn check(client: &TestClient, json: &str) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(client.invoke_raw(json));
    if let Err(diag) = &result {
        prop_assert_ne!(&diag.error_type, "Lift.panic", "{}", json);
    }
    if lift::detect::detect(json).is_ok_and(|k| k.is_http()) {
        let status = result.as_ref().ok().and_then(|out| out.status());
        prop_assert!(
            status.is_some_and(|s| (200..600).contains(&s)),
            "HTTP-shaped event without an HTTP answer: {} -> {:?}",
            json,
            result.map(|o| String::from_utf8_lossy(&o.to_json()).into_owned())
        );
    }
    Ok(())
}

/// HTTP events of every source with arbitrary method, path, query, headers and body.
fn arb_http_event() -> impl Strategy<Value = Value> {
    let text = "\\PC{0,16}";
    let method = prop::sample::select(vec!["GET", "POST", "DELETE", "PATCH", "G E T", ""]);
    let path = prop_oneof![
        Just("/x/1".to_owned()),
        Just("/x/%FF".to_owned()),
        Just("/q".to_owned()),
        Just("/j".to_owned()),
        Just("/boom".to_owned()),
        "/\\PC{0,16}",
    ];
    let pairs = prop::collection::vec((text, text), 0..3);
    let headers = prop::collection::vec(("[a-zA-Z-]{1,8}|\\PC{0,8}", text), 0..3);
    (0..6usize, method, path, pairs, headers, prop::option::of(text)).prop_map(
        |(source, method, path, query, headers, body)| {
            if source == 5 {
                return events::websocket(&path, "abc=", body.as_deref());
            }
            let mut ev = match source {
                0 => events::apigw_v1(method, &path),
                1 => events::apigw_v2(method, &path),
                2 => events::function_url(method, &path),
                3 => events::alb(method, &path),
                _ => events::alb_multi_value(method, &path),
            };
            for (k, v) in &query {
                ev = ev.query(k, v);
            }
            for (k, v) in &headers {
                ev = ev.header(k, v);
            }
            if let Some(b) = body {
                ev = ev.body(b);
            }
            ev.build()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_and_http_shapes_get_http_answers(v in arb_json()) {
        check(&TestClient::new(app()), &v.to_string())?;
    }

    #[test]
    fn every_http_event_gets_an_http_answer(ev in arb_http_event()) {
        let json = ev.to_string();
        // Not vacuous: every generated event is one Lift takes for HTTP.
        prop_assert!(lift::detect::detect(&json).is_ok_and(|k| k.is_http()), "{}", json);
        check(&TestClient::new(app()), &json)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check(&TestClient::new(app()), &String::from_utf8_lossy(&bytes))?;
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
        let err = client.invoke_raw(junk).await.expect_err(junk);
        assert!(
            err.error_type == "Lift.malformed_json" || err.error_type == "Lift.unknown_event",
            "{junk:?}: {}",
            err.error_type
        );
    }
    let ok = client
        .invoke(lift_testing::events::apigw_v2("GET", "/x/1").build())
        .await
        .expect("answer");
    assert_eq!(ok.status(), Some(200));
}
