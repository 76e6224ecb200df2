//! AWS-written authorizer events (the `aws_lambda_events` fixtures) through `App::authorizer`:
//! REST TOKEN and REQUEST, WebSocket `$connect`, HTTP API payload 1.0 and 2.0.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use axum::routing::get;
use lift::authorizer::{AuthorizerKind, AuthorizerRequest, AuthorizerResponse, Policy};
use lift::{App, Context, Error, Lift};
use lift_testing::TestClient;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// Allows what the fixtures carry as credentials: the TOKEN fixture's `allow`, the REQUEST
/// fixtures' `HeaderAuth1: headerValue1` or `Header1: value1` (names in any case); HTTP API 2.0
/// gets the simple response.
async fn authorize(_ctx: Context, req: AuthorizerRequest) -> Result<AuthorizerResponse, Error> {
    let header_ok = req.headers().get("headerauth1").is_some_and(|v| v == "headerValue1")
        || req.headers().get("HEADER1").is_some_and(|v| v == "value1");
    let allowed = req.authorization_token() == Some("allow") || header_ok;
    if req.authorization_token() == Some("unauthorized") {
        return Ok(AuthorizerResponse::unauthorized());
    }
    if req.authorization_token() == Some("fail") {
        return Err(Error::internal("the identity provider is down"));
    }
    let kind = format!("{:?}", req.kind());
    Ok(match (req.kind(), allowed) {
        (AuthorizerKind::HttpApiV2, ok) => AuthorizerResponse::simple(ok).context("kind", kind),
        (_, true) => AuthorizerResponse::allow("user-1")
            .context("tenant_id", "acme")
            .context("kind", kind)
            .context("nested", json!({"a": 1})),
        (_, false) => AuthorizerResponse::deny("anonymous"),
    })
}

fn lift() -> Lift {
    App::new()
        .route("/request", get(|| async { "an HTTP route, not the authorizer" }))
        .authorizer(authorize)
        .build()
}

async fn invoke(event: Value) -> Value {
    TestClient::new(lift()).invoke_json(event).await
}

fn assert_policy(out: &Value, effect: &str, arn: &str) {
    let st = &out["policyDocument"]["Statement"][0];
    assert_eq!(out["policyDocument"]["Version"], "2012-10-17", "{out}");
    assert_eq!(st["Effect"], effect, "{out}");
    assert_eq!(st["Action"], "execute-api:Invoke");
    assert_eq!(st["Resource"], json!([arn]));
    assert!(out.get("statusCode").is_none(), "not an HTTP reply: {out}");
}

#[tokio::test]
async fn rest_token_events_get_an_iam_policy() {
    let event = fixture("example-apigw-custom-auth-request.json");
    let arn = event["methodArn"].as_str().unwrap().to_owned();
    let out = invoke(event.clone()).await;
    assert_policy(&out, "Allow", &arn);
    assert_eq!(out["principalId"], "user-1");
    assert_eq!(out["context"]["tenant_id"], "acme");
    assert_eq!(out["context"]["kind"], "Token");
    assert_eq!(
        out["context"]["nested"], "{\"a\":1}",
        "REST takes only scalars: nested values as JSON text"
    );

    let mut denied = event.clone();
    denied["authorizationToken"] = json!("deny");
    let out = invoke(denied).await;
    assert_policy(&out, "Deny", &arn);
    assert_eq!(out["principalId"], "anonymous");
    assert!(out.get("context").is_none());

    // `Unauthorized` is the Lambda error API Gateway turns into 401; a failure is another error.
    let mut unauth = event.clone();
    unauth["authorizationToken"] = json!("unauthorized");
    let out = invoke(unauth).await;
    assert_eq!(out["errorMessage"], "Unauthorized", "{out}");
    let mut fail = event;
    fail["authorizationToken"] = json!("fail");
    let out = invoke(fail).await;
    assert_eq!(out["errorType"], "Lift.internal_error", "{out}");
}

#[tokio::test]
async fn rest_request_events_are_authorizer_events_not_http_requests() {
    let event = fixture("example-apigw-custom-auth-request-type-request.json");
    let arn = event["methodArn"].as_str().unwrap().to_owned();
    let out = invoke(event.clone()).await;
    assert_policy(&out, "Allow", &arn);
    assert_eq!(out["context"]["kind"], "Request");

    let mut wrong = event;
    wrong["headers"]["HeaderAuth1"] = json!("nope");
    wrong["multiValueHeaders"]["HeaderAuth1"] = json!(["nope"]);
    assert_policy(&invoke(wrong).await, "Deny", &arn);
}

#[tokio::test]
async fn websocket_connect_and_http_api_v1_requests_get_policies() {
    for name in [
        "example-apigw-v2-custom-authorizer-websocket-request.json",
        "example-apigw-v2-custom-authorizer-v1-request.json",
    ] {
        let event = fixture(name);
        let arn = event["methodArn"].as_str().unwrap().to_owned();
        let out = invoke(event).await;
        assert_eq!(out["context"]["kind"], "Request", "{name}: {out}");
        assert_policy(&out, "Allow", &arn);
        assert_eq!(out["principalId"], "user-1");
    }
}

#[tokio::test]
async fn http_api_v2_gets_the_simple_response_or_a_policy_as_the_handler_chooses() {
    let event = fixture("example-apigw-v2-custom-authorizer-v2-request.json");
    let out = invoke(event.clone()).await;
    assert_eq!(out, json!({"isAuthorized": true, "context": {"kind": "HttpApiV2"}}));

    let mut wrong = event.clone();
    wrong["headers"]["Header1"] = json!("nope");
    assert_eq!(
        invoke(wrong).await,
        json!({"isAuthorized": false, "context": {"kind": "HttpApiV2"}})
    );

    // A policy instead, with explicit statements built by the policy builder.
    let arn = event["routeArn"].as_str().unwrap().to_owned();
    let lift = App::new()
        .authorizer(|_ctx: Context, req: AuthorizerRequest| async move {
            let policy = Policy::new("user-9")
                .allow(req.stage_arn_wildcard())
                .deny_request()
                .context("nested", json!({"a": 1}))
                .usage_identifier_key("ignored on HTTP APIs");
            Ok::<_, Error>(AuthorizerResponse::policy(policy))
        })
        .build();
    let out = TestClient::new(lift).invoke_json(event).await;
    assert_eq!(out["principalId"], "user-9");
    let statements = out["policyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(
        statements[0]["Resource"],
        json!(["arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*"])
    );
    assert_eq!(statements[1]["Effect"], "Deny");
    assert_eq!(statements[1]["Resource"], json!([arn]));
    assert_eq!(
        out["context"]["nested"],
        json!({"a": 1}),
        "HTTP APIs take nested context"
    );
    assert!(out.get("usageIdentifierKey").is_none());
}

#[tokio::test]
async fn without_an_authorizer_the_events_are_not_answered_as_http() {
    let lift = App::new().route("/request", get(|| async { "an HTTP route" })).build();
    let out = TestClient::new(lift)
        .invoke_json(fixture("example-apigw-custom-auth-request-type-request.json"))
        .await;
    assert_eq!(out["errorType"], "Lift.unknown_event", "{out}");
}

#[tokio::test]
async fn malformed_authorizer_events_are_errors_not_panics() {
    for event in [
        json!({"type": "TOKEN", "methodArn": "arn:x", "authorizationToken": 5}),
        json!({"type": "REQUEST", "methodArn": "arn:x", "headers": [1, 2]}),
        json!({"type": "REQUEST", "routeArn": "arn:x", "version": "2.0", "headers": {"a": 1, "b\n": "x", "c": "\u{1}"}}),
    ] {
        let out = invoke(event.clone()).await;
        assert!(
            out.get("policyDocument").is_some() || out.get("isAuthorized").is_some(),
            "{event} -> {out}"
        );
    }
}
