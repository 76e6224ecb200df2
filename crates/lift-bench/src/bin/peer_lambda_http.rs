//! Peer of the loop benchmarks: what a Rust user writes for an HTTP API without Lift, an axum
//! `Router` behind `lambda_http`'s adapter, serving the quick start's `GET /hello/{name}`
//! (`{"message": "hello, <name>"}`, the same handler as `examples/quickstart/src/lib.rs`).
//!
//! Multi-thread tokio runtime (`#[tokio::main]`). With `AWS_LAMBDA_MAX_CONCURRENCY` > 1 it runs
//! `lambda_http::run_concurrent` (one `/next` poller per slot); otherwise `lambda_http::run`.
//!
//! `lambda_http::run_concurrent` (1.3) requires a `Sync` response, which an axum `Response`
//! (its body a boxed `Send` stream) is not: there the router is wrapped in a `service_fn` that
//! converts each response to `lambda_http`'s own (buffered) `Response<Body>` first, with
//! `lambda_http::IntoResponse`, the conversion its adapter would make anyway. That is what a
//! user has to write to run axum on Managed Instances with `lambda_http`.

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use lambda_http::IntoResponse;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn hello(Path(name): Path<String>) -> Json<Value> {
    Json(json!({ "message": format!("hello, {name}") }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = Router::new().route("/hello/{name}", get(hello));
    let concurrency: u32 = std::env::var("AWS_LAMBDA_MAX_CONCURRENCY")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1);
    if concurrency > 1 {
        lambda_http::run_concurrent(lambda_http::service_fn(move |req: lambda_http::Request| {
            let app = app.clone();
            async move {
                let response = app.oneshot(req).await?;
                Ok::<_, lambda_http::Error>(response.into_response().await)
            }
        }))
        .await
    } else {
        lambda_http::run(app).await
    }
}
