//! Classification of call results: what counts as a failure, what is ignored, what is retried.

use std::error::Error;

use crate::bulkhead::BulkheadFull;
use crate::circuit_breaker::Open;
use crate::load_shed::Overloaded;
use crate::rate_limit::RateLimited;
use crate::timeout::Elapsed;

/// How a call's result counts for the circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A success.
    Success,
    /// A failure (counts towards the failure rate).
    Failure,
    /// Not recorded at all (neither success nor failure).
    Ignored,
}

/// Decides how a response or an error counts for the circuit breaker.
pub trait Classify<Res>: Clone + Send + Sync + 'static {
    /// Outcome of a response. Default: success.
    fn classify_response(&self, res: &Res) -> Outcome {
        let _ = res;
        Outcome::Success
    }

    /// Outcome of an error. Default: see [`classify_error_default`].
    fn classify_error(&self, err: &(dyn Error + 'static)) -> Outcome {
        classify_error_default(err)
    }
}

/// The default error classification: a rejection by another resilience layer (`Open`,
/// `BulkheadFull`, `Overloaded`, `RateLimited`) is ignored — it says nothing about the health of
/// what is behind the breaker — and every other error, timeouts included, is a failure.
pub fn classify_error_default(err: &(dyn Error + 'static)) -> Outcome {
    if is_rejection(err) {
        Outcome::Ignored
    } else {
        Outcome::Failure
    }
}

/// True when `err` (or an error in its source chain) is a rejection by one of this crate's
/// layers other than a timeout.
pub fn is_rejection(err: &(dyn Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<Open>() || e.is::<BulkheadFull>() || e.is::<Overloaded>() || e.is::<RateLimited>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// True when `err` (or its source chain) is a timeout of this crate.
pub fn is_timeout(err: &(dyn Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<Elapsed>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Every response is a success; errors per [`classify_error_default`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultClassifier;

impl<Res> Classify<Res> for DefaultClassifier {}

/// For `http::Response`: status 5xx is a failure, everything else a success; errors per
/// [`classify_error_default`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpClassifier;

impl<B> Classify<http::Response<B>> for HttpClassifier {
    #[inline]
    fn classify_response(&self, res: &http::Response<B>) -> Outcome {
        if res.status().is_server_error() {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

/// A view of an error type as `&dyn Error`, so classifiers can walk it. Implemented for
/// [`tower::BoxError`], [`std::convert::Infallible`], [`std::io::Error`] and this crate's error
/// types.
pub trait AsDynError {
    /// The error as a trait object.
    fn as_dyn_error(&self) -> &(dyn Error + 'static);
}

impl AsDynError for tower::BoxError {
    fn as_dyn_error(&self) -> &(dyn Error + 'static) {
        &**self
    }
}

macro_rules! as_dyn_error {
    ($($t:ty),*) => {$(
        impl AsDynError for $t {
            fn as_dyn_error(&self) -> &(dyn Error + 'static) {
                self
            }
        }
    )*};
}
as_dyn_error!(
    std::convert::Infallible,
    std::io::Error,
    Open,
    BulkheadFull,
    Overloaded,
    Elapsed,
    RateLimited
);
