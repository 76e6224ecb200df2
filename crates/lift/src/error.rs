//! One error model for HTTP routes and event handlers, with stable codes.
//!
//! HTTP clients receive `{"error": {"code", "message", "request_id"}}` with the matching status;
//! Lambda receives a `Diagnostic` whose `errorType` is `Lift.<code>`. Internals (the source of an
//! internal error, a panic message) are logged, never put in a response body.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

/// A type-erased error, as passed through tower middleware.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Stable error codes. Clients and alarms may match on these strings; they never change meaning.
pub mod code {
    /// The body is not valid JSON.
    pub const MALFORMED_JSON: &str = "malformed_json";
    /// The event or request could not be decoded into its typed form.
    pub const MALFORMED_EVENT: &str = "malformed_event";
    /// The body is JSON of the wrong shape for the route.
    pub const INVALID_BODY: &str = "invalid_body";
    /// The body decoded but broke a validation rule.
    pub const VALIDATION_FAILED: &str = "validation_failed";
    /// A path parameter is not UTF-8 once percent-decoded, or does not parse.
    pub const INVALID_PATH: &str = "invalid_path";
    /// The query string does not deserialize into the route's parameters.
    pub const INVALID_QUERY: &str = "invalid_query";
    /// The request body did not arrive in time (local server).
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    /// The request's content type is not one the route accepts.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// The body is larger than the configured limit.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// No route matches the path.
    pub const NOT_FOUND: &str = "not_found";
    /// A route matches the path but not the method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The handler failed; details are in the logs.
    pub const INTERNAL_ERROR: &str = "internal_error";
    /// The handler panicked; the process keeps serving.
    pub const PANIC: &str = "panic";
    /// The event's shape matches no source Lift knows and no fallback handler is set.
    pub const UNKNOWN_EVENT: &str = "unknown_event";
    /// The event's source is known but no route matches it.
    pub const NO_ROUTE: &str = "no_route";
    /// One or more records of a non-batch source (SNS, S3, EventBridge) failed.
    pub const HANDLER_FAILED: &str = "handler_failed";
    /// Records failed and could not be reported one by one (identifier missing).
    pub const BATCH_FAILED: &str = "batch_failed";
}

/// The Lift error: a status, a stable code, a public message, optional public details and an
/// optional private source that is logged but never sent.
#[derive(Clone)]
pub struct Error {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    details: Option<Arc<serde_json::Value>>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error with an explicit status, stable code and public message.
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            details: None,
            source: None,
        }
    }

    /// 400 with a custom code, for input the handler refuses.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_FOUND, "no route matches this path")
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            "method not allowed on this path",
        )
    }

    /// 500 `internal_error`. The message is logged; clients see only "internal error".
    pub fn internal(private_message: impl Into<Cow<'static, str>>) -> Self {
        let private: Cow<'static, str> = private_message.into();
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_ERROR,
            "internal error",
        )
        .with_source(Private(private.into_owned()))
    }

    /// 422 `validation_failed` with per-field details.
    pub fn validation(message: impl Into<Cow<'static, str>>, details: serde_json::Value) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code::VALIDATION_FAILED, message).with_details(details)
    }

    /// Attaches public, machine-readable details (sent to the client).
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Arc::new(details));
        self
    }

    /// Attaches a private cause (logged, never sent).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    pub(crate) fn code_cow(&self) -> Cow<'static, str> {
        self.code.clone()
    }

    /// The public message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Public details, if any.
    pub fn details(&self) -> Option<&serde_json::Value> {
        self.details.as_deref()
    }

    /// The private cause, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The Lambda error type reported to the Runtime API: `Lift.<code>`.
    pub fn error_type(&self) -> String {
        format!("Lift.{}", self.code)
    }

    /// The Lambda diagnostic for event sources. Unlike HTTP bodies, the message names the
    /// private cause: it goes to the function's own logs and error metrics, not to a client.
    pub fn to_diagnostic(&self) -> lambda_runtime::Diagnostic {
        let error_message = match &self.source {
            Some(source) => format!("{}: {}", self.message, source),
            None => self.message.to_string(),
        };
        lambda_runtime::Diagnostic {
            error_type: self.error_type(),
            error_message,
        }
    }

    /// Renders the public JSON body: `{"error": {"code", "message", "request_id", "details"?}}`.
    pub(crate) fn body_json(&self, request_id: Option<&str>) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            request_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            details: Option<&'a serde_json::Value>,
        }
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
                request_id,
                details: self.details.as_deref(),
            },
        };
        // Serialising borrowed strings and a `Value` into a Vec cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// Any standard error converts into a 500 `internal_error` whose cause is kept private, so `?`
/// works in handlers. (`Error` itself deliberately does not implement `std::error::Error`, which
/// is what makes this blanket conversion possible, as in `anyhow`.)
impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(err: E) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_ERROR,
            "internal error",
        )
        .with_source(err)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.status.as_u16())
            .field("code", &self.code)
            .field("message", &self.message)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

/// A private message carried as an error source.
#[derive(Debug)]
struct Private(String);

impl fmt::Display for Private {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Private {}

/// Marker left in an error response's extensions so the edge can re-render the body with the
/// invocation's request id and log the private cause.
#[derive(Clone, Debug)]
pub(crate) struct ErrorReport(pub(crate) Error);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = self.body_json(None);
        let mut res = (self.status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        res.extensions_mut().insert(ErrorReport(self));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_errors_become_private_internal_errors() {
        let io = std::io::Error::other("disk on fire at /var/secret");
        let err: Error = io.into();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = String::from_utf8(err.body_json(Some("req-1"))).unwrap_or_default();
        assert!(!body.contains("secret"), "internals leaked: {body}");
        assert!(body.contains("\"request_id\":\"req-1\""), "{body}");
        let diag = err.to_diagnostic();
        assert_eq!(diag.error_type, "Lift.internal_error");
        assert!(diag.error_message.contains("disk on fire"));
    }

    #[test]
    fn details_are_public() {
        let err = Error::validation("item: too long", serde_json::json!({"item": ["length"]}));
        let v: serde_json::Value = serde_json::from_slice(&err.body_json(None)).unwrap_or_default();
        assert_eq!(v["error"]["code"], "validation_failed");
        assert_eq!(v["error"]["details"]["item"][0], "length");
        assert!(v["error"].get("request_id").is_none());
    }
}
