//! CORS and security headers on every HTTP source: AWS-written API Gateway v1 and v2, ALB and
//! Function URL events (fixtures from `aws_lambda_events`, their method, path and headers
//! changed) and the local server over a real socket.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::routing::get;
use lift::cors::{AllowOrigin, CorsLayer};
use lift::{App, Json, Lift, SecurityHeaders};
use lift_testing::TestClient;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ALLOWED: &str = "https://app.example.com";
const OTHER: &str = "https://evil.example.net";

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list([HeaderValue::from_static(ALLOWED)]))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::HeaderName::from_static("x-request-id")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}

/// `/items` answers 401 without `Authorization` (as an authenticated route would), `/frame`
/// sets its own `X-Frame-Options`, `/opts` has an `OPTIONS` handler.
fn app() -> Lift {
    App::new()
        .route(
            "/items",
            get(|headers: axum::http::HeaderMap| async move {
                if headers.contains_key(header::AUTHORIZATION) {
                    Ok(Json(json!({"items": []})))
                } else {
                    Err(lift::Error::new(StatusCode::UNAUTHORIZED, "missing_token", "no token"))
                }
            }),
        )
        .route(
            "/frame",
            get(|| async { ([(header::X_FRAME_OPTIONS, "SAMEORIGIN")], "framable") }),
        )
        .route("/opts", axum::routing::options(|| async { "own options" }))
        .route("/panic", get(panics))
        .cors(cors())
        .security_headers(SecurityHeaders::preset())
        .build()
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Source {
    V1,
    V2,
    Alb,
    FunctionUrl,
}

const SOURCES: [Source; 4] = [Source::V1, Source::V2, Source::Alb, Source::FunctionUrl];

/// An AWS-written event of `source` with `method`, `path` and exactly `headers`.
fn event(source: Source, method: &str, path: &str, headers: &[(&str, &str)]) -> Value {
    let hdrs: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let multi: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), json!([v]))).collect();
    match source {
        Source::V1 => {
            let mut e = fixture("example-apigw-request.json");
            e["httpMethod"] = json!(method);
            e["requestContext"]["httpMethod"] = json!(method);
            e["path"] = json!(path);
            e["headers"] = Value::Object(hdrs);
            e["multiValueHeaders"] = Value::Object(multi);
            e["body"] = Value::Null;
            e
        }
        Source::V2 | Source::FunctionUrl => {
            let name = match source {
                Source::V2 => "example-apigw-v2-request-no-authorizer.json",
                _ => "lambda_function_url_request.json",
            };
            let mut e = fixture(name);
            e["requestContext"]["http"]["method"] = json!(method);
            e["requestContext"]["http"]["path"] = json!(path);
            e["rawPath"] = json!(path);
            e["rawQueryString"] = json!("");
            e["headers"] = Value::Object(hdrs);
            e.as_object_mut().unwrap().remove("cookies");
            e.as_object_mut().unwrap().remove("body");
            e
        }
        Source::Alb => {
            let mut e = fixture("example-alb-lambda-target-request-headers-only.json");
            e["httpMethod"] = json!(method);
            e["path"] = json!(path);
            e["headers"] = Value::Object(hdrs);
            e
        }
    }
}

/// Status and lower-cased headers (single- and multi-value shapes merged) of an encoded answer.
fn answer(out: &Value) -> (u16, BTreeMap<String, String>) {
    let status = out["statusCode"].as_u64().unwrap() as u16;
    let mut headers = BTreeMap::new();
    if let Some(h) = out.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            headers.insert(k.to_ascii_lowercase(), v.as_str().unwrap().to_owned());
        }
    }
    if let Some(h) = out.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, v) in h {
            let joined: Vec<&str> = v.as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
            headers.insert(k.to_ascii_lowercase(), joined.join(", "));
        }
    }
    (status, headers)
}

async fn call(client: &TestClient, e: Value) -> (u16, BTreeMap<String, String>) {
    answer(&client.invoke_json(e).await)
}

fn preflight_headers(origin: &str) -> Vec<(&str, &str)> {
    vec![
        ("Origin", origin),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "authorization"),
    ]
}

fn assert_no_cors(h: &BTreeMap<String, String>, what: &str) {
    let cors: Vec<&String> = h.keys().filter(|k| k.starts_with("access-control-")).collect();
    assert!(
        cors.is_empty(),
        "{what}: CORS headers for a disallowed origin: {cors:?}"
    );
}

fn assert_security_headers(h: &BTreeMap<String, String>, what: &str) {
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert!(h["strict-transport-security"].starts_with("max-age=31536000"), "{what}");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin", "{what}");
    assert!(h.contains_key("x-frame-options"), "{what}");
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_is_answered_before_the_route_on_every_source() {
    let client = TestClient::new(app());
    for source in SOURCES {
        // `/items` has no OPTIONS handler and would answer 401 without a token.
        let (status, h) = call(&client, event(source, "OPTIONS", "/items", &preflight_headers(ALLOWED))).await;
        let what = format!("{source:?}");
        assert_eq!(status, 200, "{what}: {h:?}");
        assert_eq!(h["access-control-allow-origin"], ALLOWED, "{what}");
        assert_eq!(h["access-control-allow-credentials"], "true", "{what}");
        assert_eq!(h["access-control-max-age"], "600", "{what}");
        let methods = h["access-control-allow-methods"].to_ascii_uppercase();
        assert!(methods.contains("GET") && methods.contains("POST"), "{what}: {methods}");
        assert!(h["access-control-allow-headers"].contains("authorization"), "{what}");
        assert!(h["vary"].to_ascii_lowercase().contains("origin"), "{what}");
        assert_security_headers(&h, &what);
    }
}

#[tokio::test]
async fn actual_requests_from_an_allowed_origin_carry_cors_headers_on_every_source() {
    let client = TestClient::new(app());
    for source in SOURCES {
        let what = format!("{source:?}");
        let headers = [("Origin", ALLOWED), ("Authorization", "Bearer t")];
        let (status, h) = call(&client, event(source, "GET", "/items", &headers)).await;
        assert_eq!(status, 200, "{what}: {h:?}");
        assert_eq!(h["access-control-allow-origin"], ALLOWED, "{what}");
        assert_eq!(h["access-control-allow-credentials"], "true", "{what}");
        assert_eq!(h["access-control-expose-headers"], "x-request-id", "{what}");
        // Preflight-only headers are not on actual answers.
        assert!(!h.contains_key("access-control-max-age"), "{what}");
        assert_security_headers(&h, &what);
    }
}

#[tokio::test]
async fn error_answers_for_an_allowed_origin_carry_cors_and_security_headers() {
    let client = TestClient::new(app());
    for source in SOURCES {
        let what = format!("{source:?}");
        let origin = [("Origin", ALLOWED)];
        for (method, path, want) in [
            ("GET", "/items", 401),   // the route refuses: the page must see the 401
            ("GET", "/nowhere", 404), // no route
            ("POST", "/items", 405),  // no POST handler
            ("GET", "/panic", 500),
        ] {
            let (status, h) = call(&client, event(source, method, path, &origin)).await;
            assert_eq!(status, want, "{what} {method} {path}: {h:?}");
            assert_eq!(h["access-control-allow-origin"], ALLOWED, "{what} {method} {path}");
            assert_security_headers(&h, &format!("{what} {method} {path}"));
        }
    }
}

#[tokio::test]
async fn a_disallowed_origin_gets_no_cors_header_and_its_preflight_is_refused() {
    let client = TestClient::new(app());
    for source in SOURCES {
        let what = format!("{source:?}");
        let (status, h) = call(&client, event(source, "OPTIONS", "/items", &preflight_headers(OTHER))).await;
        assert_eq!(status, 403, "{what}: {h:?}");
        assert_no_cors(&h, &what);
        assert!(
            h["vary"].to_ascii_lowercase().contains("origin"),
            "{what}: caches still key on Origin"
        );
        assert_security_headers(&h, &what);

        let headers = [("Origin", OTHER), ("Authorization", "Bearer t")];
        let (status, h) = call(&client, event(source, "GET", "/items", &headers)).await;
        assert_eq!(status, 200, "{what}: the server answers; the browser withholds it");
        assert_no_cors(&h, &what);
        let (status, h) = call(&client, event(source, "GET", "/nowhere", &[("Origin", OTHER)])).await;
        assert_eq!(status, 404, "{what}");
        assert_no_cors(&h, &what);
    }
}

#[tokio::test]
async fn the_preflight_refusal_names_its_code() {
    let client = TestClient::new(app());
    let out = client
        .invoke_json(event(Source::V2, "OPTIONS", "/items", &preflight_headers(OTHER)))
        .await;
    let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], lift::cors::ORIGIN_NOT_ALLOWED);
}

#[tokio::test]
async fn options_that_is_not_a_preflight_goes_to_the_routes() {
    let client = TestClient::new(app());
    for source in SOURCES {
        let what = format!("{source:?}");
        // No Access-Control-Request-Method: a plain OPTIONS request.
        let out = client
            .invoke_json(event(source, "OPTIONS", "/opts", &[("Origin", ALLOWED)]))
            .await;
        assert_eq!(out["statusCode"], 200, "{what}: {out}");
        assert_eq!(out["body"], "own options", "{what}");
        let (status, _) = call(&client, event(source, "OPTIONS", "/items", &[])).await;
        assert_eq!(status, 405, "{what}: no OPTIONS handler, not a preflight");
    }
}

#[tokio::test]
async fn a_request_without_origin_gets_no_cors_header_but_varies_on_origin() {
    let client = TestClient::new(app());
    for source in SOURCES {
        let what = format!("{source:?}");
        let (status, h) = call(
            &client,
            event(source, "GET", "/items", &[("Authorization", "Bearer t")]),
        )
        .await;
        assert_eq!(status, 200, "{what}");
        assert_no_cors(&h, &what);
        assert!(h["vary"].to_ascii_lowercase().contains("origin"), "{what}: {h:?}");
    }
}

#[tokio::test]
async fn a_header_the_handler_set_is_never_overwritten() {
    let client = TestClient::new(app());
    for source in SOURCES {
        let (status, h) = call(&client, event(source, "GET", "/frame", &[])).await;
        assert_eq!(status, 200);
        assert_eq!(h["x-frame-options"], "SAMEORIGIN", "{source:?}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{source:?}");
    }
}

#[tokio::test]
async fn an_undecodable_event_answer_carries_the_security_headers() {
    let client = TestClient::new(app());
    // A v2 event whose body claims base64 and is not: 400 from the edge, before any route.
    let mut e = event(Source::V2, "POST", "/items", &[]);
    e["body"] = json!("%%% not base64 %%%");
    e["isBase64Encoded"] = json!(true);
    let (status, h) = call(&client, e).await;
    assert_eq!(status, 400, "{h:?}");
    assert_security_headers(&h, "undecodable");
}

#[tokio::test]
async fn csp_is_sent_only_on_request() {
    let plain = TestClient::new(app());
    let (_, h) = call(&plain, event(Source::V2, "GET", "/frame", &[])).await;
    assert!(!h.contains_key("content-security-policy"));

    let strict = App::new()
        .route("/x", get(|| async { "x" }))
        .security_headers(
            SecurityHeaders::preset()
                .content_security_policy(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
        )
        .build();
    let (_, h) = call(&TestClient::new(strict), event(Source::V2, "GET", "/x", &[])).await;
    assert_eq!(
        h["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
}

#[cfg(feature = "resilience")]
#[tokio::test]
async fn cors_sits_outside_the_resilience_stack() {
    use lift::resilience::rate_limit::{per_second, RateLimitLayer};
    // One request a second: the second GET is a 429 that must still carry CORS headers, and
    // preflights never spend the quota.
    let app = App::new()
        .route("/limited", get(|| async { "ok" }))
        .resilience(RateLimitLayer::new(per_second(1)))
        .cors(cors())
        .build();
    let client = TestClient::new(app);
    for _ in 0..3 {
        let (status, h) = call(
            &client,
            event(Source::V2, "OPTIONS", "/limited", &preflight_headers(ALLOWED)),
        )
        .await;
        assert_eq!(status, 200, "preflight: {h:?}");
    }
    let origin = [("Origin", ALLOWED)];
    let (status, _) = call(&client, event(Source::V2, "GET", "/limited", &origin)).await;
    assert_eq!(status, 200, "the preflights spent no quota");
    let (status, h) = call(&client, event(Source::V2, "GET", "/limited", &origin)).await;
    assert_eq!(status, 429);
    assert_eq!(h["access-control-allow-origin"], ALLOWED, "{h:?}");
}

/// One request over a real socket to the local server; status and lower-cased headers.
async fn local_request(addr: std::net::SocketAddr, head: &str) -> (u16, BTreeMap<String, String>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

#[tokio::test]
async fn the_local_server_answers_cors_like_lambda() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lift::local::serve_listener(
        app(),
        listener,
        lift::local::LocalConfig::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let pre = |origin: &str| {
        format!(
            "OPTIONS /items HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n"
        )
    };
    let (status, h) = local_request(addr, &pre(ALLOWED)).await;
    assert_eq!(status, 200, "{h:?}");
    assert_eq!(h["access-control-allow-origin"], ALLOWED);
    assert_eq!(h["access-control-max-age"], "600");
    assert_security_headers(&h, "local preflight");

    let (status, h) = local_request(addr, &pre(OTHER)).await;
    assert_eq!(status, 403);
    assert_no_cors(&h, "local disallowed preflight");

    let get = format!("GET /nowhere HTTP/1.1\r\nHost: x\r\nOrigin: {ALLOWED}\r\nConnection: close\r\n\r\n");
    let (status, h) = local_request(addr, &get).await;
    assert_eq!(status, 404);
    assert_eq!(h["access-control-allow-origin"], ALLOWED);
    assert_security_headers(&h, "local 404");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

async fn panics() -> &'static str {
    panic!("on purpose")
}
