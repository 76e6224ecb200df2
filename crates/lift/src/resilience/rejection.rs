//! A resilience rejection as a Lift error, and a middleware error as a Lift response.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use lift_resilience::{code, rejection, Rejection};

use crate::error::{code as lift_code, Error};

/// The Lift error for a resilience rejection (status and stable code from the rejection).
pub fn rejection_error(r: &Rejection) -> Error {
    let message = match r.code {
        code::CIRCUIT_OPEN => "the service is failing; the circuit is open, retry later",
        code::BULKHEAD_FULL => "too many requests in flight; retry later",
        code::OVERLOADED => "the service is overloaded; retry later",
        code::TIMEOUT => "the request did not finish in time",
        code::RATE_LIMITED => "rate limit exceeded",
        _ => "the request was rejected",
    };
    Error::new(r.status, r.code, message)
}

/// Turns an error from a middleware stack into a response: resilience rejections become
/// their 503 / 504 / 429 with the headers of [`Rejection::headers`] (`Retry-After` on every
/// 503 and 429, `RateLimit-*` and `X-RateLimit-*` on 429s); anything else is a 500 whose cause
/// is logged, not sent.
pub fn error_response(err: crate::BoxError) -> Response {
    match rejection(&*err) {
        Some(r) => {
            let mut res = rejection_error(&r).into_response();
            res.headers_mut().extend(r.headers());
            res
        }
        None => Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            lift_code::INTERNAL_ERROR,
            "internal error",
        )
        .with_source(std::io::Error::other(err.to_string()))
        .into_response(),
    }
}

/// Maps a record handler's middleware error to the record's failure (rejections keep their
/// code, so logs say why the record was not processed).
pub fn error_to_lift(err: crate::BoxError) -> Error {
    match rejection(&*err) {
        Some(r) => rejection_error(&r),
        None => Error::from(std::io::Error::other(err.to_string())),
    }
}
