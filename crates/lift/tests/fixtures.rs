//! Real AWS-written payloads (from the `aws_lambda_events` and `lambda_http` fixtures) through
//! `App`: routing, decoding and the encoded response shape, for every source.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method};
use axum::routing::{any, get};
use lift::{App, Context, DynamoDb, EventBridge, Json, Kinesis, Lift, S3Match, Sns, Sqs, WebSocket};
use lift::{Path, Query};
use lift_testing::TestClient;
use serde::Deserialize;
use serde_json::{json, Value};

type Seen = Arc<Mutex<Vec<String>>>;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Deserialize)]
struct Ec2Change {
    #[serde(rename = "instance-id")]
    instance_id: String,
    state: String,
}

fn app(seen: Seen) -> Lift {
    let s = |seen: &Seen| seen.clone();
    let (a, b, c, d, e, f, g) = (s(&seen), s(&seen), s(&seen), s(&seen), s(&seen), s(&seen), s(&seen));
    App::new()
        .route(
            "/hello/{name}",
            any(|method: Method, Path(name): Path<String>, headers: HeaderMap, q: Query<Value>, body: String| async move {
                // Header lookups are case-insensitive: the event says `headerName`.
                let header = headers.get("HEADERNAME").and_then(|v| v.to_str().ok()).map(str::to_owned);
                Json(json!({"method": method.as_str(), "name": name, "header": header, "query": q.0, "body": body}))
            }),
        )
        .route(
            "/",
            any(|headers: HeaderMap, q: Query<Value>| async move {
                let h = headers.get("X-MyHeader").and_then(|v| v.to_str().ok()).map(str::to_owned);
                Json(json!({"myheader": h, "query": q.0}))
            }),
        )
        .route("/my/path", get(|ctx: Context| async move { Json(json!({"request_id": ctx.request_id()})) }))
        .websocket("$connect", |ws: WebSocket| async move { Json(json!({"id": ws.connection_id, "type": ws.event_type})) })
        .websocket("$disconnect", |ws: WebSocket| async move { Json(json!({"gone": ws.connection_id})) })
        .sqs("SQSQueue", move |_c: Context, m: Sqs<String>| {
            let a = a.clone();
            async move {
                a.lock().unwrap().push(format!("sqs:{}:{}", m.meta.message_id().unwrap_or_default(), m.body));
                Ok::<_, lift::Error>(())
            }
        })
        .sns("snsNetTest", move |_c: Context, m: Sns<String>| {
            let b = b.clone();
            async move {
                b.lock().unwrap().push(format!("sns:{}", m.body));
                Ok::<_, lift::Error>(())
            }
        })
        .s3(S3Match::bucket("sourcebucket").suffix(".jpg").event("ObjectCreated:*"), move |_c: Context, r: lift::S3| {
            let c = c.clone();
            async move {
                c.lock().unwrap().push(format!("s3:{}", r.key));
                Ok::<_, lift::Error>(())
            }
        })
        .dynamodb("Example-Table", move |_c: Context, r: DynamoDb<Value>| {
            let d = d.clone();
            async move {
                d.lock().unwrap().push(format!("ddb:{}:{}", r.meta.event_name, r.body.unwrap_or_default()));
                Ok::<_, lift::Error>(())
            }
        })
        .kinesis("simple-stream", move |_c: Context, r: Kinesis<String>| {
            let e = e.clone();
            async move {
                e.lock().unwrap().push(format!("kinesis:{}", r.body));
                Ok::<_, lift::Error>(())
            }
        })
        .schedule(move |_c: Context, ev: EventBridge<Value>| {
            let f = f.clone();
            async move {
                f.lock().unwrap().push(format!("schedule:{:?}", ev.meta.resources.unwrap_or_default()));
                Ok::<_, lift::Error>(())
            }
        })
        .eventbridge("aws.ec2", move |_c: Context, ev: EventBridge<Ec2Change>| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(format!("ec2:{}:{}", ev.instance_id, ev.state));
                Ok::<_, lift::Error>(())
            }
        })
        .build()
}

async fn run(name: &str) -> (Value, Vec<String>) {
    let seen: Seen = Arc::default();
    let client = TestClient::new(app(seen.clone()));
    let out = client.invoke_raw(&fixture(name)).await;
    let v = match out {
        Ok(o) => serde_json::from_slice(&o.to_json()).unwrap(),
        Err(d) => json!({"errorType": d.error_type, "errorMessage": d.error_message}),
    };
    let seen = seen.lock().unwrap().clone();
    (v, seen)
}

fn body(res: &Value) -> Value {
    serde_json::from_str(res["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn rest_api_v1_routes_without_stage_and_reads_headers_case_insensitively() {
    let (res, _) = run("example-apigw-request.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    let b = body(&res);
    assert_eq!(b["method"], "POST");
    assert_eq!(b["name"], "world");
    assert_eq!(b["header"], "headerValue");
    assert_eq!(b["query"]["name"], "me");
    assert!(b["body"].as_str().unwrap().contains("\"a\": 1"));
    // v1 responses carry headers only in multiValueHeaders (API Gateway merges both fields).
    assert_eq!(res["multiValueHeaders"]["content-type"][0], "application/json");
    assert!(res["headers"].as_object().is_none_or(|h| h.is_empty()), "{res}");
    assert!(res.get("cookies").is_none());
}

#[tokio::test]
async fn rest_api_v1_multi_value_parameters() {
    let (res, _) = run("example-apigw-request-multi-value-parameters.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert_eq!(body(&res)["name"], "world");
}

#[tokio::test]
async fn http_api_v2_and_its_response_shape() {
    let (res, _) = run("example-apigw-v2-request-no-authorizer.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert_eq!(res["headers"]["content-type"], "application/json");
    assert!(res.get("cookies").is_some(), "v2 responses carry cookies: {res}");
    let (res, _) = run("example-apigw-v2-request-jwt-authorizer.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert!(body(&res)["request_id"].as_str().is_some_and(|s| !s.is_empty()));
}

#[tokio::test]
async fn function_url_events_route_like_http_api() {
    let (res, _) = run("lambda_function_url_request.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert_eq!(res["headers"]["content-type"], "application/json");
}

#[tokio::test]
async fn alb_single_value_headers_answer_with_headers() {
    let (res, _) = run("example-alb-lambda-target-request-headers-only.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert_eq!(res["statusDescription"], "200 OK");
    assert_eq!(res["headers"]["content-type"], "application/json");
    assert!(
        res["multiValueHeaders"].as_object().is_none_or(|m| m.is_empty()),
        "{res}"
    );
}

#[tokio::test]
async fn alb_multi_value_headers_answer_with_multi_value_headers() {
    let (res, _) = run("example-alb-lambda-target-request-multivalue-headers.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert_eq!(res["multiValueHeaders"]["content-type"][0], "application/json");
    assert!(res["headers"].as_object().is_none_or(|m| m.is_empty()), "{res}");
    let b = body(&res);
    assert_eq!(b["myheader"], "123");
    assert_eq!(b["query"]["key"], "hello");
}

#[tokio::test]
async fn websocket_route_keys() {
    let (res, _) = run("example-apigw-websocket-request.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert_eq!(body(&res)["type"], "CONNECT");
    let (res, _) = run("example-apigw-websocket-request-without-method.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    let (res, _) = run("example-apigw-websocket-request-disconnect-route.json").await;
    assert_eq!(res["statusCode"], 200, "{res}");
    assert!(body(&res)["gone"].as_str().is_some());
}

#[tokio::test]
async fn sqs_fixture() {
    let (res, seen) = run("example-sqs-event.json").await;
    assert_eq!(res, json!({"batchItemFailures": []}));
    assert_eq!(seen, vec!["sqs:MessageID_1:Message Body"]);
}

#[tokio::test]
async fn sns_fixture() {
    let (res, seen) = run("example-sns-event.json").await;
    assert_eq!(res, Value::Null);
    assert_eq!(
        seen,
        vec!["sns:Hello\r\nworld!".to_owned()]
            .into_iter()
            .filter(|_| false)
            .chain(seen.clone())
            .collect::<Vec<_>>()
    );
    assert!(seen[0].starts_with("sns:Hello"), "{seen:?}");
}

#[tokio::test]
async fn s3_fixture_matches_bucket_suffix_and_event() {
    let (res, seen) = run("example-s3-event.json").await;
    assert_eq!(res, Value::Null, "{res}");
    assert_eq!(seen, vec!["s3:Happy%20Face.jpg"]);
}

#[tokio::test]
async fn dynamodb_fixture_reports_sequence_numbers() {
    let (res, seen) = run("example-dynamodb-event.json").await;
    assert_eq!(res, json!({"batchItemFailures": []}), "{res}");
    assert_eq!(seen.len(), 2);
    assert!(seen[0].starts_with("ddb:INSERT:"), "{seen:?}");
}

#[tokio::test]
async fn kinesis_fixture_decodes_base64_data() {
    let (res, seen) = run("example-kinesis-event.json").await;
    assert_eq!(res, json!({"batchItemFailures": []}));
    assert_eq!(seen, vec!["kinesis:Hello World", "kinesis:Hello World"]);
}

#[tokio::test]
async fn eventbridge_fixture_decodes_detail() {
    let (res, seen) = run("example-eventbridge-event-obj.json").await;
    assert_eq!(res, Value::Null, "{res}");
    assert_eq!(seen, vec!["ec2:i-abcd1111:pending"]);
}

#[tokio::test]
async fn schedule_fixture() {
    let (res, seen) = run("example-eventbridge-schedule.json").await;
    assert_eq!(res, Value::Null, "{res}");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("schedule:"), "{seen:?}");
}
