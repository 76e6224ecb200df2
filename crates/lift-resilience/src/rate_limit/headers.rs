use std::sync::OnceLock;

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::Decision;

/// What the rate-limit layer adds to an admitted call's response.
pub trait DecorateResponse<Res>: Clone + Send + Sync + 'static {
    /// Add what `decision` says to `res`.
    fn decorate(&self, res: &mut Res, decision: &Decision);
}

/// What the rate-limit layer tells an admitted call about its decision, before the call.
pub trait DecorateRequest<Req> {
    /// Tell `req` what `decision` says.
    fn decorate_request(&self, req: &mut Req, decision: &Decision);
}

/// Leave responses as they are (the default for [`RateLimitLayer`](super::RateLimitLayer)).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHeaders;

impl<Res> DecorateResponse<Res> for NoHeaders {
    #[inline]
    fn decorate(&self, _res: &mut Res, _decision: &Decision) {}
}

impl<Req> DecorateRequest<Req> for NoHeaders {
    #[inline]
    fn decorate_request(&self, _req: &mut Req, _decision: &Decision) {}
}

/// Add `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the quota
/// is full again, rounded up), and the same three as `X-RateLimit-*`, to every admitted
/// `http::Response`: the same six headers, by the same function, as
/// [`Rejection::headers`](crate::Rejection::headers) gives a 429.
///
/// Costs no allocation for values up to 1024 (pre-built, shared, copied by pointer); larger
/// values are formatted (one exact-size allocation each). Inserting into a response whose header
/// map is still empty allocates the map itself, as any first header would.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimitHeaders;

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const X_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The admitted request carries its [`Decision`] in its extensions, so a handler can answer
/// with what is left of the quota (`Extension<Decision>` in axum).
impl<B> DecorateRequest<http::Request<B>> for RateLimitHeaders {
    #[inline]
    fn decorate_request(&self, req: &mut http::Request<B>, decision: &Decision) {
        req.extensions_mut().insert(*decision);
    }
}

impl<B> DecorateResponse<http::Response<B>> for RateLimitHeaders {
    #[inline]
    fn decorate(&self, res: &mut http::Response<B>, d: &Decision) {
        // A limit closer to the handler (a route's own quota) already answered: its headers
        // say more about this call than an outer, broader limit's.
        if !res.headers().contains_key(LIMIT) {
            insert(res.headers_mut(), d.limit, d.remaining, d.reset);
        }
    }
}

/// The rate-limit headers, standard and `X-` alike, for admitted responses and 429s.
pub(crate) fn insert(h: &mut HeaderMap, limit: u32, remaining: u32, reset: Duration) {
    let (limit, remaining) = (number(u64::from(limit)), number(u64::from(remaining)));
    let reset = number(crate::rejection::ceil_secs(reset));
    h.reserve(6);
    h.insert(LIMIT, limit.clone());
    h.insert(X_LIMIT, limit);
    h.insert(REMAINING, remaining.clone());
    h.insert(X_REMAINING, remaining);
    h.insert(RESET, reset.clone());
    h.insert(X_RESET, reset);
}

const TABLE_MAX: usize = 1024;

/// A header value for `n`: shared static text for small numbers.
pub(crate) fn number(n: u64) -> HeaderValue {
    static TABLE: OnceLock<Box<[HeaderValue]>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut text = String::new();
        let mut spans = Vec::with_capacity(TABLE_MAX + 1);
        for i in 0..=TABLE_MAX {
            let start = text.len();
            text.push_str(&i.to_string());
            spans.push((start, text.len()));
        }
        // Built once per process (about 3 KiB): every value is then a static slice.
        let text: &'static str = Box::leak(text.into_boxed_str());
        spans
            .into_iter()
            .map(|(a, b)| HeaderValue::from_static(&text[a..b]))
            .collect()
    });
    usize::try_from(n)
        .ok()
        .and_then(|i| table.get(i))
        .cloned()
        .unwrap_or_else(|| formatted(n))
}

/// One exact-size allocation (`HeaderValue::from(u64)` makes two).
fn formatted(mut n: u64) -> HeaderValue {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    match HeaderValue::from_bytes(&buf[i..]) {
        Ok(v) => v,
        Err(_) => HeaderValue::from_static("0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(0), "0");
        assert_eq!(number(7), "7");
        assert_eq!(number(1024), "1024");
        assert_eq!(number(1025), "1025");
        assert_eq!(number(1_000_000_000), "1000000000");
        assert_eq!(number(u64::MAX), u64::MAX.to_string().as_str());
    }
}
