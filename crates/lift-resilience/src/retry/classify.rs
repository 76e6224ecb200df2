use crate::classify::{is_rejection, AsDynError};

/// Decides whether a result is worth another attempt.
pub trait RetryClassify<Res, E>: Clone + Send + Sync + 'static {
    /// True when `result` should be retried.
    fn is_retryable(&self, result: &Result<Res, E>) -> bool;
}

/// Responses are final; errors are retried, except rejections by resilience layers (`Open`,
/// `BulkheadFull`, `Overloaded`, `RateLimited`): retrying into an overload amplifies it.
/// Timeouts are retried.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRetryClassifier;

impl<Res, E: AsDynError> RetryClassify<Res, E> for DefaultRetryClassifier {
    fn is_retryable(&self, result: &Result<Res, E>) -> bool {
        match result {
            Ok(_) => false,
            Err(e) => !is_rejection(e.as_dyn_error()),
        }
    }
}

/// For `http::Response`: 502, 503 and 504 are retried (429 is not: it asks to slow down);
/// errors as [`DefaultRetryClassifier`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpRetryClassifier;

impl<B, E: AsDynError> RetryClassify<http::Response<B>, E> for HttpRetryClassifier {
    fn is_retryable(&self, result: &Result<http::Response<B>, E>) -> bool {
        match result {
            Ok(res) => matches!(res.status().as_u16(), 502..=504),
            Err(e) => !is_rejection(e.as_dyn_error()),
        }
    }
}
