//! HTTP sources through `App`: shapes per source, stages, case-insensitive headers, binary
//! bodies, limits, hostile input, panics and the local server.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use lift::{App, Context, Error, Json, Lift};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

async fn boom() -> &'static str {
    panic!("secret panic detail")
}

fn app() -> Lift {
    App::new()
        .route(
            "/echo",
            post(|headers: HeaderMap, body: Bytes| async move {
                let auth = headers
                    .get("Authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let tenant = headers
                    .get("x-tenant-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                Json(json!({"auth": auth, "tenant": tenant, "len": body.len()}))
            }),
        )
        .route(
            "/binary",
            get(|| async { ([("content-type", "image/png")], vec![0x89u8, b'P', b'N', b'G', 0, 0xff]) }),
        )
        .route(
            "/cookie",
            get(|| async {
                (
                    axum::response::AppendHeaders([("set-cookie", "a=1"), ("set-cookie", "b=2")]),
                    "ok",
                )
            }),
        )
        .route("/json", post(|Json(v): Json<Value>| async move { Json(v) }))
        .route(
            "/fail",
            get(|| async { Err::<(), Error>(Error::from(std::io::Error::other("db password=hunter2"))) }),
        )
        .route(
            "/ctx",
            get(|ctx: Context| async move {
                Json(json!({"id": ctx.request_id(), "left": ctx.remaining().map(|d| d.as_millis() as u64)}))
            }),
        )
        .route("/panic", get(boom))
        .route(
            "/query",
            get(|lift::Query(q): lift::Query<std::collections::BTreeMap<String, String>>| async move { Json(q) }),
        )
        .route(
            "/hello/{name}",
            get(|lift::Path(name): lift::Path<String>| async move { name }),
        )
        .route(
            "/orders/{id}",
            get(|lift::Path(id): lift::Path<u32>| async move { id.to_string() }),
        )
        .route(
            "/page",
            get(|lift::Query(p): lift::Query<Page>| async move { format!("{} {:?}", p.page, p.size) }),
        )
        .route(
            "/order",
            post(|Json(o): Json<NewOrder>| async move { format!("{} {} {}", o.item, o.qty, o.lines.len()) }),
        )
        .websocket("big", |Json(v): Json<Value>| async move { Json(v) })
        .route(
            "/spaced%20path",
            get(|q: axum::extract::Query<Value>| async move { Json(q.0) }),
        )
        .body_limit(1024)
        .build()
}

#[derive(serde::Deserialize)]
struct Page {
    page: u32,
    size: Option<u8>,
}

#[derive(serde::Deserialize)]
struct NewOrder {
    item: String,
    qty: u32,
    #[serde(default)]
    lines: Vec<OrderLine>,
}

#[derive(serde::Deserialize)]
struct OrderLine {
    #[allow(dead_code)] // read by serde only
    sku: String,
}

fn client() -> TestClient {
    TestClient::new(app())
}

fn body(v: &Value) -> Value {
    serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn headers_are_case_insensitive_on_every_source() {
    let c = client();
    for ev in [
        events::apigw_v1("POST", "/echo")
            .header("authorization", "Bearer a")
            .header("X-Tenant-Id", "t1"),
        events::apigw_v2("POST", "/echo")
            .header("Authorization", "Bearer a")
            .header("X-TENANT-ID", "t1"),
        events::alb("POST", "/echo")
            .header("AUTHORIZATION", "Bearer a")
            .header("x-tenant-id", "t1"),
        events::alb_multi_value("POST", "/echo")
            .header("Authorization", "Bearer a")
            .header("X-Tenant-ID", "t1"),
        events::function_url("POST", "/echo")
            .header("authorization", "Bearer a")
            .header("x-tenant-id", "t1"),
    ] {
        let out = c.invoke_json(ev.body("x").build()).await;
        assert_eq!(out["statusCode"], 200, "{out}");
        assert_eq!(
            body(&out),
            json!({"auth": "Bearer a", "tenant": "t1", "len": 1}),
            "{out}"
        );
    }
}

#[tokio::test]
async fn stages_are_not_part_of_routes() {
    let c = client();
    let out = c
        .invoke_json(events::apigw_v1("POST", "/echo").stage("prod").body("x").build())
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
    let out = c
        .invoke_json(events::apigw_v2("POST", "/echo").stage("live").body("x").build())
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
}

#[tokio::test]
async fn binary_bodies_round_trip_as_base64() {
    let c = client();
    let out = c.invoke_json(events::apigw_v2("GET", "/binary").build()).await;
    assert_eq!(out["isBase64Encoded"], true);
    assert_eq!(out["body"], "iVBORwD/");
    let out = c
        .invoke_json(events::apigw_v2("POST", "/echo").binary(&[0, 1, 2, 255]).build())
        .await;
    assert_eq!(body(&out)["len"], 4, "{out}");
}

#[tokio::test]
async fn v2_moves_set_cookie_into_cookies() {
    let out = client().invoke_json(events::apigw_v2("GET", "/cookie").build()).await;
    assert_eq!(out["cookies"], json!(["a=1", "b=2"]));
    assert!(out["headers"].get("set-cookie").is_none(), "{out}");
    // v1 keeps both cookies as multi-value headers.
    let out = client().invoke_json(events::apigw_v1("GET", "/cookie").build()).await;
    assert_eq!(out["multiValueHeaders"]["set-cookie"], json!(["a=1", "b=2"]));
}

#[tokio::test]
async fn error_statuses_and_codes() {
    let c = client();
    let cases = [
        (
            events::apigw_v2("POST", "/json")
                .header("content-type", "application/json")
                .body("{bad"),
            400,
            "malformed_json",
        ),
        (
            events::apigw_v2("POST", "/json").body("{}"),
            415,
            "unsupported_media_type",
        ),
        (
            events::apigw_v2("POST", "/json").json(&json!({"big": "x".repeat(2000)})),
            413,
            "payload_too_large",
        ),
        (events::apigw_v2("GET", "/nope"), 404, "not_found"),
        (events::apigw_v2("DELETE", "/json"), 405, "method_not_allowed"),
        (events::apigw_v2("GET", "/fail"), 500, "internal_error"),
        (events::apigw_v2("GET", "/panic"), 500, "panic"),
    ];
    for (ev, status, code) in cases {
        let out = c.invoke_json(ev.build()).await;
        assert_eq!(out["statusCode"], status, "{out}");
        let b = body(&out);
        assert_eq!(b["error"]["code"], code, "{out}");
        assert!(
            b["error"]["request_id"].as_str().is_some_and(|s| s.len() == 36),
            "{out}"
        );
        let raw = out["body"].as_str().unwrap_or("");
        assert!(
            !raw.contains("hunter2") && !raw.contains("secret panic"),
            "internals leaked: {raw}"
        );
    }
}

#[tokio::test]
async fn context_reaches_http_handlers_with_deadline() {
    let c = client().timeout(std::time::Duration::from_secs(10));
    let out = c.invoke_json(events::apigw_v2("GET", "/ctx").build()).await;
    let b = body(&out);
    assert_eq!(b["id"].as_str().map(str::len), Some(36));
    let left = b["left"].as_u64().unwrap_or(0);
    assert!(left > 5_000 && left <= 10_000, "{left}");
}

#[tokio::test]
async fn hostile_http_events_get_400_not_a_crash() {
    let c = client();
    // A Host header no URL can hold (lambda_http's own conversion panics on it) is just a header.
    let out = c
        .invoke_json(events::apigw_v2("GET", "/ctx").header("host", "exa mple.com").build())
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
    // A body marked base64 that is not (lambda_http's conversion panics on it): 400.
    let mut ev = events::apigw_v2("POST", "/echo").body("%%% not base64 %%%").build();
    ev["isBase64Encoded"] = json!(true);
    let out = c.invoke_json(ev).await;
    assert_eq!(out["statusCode"], 400, "{out}");
    assert_eq!(body(&out)["error"]["code"], "malformed_event");
    // A decoded v1 path with a space is encoded (axum matches encoded paths, as with lambda_http).
    let out = c
        .invoke_json(events::apigw_v1("GET", "/spaced path").query("q", "a&b=c d").build())
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(body(&out)["q"], "a&b=c d", "{out}");
    // Known shape, wrong types inside.
    let out = c
        .invoke_raw(r#"{"requestContext":{"http":{"method":5}},"rawPath":"/"}"#)
        .await
        .expect("HTTP answer");
    assert_eq!(out.status(), Some(400));
    // Still serving.
    assert_eq!(
        c.invoke_json(events::apigw_v2("GET", "/ctx").build()).await["statusCode"],
        200
    );
}

#[tokio::test]
async fn local_server_serves_routes_and_raw_events() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, lift::local::router(app())).await });
    let client = TcpClient(addr);
    let (status, body) = client.request("GET", "/nope", "").await;
    assert_eq!(status, 404);
    assert!(body.contains("\"request_id\""), "{body}");
    let ev = events::sqs("q").message("{}").build().to_string();
    let (status, body) = client.request("POST", lift::local::INVOKE_PATH, &ev).await;
    assert_eq!(status, 200);
    // No route for queue `q`: the record is reported failed, not dropped.
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "msg-0"}]})
    );
    let (status, body) = client.request("POST", lift::local::INVOKE_PATH, "{nope").await;
    assert_eq!(status, 200);
    assert!(body.contains("Lift.malformed_json"), "{body}");
    // An event over Lambda's 6 MB payload limit is refused, and the server keeps serving.
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(7 * 1024 * 1024));
    let (status, _) = client.request("POST", lift::local::INVOKE_PATH, &huge).await;
    assert_eq!(status, 413);
    let (status, _) = client.request("GET", "/ctx", "").await;
    assert_eq!(status, 200);
}

/// A minimal HTTP/1.1 client over a real socket (no client crate needed).
struct TcpClient(std::net::SocketAddr);

impl TcpClient {
    async fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.0).await.unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let status = out.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

#[tokio::test]
async fn websocket_custom_route_keys_and_unknown_keys() {
    use lift::WebSocket;
    let lift = App::new()
        .websocket("sendMessage", |ws: WebSocket, Json(v): Json<Value>| async move {
            Json(json!({"from": ws.connection_id, "route": ws.route_key, "text": v["text"]}))
        })
        .websocket("$default", |body: String| async move { body })
        .build();
    let c = TestClient::new(lift);
    let out = c
        .invoke_json(events::websocket("sendMessage", "abc=", Some(r#"{"text":"hi"}"#)))
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(
        body(&out),
        json!({"from": "abc=", "route": "sendMessage", "text": "hi"})
    );
    // A route key with characters a path cannot hold still routes (here: to nothing, 404).
    let out = c.invoke_json(events::websocket("odd key/?", "abc=", None)).await;
    assert_eq!(out["statusCode"], 404, "{out}");
    // HTTP events never reach WebSocket routes and vice versa.
    let out = c
        .invoke_json(events::apigw_v2("POST", "/sendMessage").body("{}").build())
        .await;
    assert_eq!(out["statusCode"], 404, "{out}");
}

#[tokio::test]
async fn arrays_and_unknown_shapes_are_unknown_events_not_http_answers() {
    let c = client();
    for junk in [
        "[[1]]",
        "[]",
        "7",
        "\"GET /\"",
        "{}",
        r#"{"requestContext": [[1]]}"#,
        r#"{"requestContext": {"elb": [1]}, "httpMethod": "GET"}"#,
    ] {
        let err = c.invoke_raw(junk).await.expect_err(junk);
        assert_eq!(err.error_type, "Lift.unknown_event", "{junk}");
    }
}

#[tokio::test]
async fn raw_query_characters_are_encoded_and_reach_query_unchanged_on_every_source() {
    let c = client();
    let raw = r#"{"a":"<b> c#d"}"#;
    for (name, ev) in [
        ("apigw v1", events::apigw_v1("GET", "/query")),
        ("apigw v2", events::apigw_v2("GET", "/query")),
        ("function url", events::function_url("GET", "/query")),
        ("alb", events::alb("GET", "/query")),
        ("alb multi-value", events::alb_multi_value("GET", "/query")),
    ] {
        let out = c.invoke_json(ev.query("q", raw).query("u", "grüße").build()).await;
        assert_eq!(out["statusCode"], 200, "{name}: {out}");
        assert_eq!(body(&out), json!({"q": raw, "u": "grüße"}), "{name}: {out}");
    }
}

/// Asserts a Lift JSON error body: status, code, a message without Rust types or parser
/// positions that contains `names`, and the request id.
fn assert_error(out: &Value, status: u16, code: &str, names: &str) {
    assert_eq!(out["statusCode"], status, "{out}");
    let b = body(out);
    assert_eq!(b["error"]["code"], code, "{out}");
    let message = b["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(names), "{message:?} should name {names:?}");
    for leak in [
        "struct",
        "NewOrder",
        "OrderLine",
        "u32",
        "u8",
        "line 1",
        "column",
        "alloc::",
        "String",
    ] {
        assert!(!message.contains(leak), "{message:?} leaks {leak:?}");
    }
    assert!(
        b["error"]["request_id"].as_str().is_some_and(|s| s.len() == 36),
        "{out}"
    );
}

#[tokio::test]
async fn path_and_query_rejections_are_json_errors_naming_field_and_rule() {
    let c = client();
    let get = |path: &str| events::apigw_v2("GET", path);
    let out = c.invoke_json(get("/hello/%FF").build()).await;
    assert_error(&out, 400, "invalid_path", "`name`: is not valid UTF-8");
    let out = c.invoke_json(get("/hello/%C3%BC").build()).await;
    assert_eq!(out["body"], "ü", "{out}");
    let out = c.invoke_json(get("/orders/abc").build()).await;
    assert_error(&out, 400, "invalid_path", "path parameter `id`: must be an integer");
    let out = c.invoke_json(get("/page").query("page", "x").build()).await;
    assert_error(&out, 400, "invalid_query", "`page`: must be an integer");
    let out = c.invoke_json(get("/page").build()).await;
    assert_error(&out, 400, "invalid_query", "query parameter `page`: is required");
    let out = c
        .invoke_json(get("/page").query("page", "1").query("size", "300").build())
        .await;
    assert_error(&out, 400, "invalid_query", "`size`");
    let out = c.invoke_json(get("/page").query("page", "2").build()).await;
    assert_eq!(out["body"], "2 None", "{out}");
}

#[tokio::test]
async fn json_rejections_name_the_field_path_and_rule() {
    let c = client();
    let post = |v: Value| events::apigw_v2("POST", "/order").json(&v).build();
    let out = c.invoke_json(post(json!({"item": "a", "qty": "x"}))).await;
    assert_error(&out, 422, "invalid_body", "field `qty`: must be an integer");
    let out = c.invoke_json(post(json!({"qty": 1}))).await;
    assert_error(&out, 422, "invalid_body", "field `item`: is required");
    let out = c.invoke_json(post(json!({"item": "a", "qty": 1, "lines": [{}]}))).await;
    assert_error(&out, 422, "invalid_body", "field `lines[0].sku`: is required");
    let out = c.invoke_json(post(json!("an order"))).await;
    assert_error(&out, 422, "invalid_body", "the body: must be an object");
    let out = c
        .invoke_json(
            events::apigw_v2("POST", "/order")
                .header("content-type", "application/json")
                .body(r#"{"item": "a", "qty": "#)
                .build(),
        )
        .await;
    assert_error(&out, 400, "malformed_json", "not valid JSON");
    let out = c.invoke_json(post(json!({"item": "a", "qty": 3}))).await;
    assert_eq!(out["body"], "a 3 0", "{out}");
}

#[tokio::test]
async fn oversized_websocket_message_is_a_413_json_error() {
    let c = client();
    let big = json!({"text": "x".repeat(4096)}).to_string();
    let out = c.invoke_json(events::websocket("big", "abc=", Some(&big))).await;
    assert_error(&out, 413, "payload_too_large", "larger than the limit");
    let out = c
        .invoke_json(events::websocket("big", "abc=", Some(r#"{"text":"hi"}"#)))
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
}

#[tokio::test]
async fn a_body_of_several_frames_is_sent_whole_and_a_body_that_fails_is_a_500() {
    use axum::body::Body;
    let chunks =
        |items: Vec<Result<&'static str, std::io::Error>>| Body::from_stream(futures_util::stream::iter(items));
    let app = App::new()
        .route(
            "/frames",
            get(move || async move {
                (
                    [("content-type", "text/plain")],
                    chunks(vec![Ok("one "), Ok(""), Ok("two "), Ok("three")]),
                )
            }),
        )
        .route(
            "/broken",
            get(move || async move {
                (
                    [("content-type", "text/plain")],
                    chunks(vec![Ok("half"), Err(std::io::Error::other("the stream broke"))]),
                )
            }),
        )
        .build();
    let c = TestClient::new(app);
    let out = c.invoke_json(events::apigw_v2("GET", "/frames").build()).await;
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(out["body"], "one two three", "{out}");
    let out = c.invoke_json(events::apigw_v2("GET", "/broken").build()).await;
    assert_eq!(out["statusCode"], 500, "{out}");
    assert!(!out.to_string().contains("half"), "{out}");
}
