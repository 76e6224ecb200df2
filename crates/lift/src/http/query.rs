//! `Query<T>`: the query string deserialized, with Lift's error model.

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::describe::field_error;
use crate::error::{code, Error};

/// The request's query string deserialized into `T` (`?page=2&tag=a`), percent-decoded.
///
/// A query that does not deserialize is 400 `invalid_query`, naming the parameter and the rule
/// ("query parameter `page`: must be a non-negative integer"). A missing query string is
/// deserialized as an empty one, so optional fields work.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> Query<T> {
    /// Deserializes a query string (without the `?`).
    pub fn try_from_query(query: &str) -> Result<Self, Error> {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Query).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            Error::bad_request(code::INVALID_QUERY, field_error("query parameter", &path, &message))
        })
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::try_from_query(parts.uri.query().unwrap_or_default())
    }
}
