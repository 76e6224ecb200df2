//! The local server's routes: the app's HTTP routes, and raw events the way the Lambda
//! emulators accept them, on `POST /2015-03-31/functions/function/invocations`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::{HeaderValue, StatusCode};

use crate::app::DEFAULT_BODY_LIMIT;
use crate::context::{claim_cold_start, Context};
use crate::error::Error;
use crate::function::Lift;
use crate::http::convert::too_large;

/// The path the Lambda emulators (RIE, SAM, cargo-lambda) accept raw events on.
pub const INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";

struct Local {
    lift: Lift,
    function_arn: String,
    timeout: Duration,
}

/// A Lambda context as the Runtime API would give one invocation: a fresh request id, a
/// deadline `timeout` from now, the function ARN and trace header given. Used by the local
/// server and the test kit.
pub fn lambda_context(timeout: Duration, function_arn: &str, trace_header: Option<String>) -> lambda_runtime::Context {
    let mut lambda = lambda_runtime::Context::default();
    lambda.request_id = uuid::Uuid::new_v4().to_string();
    let deadline = SystemTime::now() + timeout;
    lambda.deadline = deadline
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    lambda.invoked_function_arn = function_arn.to_owned();
    lambda.xray_trace_id = trace_header;
    lambda
}

/// A context for a locally served request (`AWS_LAMBDA_FUNCTION_TIMEOUT` seconds, default 30).
fn local_context(local: &Local, trace: Option<&HeaderValue>) -> Context {
    let trace = trace.and_then(|v| v.to_str().ok()).map(str::to_owned);
    Context::from_lambda(
        lambda_context(local.timeout, &local.function_arn, trace),
        claim_cold_start(),
    )
}

/// The local server as an axum router (for tests that bind their own listener).
pub fn router(lift: Lift) -> Router {
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "lift-local".to_owned());
    let timeout = std::env::var("AWS_LAMBDA_FUNCTION_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(Duration::from_secs(30), Duration::from_secs);
    let local = Arc::new(Local {
        lift,
        function_arn: format!("arn:aws:lambda:local:000000000000:function:{name}"),
        timeout,
    });
    Router::new()
        .route(INVOKE_PATH, post(invoke))
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .fallback(http)
        .with_state(local)
}

async fn invoke(State(local): State<Arc<Local>>, req: Request) -> Response {
    let trace = req.headers().get("x-amzn-trace-id").cloned();
    let ctx = local_context(&local, trace.as_ref());
    let request_id = ctx.request_id().to_owned();
    // The server edge has read the body whole already; this bounds a router served by hand.
    let Ok(body) = axum::body::to_bytes(req.into_body(), DEFAULT_BODY_LIMIT).await else {
        return error_response(&too_large(), &request_id);
    };
    // Not UTF-8: a NUL fails below as malformed JSON, like any other unparsable event.
    let text = std::str::from_utf8(&body).unwrap_or("\u{0}");
    let mut res = match local.lift.invoke_with(text, ctx).await {
        Ok(out) => (StatusCode::OK, Bytes::from(out.to_json())).into_response(),
        Err(diag) => {
            // As the emulators do: 200 with the error document and `X-Amz-Function-Error`.
            let body = serde_json::json!({"errorType": diag.error_type, "errorMessage": diag.error_message});
            let mut res = (StatusCode::OK, body.to_string()).into_response();
            res.headers_mut()
                .insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
            res
        }
    };
    res.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-amzn-requestid", v);
    }
    res
}

async fn http(State(local): State<Arc<Local>>, req: Request<Body>) -> Response {
    let ctx = local_context(&local, req.headers().get("x-amzn-trace-id"));
    local.lift.serve_http(req, ctx).await
}

/// A Lift error answered before the request reached the app: the JSON error body with
/// `request_id`, and the id in `x-request-id`.
pub(crate) fn error_response(err: &Error, request_id: &str) -> Response {
    let mut res = (err.status(), err.body_json(Some(request_id))).into_response();
    let headers = res.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", v);
    }
    res
}
