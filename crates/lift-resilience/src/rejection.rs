//! Mapping of this crate's errors to HTTP (or batch) rejections, for the edge of the app.

use std::error::Error;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::bulkhead::BulkheadFull;
use crate::circuit_breaker::Open;
use crate::load_shed::Overloaded;
use crate::rate_limit::RateLimited;
use crate::timeout::Elapsed;

/// Rate-limit header information (`RateLimit-*` and `X-RateLimit-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// Requests allowed in a full window (the burst size).
    pub limit: u32,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Time until the quota is fully restored.
    pub reset: Duration,
}

/// How a rejection by a resilience layer should be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// HTTP status: 503 (circuit open, bulkhead full, overloaded), 504 (timeout), 429 (rate
    /// limited).
    pub status: u16,
    /// Stable snake_case code: `circuit_open`, `bulkhead_full`, `overloaded`, `timeout`,
    /// `rate_limited`.
    pub code: &'static str,
    /// When the client may try again, if known (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// Rate-limit information, for `rate_limited`.
    pub rate_limit: Option<RateLimitInfo>,
}

/// Find this crate's rejection in `err` or its source chain.
///
/// Returns `None` for any other error (the caller maps it as it maps handler errors).
///
/// ```
/// use lift_resilience::{rejection, circuit_breaker::Open};
/// let err: tower::BoxError = Box::new(Open::new(lift_resilience::circuit_breaker::BreakerState::Open, None));
/// let r = rejection(&*err).unwrap();
/// assert_eq!((r.status, r.code), (503, "circuit_open"));
/// ```
pub fn rejection(err: &(dyn Error + 'static)) -> Option<Rejection> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(r) = direct(e) {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

fn direct(e: &(dyn Error + 'static)) -> Option<Rejection> {
    let r = |status, code, retry_after| Rejection {
        status,
        code,
        retry_after,
        rate_limit: None,
    };
    if let Some(o) = e.downcast_ref::<Open>() {
        return Some(r(503, "circuit_open", o.retry_after()));
    }
    if e.is::<BulkheadFull>() {
        return Some(r(503, "bulkhead_full", None));
    }
    if e.is::<Overloaded>() {
        return Some(r(503, "overloaded", None));
    }
    if e.is::<Elapsed>() {
        return Some(r(504, "timeout", None));
    }
    if let Some(rl) = e.downcast_ref::<RateLimited>() {
        let d = rl.decision();
        return Some(Rejection {
            status: 429,
            code: "rate_limited",
            retry_after: d.retry_after,
            rate_limit: Some(RateLimitInfo {
                limit: d.limit,
                remaining: d.remaining,
                reset: d.reset,
            }),
        });
    }
    None
}

/// Whole seconds, rounded up (a client told "0" would retry at once).
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Rejection {
    /// `Retry-After` (seconds, rounded up), and for rate limits `RateLimit-Limit`,
    /// `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the quota is full again) and the
    /// same three as `X-RateLimit-*`.
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ra) = self.retry_after {
            h.insert(http::header::RETRY_AFTER, HeaderValue::from(ceil_secs(ra)));
        }
        if let Some(rl) = self.rate_limit {
            let reset = ceil_secs(rl.reset);
            for (std, x, v) in [
                ("ratelimit-limit", "x-ratelimit-limit", u64::from(rl.limit)),
                ("ratelimit-remaining", "x-ratelimit-remaining", u64::from(rl.remaining)),
                ("ratelimit-reset", "x-ratelimit-reset", reset),
            ] {
                h.insert(HeaderName::from_static(std), HeaderValue::from(v));
                h.insert(HeaderName::from_static(x), HeaderValue::from(v));
            }
        }
        h
    }
}
