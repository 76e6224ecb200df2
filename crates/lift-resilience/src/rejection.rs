//! Mapping of this crate's errors to HTTP (or batch) rejections, for the edge of the app.

use std::error::Error;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};

use crate::bulkhead::BulkheadFull;
use crate::circuit_breaker::Open;
use crate::code;
use crate::load_shed::Overloaded;
use crate::rate_limit::RateLimited;
use crate::timeout::Elapsed;

/// `Retry-After` of a 503 whose layer cannot tell when capacity returns (a full bulkhead, a
/// shed call, a breaker forced open or with all trial calls taken): one second.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

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
///
/// Every rejection carries the headers its status calls for, by one rule:
///
/// | code | status | `Retry-After` | `RateLimit-*` and `X-RateLimit-*` |
/// |---|---|---|---|
/// | [`CIRCUIT_OPEN`](code::CIRCUIT_OPEN) | 503 | time until trial calls, else [`DEFAULT_RETRY_AFTER`] | — |
/// | [`BULKHEAD_FULL`](code::BULKHEAD_FULL) | 503 | [`DEFAULT_RETRY_AFTER`] | — |
/// | [`OVERLOADED`](code::OVERLOADED) | 503 | [`DEFAULT_RETRY_AFTER`] | — |
/// | [`TIMEOUT`](code::TIMEOUT) | 504 | — (the call ran; it says nothing of later ones) | — |
/// | [`RATE_LIMITED`](code::RATE_LIMITED) | 429 | time until a call is admitted | all six |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// HTTP status: 503 (circuit open, bulkhead full, overloaded), 504 (timeout), 429 (rate
    /// limited).
    pub status: StatusCode,
    /// Stable snake_case code, one of the [`code`] constants.
    pub code: &'static str,
    /// When the client may try again (`Retry-After`): set for every 503 and 429.
    pub retry_after: Option<Duration>,
    /// Rate-limit information, for `rate_limited`.
    pub rate_limit: Option<RateLimitInfo>,
}

/// Find this crate's rejection in `err` or its source chain.
///
/// Returns `None` for any other error (the caller maps it as it maps handler errors).
///
/// ```
/// use lift_resilience::{code, rejection, circuit_breaker::Open};
/// let err: tower::BoxError = Box::new(Open::new(lift_resilience::circuit_breaker::BreakerState::Open, None));
/// let r = rejection(&*err).unwrap();
/// assert_eq!((r.status, r.code), (http::StatusCode::SERVICE_UNAVAILABLE, code::CIRCUIT_OPEN));
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
    let unavailable = |code, retry_after: Option<Duration>| {
        r(
            StatusCode::SERVICE_UNAVAILABLE,
            code,
            Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
        )
    };
    if let Some(o) = e.downcast_ref::<Open>() {
        return Some(unavailable(code::CIRCUIT_OPEN, o.retry_after()));
    }
    if e.is::<BulkheadFull>() {
        return Some(unavailable(code::BULKHEAD_FULL, None));
    }
    if e.is::<Overloaded>() {
        return Some(unavailable(code::OVERLOADED, None));
    }
    if e.is::<Elapsed>() {
        return Some(r(StatusCode::GATEWAY_TIMEOUT, code::TIMEOUT, None));
    }
    if let Some(rl) = e.downcast_ref::<RateLimited>() {
        let d = rl.decision();
        return Some(Rejection {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: code::RATE_LIMITED,
            // A denied decision always says when; the reset time bounds it otherwise.
            retry_after: Some(d.retry_after.unwrap_or(d.reset)),
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
    /// The headers of the answer, by the rule of the [table](Rejection): `Retry-After` (seconds,
    /// rounded up) on every 503 and 429, and for rate limits `RateLimit-Limit`,
    /// `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the quota is full again) and the
    /// same three as `X-RateLimit-*`, exactly as admitted responses get them from
    /// [`RateLimitHeaders`](crate::rate_limit::RateLimitHeaders).
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ra) = self.retry_after {
            h.insert(http::header::RETRY_AFTER, HeaderValue::from(ceil_secs(ra)));
        }
        if let Some(rl) = self.rate_limit {
            crate::rate_limit::insert_headers(&mut h, rl.limit, rl.remaining, rl.reset);
        }
        h
    }
}
