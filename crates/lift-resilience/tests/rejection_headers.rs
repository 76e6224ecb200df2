//! Every rejection kind carries exactly the headers of the rule: `Retry-After` on every 503 and
//! 429, none on a 504; `RateLimit-*` and `X-RateLimit-*` together, on every 429 and on
//! admitted responses when the rate limit's headers are on.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use http::StatusCode;
use lift_resilience::circuit_breaker::BreakerState;
use lift_resilience::load_shed::ShedReason;
use lift_resilience::rate_limit::{per_second, Decision};
use lift_resilience::timeout::TimeoutLimit;
use lift_resilience::{
    code, rejection, BoxError, BulkheadFull, Elapsed, LoadShedLayer, Open, Overloaded, RateLimitLayer, RateLimited,
};
use tower::{service_fn, Layer, Service, ServiceExt};

fn all(h: &http::HeaderMap) -> BTreeMap<String, String> {
    h.iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn each_rejection_kind_has_its_status_code_and_exact_headers() {
    let rate_limited = RateLimited::new(Decision::new(
        false,
        10,
        0,
        Duration::from_millis(2_500),
        Some(Duration::from_millis(300)),
    ));
    let cases: Vec<(BoxError, StatusCode, &str, BTreeMap<String, String>)> = vec![
        (
            Box::new(Open::new(BreakerState::Open, Some(Duration::from_millis(4_200)))),
            StatusCode::SERVICE_UNAVAILABLE,
            code::CIRCUIT_OPEN,
            expect(&[("retry-after", "5")]),
        ),
        (
            Box::new(Open::new(BreakerState::ForcedOpen, None)),
            StatusCode::SERVICE_UNAVAILABLE,
            code::CIRCUIT_OPEN,
            expect(&[("retry-after", "1")]),
        ),
        (
            Box::new(BulkheadFull::new(4, Duration::ZERO)),
            StatusCode::SERVICE_UNAVAILABLE,
            code::BULKHEAD_FULL,
            expect(&[("retry-after", "1")]),
        ),
        (
            Box::new(Overloaded::new(ShedReason::ConcurrencyLimit)),
            StatusCode::SERVICE_UNAVAILABLE,
            code::OVERLOADED,
            expect(&[("retry-after", "1")]),
        ),
        (
            Box::new(Elapsed::new(TimeoutLimit::Configured, Duration::from_secs(1))),
            StatusCode::GATEWAY_TIMEOUT,
            code::TIMEOUT,
            expect(&[]),
        ),
        (
            Box::new(rate_limited),
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMITED,
            expect(&[
                ("retry-after", "1"),
                ("ratelimit-limit", "10"),
                ("ratelimit-remaining", "0"),
                ("ratelimit-reset", "3"),
                ("x-ratelimit-limit", "10"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "3"),
            ]),
        ),
    ];
    assert_eq!(cases.len(), 6);
    for (err, status, code, headers) in cases {
        let r = rejection(&*err).unwrap();
        assert_eq!((r.status, r.code), (status, code), "{err}");
        assert_eq!(all(&r.headers()), headers, "{code}");
    }
}

#[tokio::test]
async fn a_shed_call_says_when_to_retry() {
    let mut s = LoadShedLayer::random(1.0).layer(service_fn(|_: ()| async { Ok::<_, BoxError>(()) }));
    let err = s.ready().await.unwrap().call(()).await.unwrap_err();
    let r = rejection(&*err).unwrap();
    assert_eq!((r.status, r.code), (StatusCode::SERVICE_UNAVAILABLE, code::OVERLOADED));
    assert_eq!(r.headers()["retry-after"], "1");
}

#[tokio::test(start_paused = true)]
async fn admitted_responses_and_429s_carry_the_same_rate_limit_headers() {
    let app = service_fn(|_: http::Request<()>| async { Ok::<_, BoxError>(http::Response::new(())) });
    let mut s = RateLimitLayer::new(per_second(2)).http_headers().layer(app);
    let mut names = Vec::new();
    for expected_remaining in ["1", "0"] {
        let res = s.ready().await.unwrap().call(http::Request::new(())).await.unwrap();
        let h = all(res.headers());
        assert_eq!(h["ratelimit-remaining"], expected_remaining);
        assert_eq!(h["x-ratelimit-remaining"], expected_remaining);
        assert_eq!(
            (&h["ratelimit-limit"], &h["x-ratelimit-limit"]),
            (&"2".into(), &"2".into())
        );
        assert_eq!(h["ratelimit-reset"], h["x-ratelimit-reset"]);
        names.push(h.into_keys().collect::<Vec<_>>());
    }
    let err = s.ready().await.unwrap().call(http::Request::new(())).await.unwrap_err();
    let mut denied: Vec<String> = all(&rejection(&*err).unwrap().headers()).into_keys().collect();
    denied.retain(|n| n != "retry-after");
    assert_eq!(names, vec![denied.clone(), denied], "admitted and denied differ");
}
