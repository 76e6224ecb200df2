//! `Json<T>` and `ValidJson<T>`: JSON bodies with Lift's error model.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::convert::too_large;
use super::describe::field_error;
use super::RequestContext;
use crate::error::{code, Error};

/// A JSON request body (extractor) or response body.
///
/// Rejections use Lift's codes: syntax errors are 400 `malformed_json`; JSON of the wrong shape
/// is 422 `invalid_body` naming the field path and the rule (for instance
/// ``field `items[0].qty`: is required``), never a Rust type or a parser position; a missing
/// JSON content type is 415; a body over the limit ([`App::body_limit`](crate::App::body_limit))
/// is 413. WebSocket messages, which carry no content type, are read as JSON without one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A JSON body that must also pass its `validator` rules; rule failures are 422
/// `validation_failed` with `details` listing each failing field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned> Json<T> {
    /// Deserializes a JSON body. Syntax errors are 400 `malformed_json`; JSON of the wrong
    /// shape is 422 `invalid_body` naming the field path and the rule
    /// ("field `items[0].qty`: is required"), never a Rust type or a parser position.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| {
                let path = e.path().to_string();
                json_error(&path, e.into_inner())
            })
            .and_then(|v| de.end().map(|()| v).map_err(|e| json_error(".", e)))?;
        Ok(Json(value))
    }
}

fn json_error(path: &str, e: serde_json::Error) -> Error {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => Error::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::INVALID_BODY,
            field_error("field", path, &e.to_string()),
        ),
        Category::Syntax | Category::Eof | Category::Io => {
            Error::bad_request(code::MALFORMED_JSON, "the body is not valid JSON").with_source(e)
        }
    }
}

/// `application/json` or any `application/*+json`.
fn is_json(headers: &http::HeaderMap) -> bool {
    let Some(ct) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // WebSocket messages carry no content type: their bodies are taken as JSON as they are.
        let websocket = matches!(
            req.extensions().get::<RequestContext>(),
            Some(RequestContext::WebSocket(_))
        );
        if !websocket && !is_json(req.headers()) {
            return Err(Error::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::UNSUPPORTED_MEDIA_TYPE,
                "expected `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            other => Error::bad_request(code::MALFORMED_JSON, "the body could not be read").with_source(other),
        })?;
        Self::from_bytes(&bytes)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<T: DeserializeOwned + Validate, S: Send + Sync> FromRequest<S> for ValidJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        value.validate().map_err(validation_error)?;
        Ok(ValidJson(value))
    }
}

/// Converts `validator` errors into a 422 whose message names every failing field and whose
/// details map each field to its failed rules.
pub fn validation_error(errors: ValidationErrors) -> Error {
    let mut fields = Vec::new();
    collect(&errors, String::new(), &mut fields);
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let message = fields
        .iter()
        .map(|(field, msgs)| format!("{field}: {}", msgs.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    let details: serde_json::Map<String, serde_json::Value> = fields
        .into_iter()
        .map(|(f, msgs)| (f, serde_json::Value::from(msgs)))
        .collect();
    Error::validation(message, serde_json::json!({ "fields": details }))
}

fn collect(errors: &ValidationErrors, prefix: String, out: &mut Vec<(String, Vec<String>)>) {
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(errs) => {
                let msgs = errs
                    .iter()
                    .map(|e| e.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| describe(e)))
                    .collect();
                out.push((name, msgs));
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, name, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(inner, format!("{name}[{i}]"), out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    let p = |k: &str| e.params.get(k).map(|v| v.to_string());
    match &*e.code {
        "length" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "invalid length".to_owned(),
        },
        "range" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "out of range".to_owned(),
        },
        other => format!("failed rule `{other}`"),
    }
}
