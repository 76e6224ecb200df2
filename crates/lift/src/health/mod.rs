//! Health endpoints: liveness (`/health`: the process answers) and readiness
//! (`/health/ready`: what the function depends on answers too).
//!
//! ```
//! use std::time::Duration;
//! use axum::routing::get;
//! use lift::health::{self, Readiness};
//! use lift::App;
//!
//! async fn cache_ping() -> Result<(), std::io::Error> { Ok(()) }
//!
//! let readiness = Readiness::new()
//!     .check("cache", cache_ping)
//!     .check_with_timeout("search", Duration::from_millis(300), || async { Ok::<_, std::io::Error>(()) })
//!     .cache_for(Duration::from_secs(2));
//! let app = App::new()
//!     .route("/health", get(health::live))
//!     .readiness(readiness); // GET /health/ready
//! # let _ = app.build();
//! ```
//!
//! Every check of a run runs at once, each under its own timeout; the run's report is kept for
//! [`Readiness::cache_for`] and callers that arrive meanwhile (or while it runs) share it, so a
//! burst of probes costs one call per dependency. The answer is 200 when every check passed,
//! else 503, both with the same JSON shape:
//!
//! ```json
//! {"status": "not_ready",
//!  "checks": {"table": {"status": "down", "latency_ms": 3.1, "error": "table `t` is DELETING"},
//!             "search": {"status": "timed_out", "latency_ms": 300.4}}}
//! ```

mod check;
mod liveness;
mod readiness;
mod report;

pub use check::{Check, CheckFuture};
pub use liveness::live;
pub use readiness::{Readiness, ReadinessProbe, DEFAULT_CACHE_FOR, DEFAULT_CHECK_TIMEOUT, DEFAULT_PATH};
pub use report::{CheckReport, CheckStatus, Report};
