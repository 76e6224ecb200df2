//! VPC Lattice (v1 and v2 events, as AWS wrote them in the `aws_lambda_events` fixtures)
//! through `App`: the same HTTP routes serve them and the response comes back in Lattice's
//! shape (`statusCode`, `statusDescription`, one string per header, `isBase64Encoded`). Hostile
//! variants (bad base64, missing or mistyped fields) get a clear error, never a crash.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use axum::http::{HeaderMap, Method};
use axum::routing::{any, get};
use axum::Extension;
use lift::{App, ClientIp, Json, Lift, Path, Query, RequestContext};
use lift_testing::TestClient;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

async fn echo(
    method: Method,
    headers: HeaderMap,
    ip: ClientIp,
    q: Query<Value>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let multi: Vec<&str> = headers
        .get_all("multi")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    Json(json!({
        "method": method.as_str(),
        "multi": multi,
        "ip": ip.0.map(|ip| ip.to_string()),
        "query": q.0,
        "body_len": body.len(),
        "body": String::from_utf8_lossy(&body),
    }))
}

fn app() -> Lift {
    App::new()
        .route("/api/product", any(echo))
        .route("/health", any(echo))
        .route("/api/files/upload", any(echo))
        .route(
            "/api/external/data-sync",
            any(|Extension(ctx): Extension<RequestContext>| async move {
                let principal = match ctx {
                    RequestContext::VpcLatticeV2(c) => c.identity.and_then(|i| i.principal),
                    _ => None,
                };
                Json(json!({ "principal": principal }))
            }),
        )
        .route(
            "/hello/{name}",
            get(|Path(name): Path<String>| async move { Json(json!({ "hello": name })) }),
        )
        .route(
            "/cookies",
            get(|| async {
                (
                    axum::response::AppendHeaders([
                        ("set-cookie", "a=1"),
                        ("set-cookie", "b=2"),
                        ("content-type", "text/plain"),
                    ]),
                    "ok",
                )
            }),
        )
        .route(
            "/png",
            get(|| async { ([("content-type", "image/png")], vec![0x89u8, b'P', b'N', b'G', 0xff]) }),
        )
        .build()
}

async fn invoke(event: &Value) -> Value {
    TestClient::new(app()).invoke_json(event).await
}

fn body(res: &Value) -> Value {
    serde_json::from_str(res["body"].as_str().unwrap()).unwrap()
}

/// Lattice's response shape and nothing of API Gateway's or ALB's.
fn assert_lattice_shape(res: &Value, status: u16) {
    assert_eq!(res["statusCode"], status, "{res}");
    let description = res["statusDescription"].as_str().unwrap();
    assert!(description.starts_with(&status.to_string()), "{res}");
    assert!(res["isBase64Encoded"].is_boolean(), "{res}");
    for (_, v) in res["headers"].as_object().unwrap() {
        assert!(v.is_string(), "one string per header: {res}");
    }
    for absent in ["multiValueHeaders", "cookies"] {
        assert!(res.get(absent).is_none(), "{absent} in {res}");
    }
    assert!(res["headers"]["x-request-id"].is_string(), "{res}");
}

#[tokio::test]
async fn v1_fixture_reaches_its_route_with_query_headers_and_body() {
    let res = invoke(&fixture("example-vpc-lattice-v1-request.json")).await;
    assert_lattice_shape(&res, 200);
    assert_eq!(res["headers"]["content-type"], "application/json");
    let b = body(&res);
    assert_eq!(b["method"], "POST");
    assert_eq!(b["multi"], json!(["abcd", "DEF"]), "v1 comma-joined headers are split");
    assert_eq!(b["ip"], "10.0.2.100", "the caller is the X-Forwarded-For entry");
    assert_eq!(b["query"]["category"], "electronics");
    assert_eq!(b["query"]["limit"], "10");
    assert_eq!(b["body"], "{\"id\": 5, \"description\": \"TV\"}");
}

#[tokio::test]
async fn v2_fixture_keeps_repeated_headers_and_query_values() {
    let res = invoke(&fixture("example-vpc-lattice-v2-request.json")).await;
    assert_lattice_shape(&res, 200);
    let b = body(&res);
    assert_eq!(b["method"], "GET");
    assert_eq!(b["multi"], json!(["x", "y"]));
    assert_eq!(b["query"]["state"], "prod");
    assert_eq!(b["ip"], "10.0.2.100");
    assert_eq!(b["body_len"], 0);
}

#[tokio::test]
async fn v2_base64_body_is_decoded() {
    let event = fixture("example-vpc-lattice-v2-request-base64.json");
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(event["body"].as_str().unwrap())
        .unwrap();
    let res = invoke(&event).await;
    assert_lattice_shape(&res, 200);
    assert_eq!(body(&res)["body_len"], raw.len());
}

#[tokio::test]
async fn v2_request_context_reaches_the_handler() {
    let res = invoke(&fixture("example-vpc-lattice-v2-request-roles-anywhere.json")).await;
    assert_lattice_shape(&res, 200);
    assert_eq!(
        body(&res)["principal"],
        "arn:aws:iam::123456789012:role/ExternalPartnerAccessRole"
    );
}

fn v2(method: &str, path: &str) -> Value {
    let mut e = fixture("example-vpc-lattice-v2-request.json");
    e["method"] = json!(method);
    e["path"] = json!(path);
    e
}

#[tokio::test]
async fn path_parameters_unknown_paths_and_wrong_methods() {
    let res = invoke(&v2("GET", "/hello/l%C3%BCtt%20ice")).await;
    assert_lattice_shape(&res, 200);
    assert_eq!(body(&res)["hello"], "lütt ice");
    let res = invoke(&v2("GET", "/hello/raw {space}")).await;
    assert_eq!(body(&res)["hello"], "raw {space}", "{res}");
    let res = invoke(&v2("GET", "/nowhere")).await;
    assert_lattice_shape(&res, 404);
    assert_eq!(body(&res)["error"]["code"], "not_found");
    let res = invoke(&v2("DELETE", "/hello/x")).await;
    assert_lattice_shape(&res, 405);
}

#[tokio::test]
async fn repeated_response_headers_are_joined_and_binary_bodies_base64() {
    let res = invoke(&v2("GET", "/cookies")).await;
    assert_lattice_shape(&res, 200);
    assert_eq!(res["headers"]["set-cookie"], "a=1, b=2");
    assert_eq!(res["body"], "ok");
    let res = invoke(&v2("GET", "/png")).await;
    assert_eq!(res["isBase64Encoded"], true);
    assert_eq!(res["body"], "iVBOR/8=");
}

#[tokio::test]
async fn inline_query_in_the_path_is_read() {
    let mut e = fixture("example-vpc-lattice-v1-request.json");
    e["raw_path"] = json!("/api/product?color=red%20ish");
    e["query_string_parameters"] = json!({});
    let res = invoke(&e).await;
    assert_eq!(body(&res)["query"]["color"], "red ish", "{res}");
}

#[tokio::test]
async fn hostile_events_get_clear_errors() {
    // Body marked base64 that is not: 400 in Lattice's shape, the route never runs.
    let mut e = v2("POST", "/health");
    e["body"] = json!("%%% not base64 %%%");
    e["isBase64Encoded"] = json!(true);
    let res = invoke(&e).await;
    assert_lattice_shape(&res, 400);
    assert_eq!(body(&res)["error"]["code"], "malformed_event");

    // A v2 request context without its required fields.
    let mut e = v2("GET", "/health");
    e["requestContext"] = json!({"serviceArn": "arn:aws:vpc-lattice:x"});
    let res = invoke(&e).await;
    assert_lattice_shape(&res, 400);
    assert_eq!(body(&res)["error"]["code"], "malformed_event");

    // A method that is no HTTP token.
    let mut e = fixture("example-vpc-lattice-v1-request.json");
    e["method"] = json!("G E T");
    let res = invoke(&e).await;
    assert_lattice_shape(&res, 400);

    // Headers of the wrong type.
    let mut e = fixture("example-vpc-lattice-v1-request.json");
    e["headers"] = json!(["accept"]);
    let res = invoke(&e).await;
    assert_lattice_shape(&res, 400);

    // Without `method`, the event is no Lattice request: Lambda gets an error, not a crash.
    let mut e = v2("GET", "/health");
    e.as_object_mut().unwrap().remove("method");
    let res = invoke(&e).await;
    assert_eq!(res["errorType"], "Lift.unknown_event", "{res}");

    // Over the body limit: 413.
    let mut e = v2("POST", "/health");
    e["body"] = json!("x".repeat(64));
    let res = TestClient::new(App::new().route("/health", any(echo)).body_limit(16).build())
        .invoke_json(&e)
        .await;
    assert_lattice_shape(&res, 413);
}

#[tokio::test]
async fn responses_carry_every_field_of_the_aws_response_fixture() {
    let aws = fixture("example-vpc-lattice-response.json");
    let ours = invoke(&fixture("example-vpc-lattice-v2-request.json")).await;
    for (key, value) in aws.as_object().unwrap() {
        let mine = &ours[key.as_str()];
        assert!(!mine.is_null(), "{key} missing from {ours}");
        assert_eq!(
            std::mem::discriminant(mine),
            std::mem::discriminant(value),
            "{key}: {mine} vs AWS's {value}"
        );
    }
}

#[tokio::test]
async fn test_kit_builders_make_events_lift_serves() {
    use lift_testing::events;
    for event in [
        events::vpc_lattice_v1("POST", "/api/product")
            .header("multi", "a")
            .header("multi", "b")
            .query("q", "x y")
            .body("hi")
            .build(),
        events::vpc_lattice_v2("POST", "/api/product")
            .header("multi", "a")
            .header("multi", "b")
            .query("q", "x y")
            .body("hi")
            .build(),
    ] {
        let res = invoke(&event).await;
        assert_lattice_shape(&res, 200);
        let b = body(&res);
        assert_eq!(b["multi"], json!(["a", "b"]), "{event}");
        assert_eq!(b["query"]["q"], "x y", "{event}");
        assert_eq!(b["body"], "hi");
        assert_eq!(b["ip"], "10.0.2.100");
    }
}
