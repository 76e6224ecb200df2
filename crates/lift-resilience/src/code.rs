//! Stable snake_case codes of the rejections, as [`Rejection::code`](crate::Rejection::code)
//! gives them. Match on these constants rather than on string literals.

/// A circuit breaker rejected the call ([`Open`](crate::Open)), 503.
pub const CIRCUIT_OPEN: &str = "circuit_open";
/// A bulkhead had no free permit ([`BulkheadFull`](crate::BulkheadFull)), 503.
pub const BULKHEAD_FULL: &str = "bulkhead_full";
/// The load shedder rejected the call ([`Overloaded`](crate::Overloaded)), 503.
pub const OVERLOADED: &str = "overloaded";
/// The call did not finish in time ([`Elapsed`](crate::Elapsed)), 504.
pub const TIMEOUT: &str = "timeout";
/// The call's key is over its quota ([`RateLimited`](crate::RateLimited)), 429.
pub const RATE_LIMITED: &str = "rate_limited";
