//! Resilience layers for [tower] services, generic over the request type: usable in a Lift
//! `App` (HTTP routes and record handlers alike), in axum, in tonic, anywhere a `Service` runs.
//!
//! | layer | module | rejection | HTTP |
//! |---|---|---|---|
//! | circuit breaker (resilience4j's model) | [`circuit_breaker`] | [`Open`] | 503 |
//! | bulkhead (per-partition concurrency) | [`bulkhead`] | [`BulkheadFull`] | 503 |
//! | retry (on tower's `Policy`) | [`retry`] | the last error | — |
//! | deadline-aware timeout | [`timeout`] | [`Elapsed`] | 504 |
//! | load shedding (random, priority, adaptive) | [`load_shed`] | [`Overloaded`] | 503 |
//! | rate limit (GCRA via `governor`) | [`rate_limit`] | [`RateLimited`] | 429 |
//!
//! Errors travel as [`tower::BoxError`]; at the edge, [`rejection()`] finds this crate's error
//! in a source chain and gives status, stable code (one of the [`code`] constants),
//! `Retry-After` and rate-limit headers.
//! Events (transitions, rejections, sheds, retries, timeouts) go to a [`ResilienceListener`]
//! and to `tracing` (target `lift_resilience`).
//!
//! # Time
//!
//! All time is [`tokio::time::Instant`]: in production it is the monotonic clock, and under
//! tokio's paused clock (`#[tokio::test(start_paused = true)]`) every layer follows the test's
//! time exactly. The invocation deadline is read through the [`Deadline`] trait, implemented
//! for `http::Request` through the [`InvocationDeadline`] extension.
//!
//! # Shared state
//!
//! A layer's shared state (partitions, semaphores, windows, in-flight count, limit) is built
//! once, by its first `layer()` (or the first inspection that needs it), and shared by every
//! service made by the layer and its clones. Builder methods configure it beforehand and never
//! silently fork or reset it: one that changes what the state is built from panics once the
//! state exists; the others (names and listeners of stateless layers, a breaker's classifier
//! or fallback, a shedder's priority source, a rate limit's headers) may be called at any time.
//!
//! # Services and futures
//!
//! As in tower, each service has `new(inner, ..)` (the layer's defaults), `get_ref`, `get_mut`
//! and `into_inner`. Every response future answers a poll after completion with
//! `Poll::Ready(Err(`[`PolledAfterCompletion`]`))` — never `Pending` forever, never a panic,
//! never a second poll of what it wrapped.
//!
//! # Quick start
//!
//! ```
//! use std::convert::Infallible;
//! use lift_resilience::{rejection, InvocationDeadline, ResilienceStack};
//! use tower::{Layer, Service, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = tower::service_fn(|req: http::Request<String>| async move {
//!     let status = if req.uri().path() == "/fail" { 500 } else { 200 };
//!     Ok::<_, Infallible>(http::Response::builder().status(status).body(String::new()).unwrap())
//! });
//! let mut svc = ResilienceStack::http().layer(app);
//!
//! let mut req = http::Request::new(String::new());
//! req.extensions_mut().insert(InvocationDeadline::after(std::time::Duration::from_secs(3)));
//! match svc.ready().await.unwrap().call(req).await {
//!     Ok(res) => assert_eq!(res.status(), 200),
//!     Err(err) => {
//!         let r = rejection(&*err).expect("a resilience rejection");
//!         let _headers = r.headers(); // Retry-After, RateLimit-*
//!     }
//! }
//! # }
//! ```

#![warn(missing_debug_implementations)]

pub mod bulkhead;
pub mod circuit_breaker;
mod classify;
mod clock;
pub mod code;
mod completed;
mod deadline;
mod event;
mod key;
pub mod load_shed;
mod partition;
pub mod rate_limit;
mod rejection;
pub mod retry;
mod shared;
mod stack;
mod tenant_key;
pub mod timeout;

pub use classify::{
    classify_error_default, is_rejection, is_timeout, AsDynError, Classify, DefaultClassifier, HttpClassifier, Outcome,
};
pub use completed::PolledAfterCompletion;
pub use deadline::{Deadline, InvocationDeadline, WithDeadline};
pub use event::{NoopListener, ResilienceEvent, ResilienceListener};
pub use key::{Global, KeyFn, PartitionKey};
pub use rejection::{rejection, RateLimitInfo, Rejection, DEFAULT_RETRY_AFTER};
pub use stack::{http_breaker_config, http_rate_limit, HttpStack, ResilienceStack};
pub use tenant_key::{ByTenant, TenantKey, TenantOf};

pub use bulkhead::{BulkheadFull, BulkheadLayer};
pub use circuit_breaker::{CircuitBreakerLayer, Open};
pub use load_shed::{LoadShedLayer, Overloaded};
pub use rate_limit::{RateLimitLayer, RateLimited};
pub use retry::{RetryLayer, RetryPolicy};
pub use timeout::{Elapsed, TimeoutLayer};
pub use tower::BoxError;
