//! Resilience for Lift routes: `lift-resilience`'s tower layers on the HTTP routes, their
//! rejections answered as Lift errors (503 / 504 / 429 with `Retry-After` and `RateLimit-*`).
//!
//! ```
//! use axum::routing::get;
//! use lift::App;
//!
//! let app = App::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .resilience(lift::resilience::default_stack());
//! # let _ = app.build();
//! ```
//!
//! Everything of `lift-resilience` is re-exported here. Lift adds, one job per file:
//!
//! * the default stack for HTTP routes and the route key it partitions breakers by
//!   ([`default_stack`], [`RouteKey`]);
//! * the mapping of a rejection to a Lift error and response ([`error_response`],
//!   [`rejection_error`]) and the layer that applies it to a route ([`HandleRejectionsLayer`]);
//! * resilience layers on record handlers ([`record_layer`]);
//! * the listener that counts resilience events in the invocation's metrics
//!   (`MetricsListener`, with the `observability` feature).

mod handle_rejections;
#[cfg(feature = "observability")]
mod metrics;
mod record;
mod rejection;
mod stack;

pub use lift_resilience::*;

pub use handle_rejections::{HandleRejections, HandleRejectionsFuture, HandleRejectionsLayer};
#[cfg(feature = "observability")]
pub use metrics::MetricsListener;
pub use record::{record_layer, HandlerFuture, HandlerService, Layered, RecordCall};
pub use rejection::{error_response, error_to_lift, rejection_error};
pub use stack::{default_stack, default_stack_with_listener, route_key, DefaultStack, RouteKey, RouteKeyFn};
