//! [`live`]: the liveness handler.

use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::IntoResponse;

/// `GET /health`: 200 `{"status": "ok"}` while the process serves requests. It checks
/// nothing else on purpose: a dependency that is down makes the function not ready (see
/// [`Readiness`](super::Readiness)), not dead.
pub async fn live() -> impl IntoResponse {
    (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        crate::Json(serde_json::json!({ "status": "ok" })),
    )
}
