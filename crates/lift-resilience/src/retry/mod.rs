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
//! Requests are cloned with `Clone` before each attempt, the last one included: tower's
//! `Retry` asks the policy about an attempt's result only when it holds a copy of the request,
//! and the policy must see the last failure to report it. Keep requests cheap to clone:
//! `Bytes` bodies, `Arc`ed payloads.
//!
//! # Events
//!
//! Each call through the layer that ends in a retryable failure emits exactly one
//! [`RetryAbandoned`](crate::ResilienceEvent::RetryAbandoned), with the reason
//! ([`RetryStop::MaxAttempts`] when every attempt was used, [`RetryStop::Deadline`],
//! [`RetryStop::Budget`]); each retry scheduled emits one
//! [`Retry`](crate::ResilienceEvent::Retry). A success or a failure that is not retryable
//! emits nothing.
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
