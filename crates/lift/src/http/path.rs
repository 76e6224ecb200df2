//! `Path<T>`: axum's path extractor with Lift's error model.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::describe::{expected, field_error};
use crate::error::{code, Error};

/// Path parameters of the matched route (`/hello/{name}`), deserialized into `T`.
///
/// Rejections are Lift errors: a parameter that is not UTF-8 once percent-decoded
/// (`/hello/%FF`) or that does not parse is 400 `invalid_path`, naming the parameter and the
/// rule; a `T` that does not fit the route's parameters is a 500 (a bug in the route, not in
/// the request).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rejection) => {
                // A lone parameter's errors carry no key: name it from the route's parameters.
                let only = match axum::extract::RawPathParams::from_request_parts(parts, state).await {
                    Ok(params) if params.iter().count() == 1 => params.iter().next().map(|(k, _)| k.to_owned()),
                    _ => None,
                };
                Err(path_error(rejection, only.as_deref()))
            }
        }
    }
}

fn path_error(rejection: PathRejection, only: Option<&str>) -> Error {
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return Error::internal("`Path` used on a route without path parameters").with_source(rejection);
    };
    let invalid = |message: String| Error::bad_request(code::INVALID_PATH, message);
    match e.into_kind() {
        ErrorKind::InvalidUtf8InPathParam { key } => invalid(format!(
            "path parameter `{key}`: is not valid UTF-8 once percent-decoded"
        )),
        ErrorKind::ParseErrorAtKey { key, expected_type, .. } => {
            invalid(format!("path parameter `{key}`: must be {}", expected(expected_type)))
        }
        ErrorKind::ParseErrorAtIndex {
            index, expected_type, ..
        } => invalid(format!(
            "path parameter {}: must be {}",
            index + 1,
            expected(expected_type)
        )),
        ErrorKind::ParseError { expected_type, .. } => match only {
            Some(key) => invalid(format!("path parameter `{key}`: must be {}", expected(expected_type))),
            None => invalid(format!("the path: must be {}", expected(expected_type))),
        },
        ErrorKind::DeserializeError { key, message, .. } => invalid(field_error("path parameter", &key, &message)),
        ErrorKind::Message(message) => invalid(field_error("path parameter", only.unwrap_or("."), &message)),
        kind @ (ErrorKind::WrongNumberOfParameters { .. } | ErrorKind::UnsupportedType { .. }) => {
            Error::internal(format!("`Path` does not fit the route: {kind}"))
        }
        kind => invalid("the path is not valid".to_owned()).with_source(std::io::Error::other(kind.to_string())),
    }
}
