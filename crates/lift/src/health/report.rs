//! [`Report`]: the outcome of one readiness run, and its HTTP answer.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// It passed.
    Up,
    /// It answered with an error.
    Down,
    /// It did not answer within its timeout (it was cancelled).
    TimedOut,
}

/// One check's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// How it ended.
    pub status: CheckStatus,
    /// How long it took (its timeout when it timed out), in milliseconds.
    #[serde(rename = "latency_ms", serialize_with = "millis")]
    pub latency: Duration,
    /// The check's error, when it was down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    // Microsecond precision is plenty and keeps the JSON short.
    s.serialize_f64((d.as_micros() as f64) / 1000.0)
}

/// The outcome of one readiness run: every check by name.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `ready` when every check is up, else `not_ready`.
    status: &'static str,
    /// Each check's outcome, by name.
    pub checks: BTreeMap<String, CheckReport>,
}

impl Report {
    pub(crate) fn new(checks: BTreeMap<String, CheckReport>) -> Self {
        let ready = checks.values().all(|c| c.status == CheckStatus::Up);
        Self {
            status: if ready { "ready" } else { "not_ready" },
            checks,
        }
    }

    /// Whether every check passed (a readiness with no check is ready).
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }

    /// 200 when ready, else 503; never cached by a client or proxy.
    pub fn status_code(&self) -> StatusCode {
        if self.is_ready() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

impl IntoResponse for &Report {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(self) {
            Ok(body) => body,
            Err(e) => return crate::Error::internal(format!("readiness report: {e}")).into_response(),
        };
        (
            self.status_code(),
            [
                (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response()
    }
}
