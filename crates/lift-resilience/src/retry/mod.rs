//! Retry on tower's [`Retry`](tower::retry::Retry) with [`RetryPolicy`], a
//! [`Policy`](tower::retry::Policy): exponential backoff with full or decorrelated jitter, a
//! maximum number of attempts, tower's [`TpsBudget`](tower::retry::budget::TpsBudget) as retry
//! budget, a [`RetryClassify`] deciding what is retryable, and no attempt started that cannot
//! finish before the invocation deadline.
//!
//! "Cannot finish" is judged as `now + backoff + expected attempt time > deadline`, where the
//! expected attempt time is the larger of the last attempt's measured duration and
//! [`RetryConfig::min_attempt_time`].
//!
//! Requests are cloned with `Clone` before each attempt that may be retried (never before the
//! last one). Keep them cheap to clone: `Bytes` bodies, `Arc`ed payloads.
//!
//! ```
//! use lift_resilience::retry::{RetryConfig, RetryPolicy};
//! let layer = tower::retry::RetryLayer::new(RetryPolicy::new(RetryConfig::default()));
//! # let _ = layer;
//! ```

mod classify;
mod policy;

pub use classify::{DefaultRetryClassifier, HttpRetryClassifier, RetryClassify};
pub use policy::{Jitter, RetryConfig, RetryPolicy, RetryStop};

/// tower's retry layer, with a [`RetryPolicy`].
pub type RetryLayer<C = DefaultRetryClassifier> = tower::retry::RetryLayer<RetryPolicy<C>>;
