//! Idempotency's stable error codes and the Lift errors (and HTTP answers) it refuses with.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::error::Error;

/// Stable codes of idempotency refusals (`{"error": {"code"}}` on HTTP, `Lift.<code>` for
/// Lambda errors and failed records).
pub mod code {
    /// The key was used before with a different payload (422). The stored record is untouched.
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    /// A call with the same key is running now (409, with `Retry-After`).
    pub const IDEMPOTENCY_IN_PROGRESS: &str = "idempotency_in_progress";
    /// The idempotency store did not answer in time or failed (503); nothing ran.
    pub const IDEMPOTENCY_UNAVAILABLE: &str = "idempotency_unavailable";
    /// The result is larger than the store can hold (500); it is never truncated.
    pub const IDEMPOTENCY_RESULT_TOO_LARGE: &str = "idempotency_result_too_large";
    /// The key is required and absent (400).
    pub const IDEMPOTENCY_KEY_MISSING: &str = "idempotency_key_missing";
    /// The key is not 1 to 255 bytes of visible ASCII (400).
    pub const IDEMPOTENCY_KEY_INVALID: &str = "idempotency_key_invalid";
}

/// Why an idempotent call did not run (or its result was not kept).
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    KeyReused,
    InProgress { retry_after: Duration },
    Unavailable { cause: String },
    TooLarge { size: usize, limit: usize },
    KeyMissing,
    KeyInvalid,
}

impl Refusal {
    /// The Lift error (status, stable code, public message; causes stay private).
    pub(crate) fn error(&self) -> Error {
        match self {
            Self::KeyReused => Error::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::IDEMPOTENCY_KEY_REUSED,
                "this idempotency key was already used with a different payload",
            ),
            Self::InProgress { .. } => Error::new(
                StatusCode::CONFLICT,
                code::IDEMPOTENCY_IN_PROGRESS,
                "a request with this idempotency key is in progress; retry later",
            ),
            Self::Unavailable { cause } => Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::IDEMPOTENCY_UNAVAILABLE,
                "idempotency cannot be guaranteed right now; retry later",
            )
            .with_source(std::io::Error::other(cause.clone())),
            Self::TooLarge { size, limit } => Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::IDEMPOTENCY_RESULT_TOO_LARGE,
                "internal error",
            )
            .with_source(std::io::Error::other(format!(
                "the result ({size} bytes) is larger than the idempotency store holds ({limit} bytes); it was not stored and the key was released"
            ))),
            Self::KeyMissing => Error::bad_request(code::IDEMPOTENCY_KEY_MISSING, "an idempotency key is required"),
            Self::KeyInvalid => Error::bad_request(
                code::IDEMPOTENCY_KEY_INVALID,
                "the idempotency key must be 1 to 255 bytes of visible ASCII",
            ),
        }
    }

    /// The HTTP answer: the error, with `Retry-After` on 409 and 503.
    pub(crate) fn response(&self) -> Response {
        let retry_after = match self {
            Self::InProgress { retry_after } => Some(retry_after.as_millis().div_ceil(1000).max(1)),
            Self::Unavailable { .. } => Some(1),
            _ => None,
        };
        let mut res = self.error().into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs as u64));
        }
        res
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        r.error()
    }
}
