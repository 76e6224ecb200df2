//! Success-path cost of each layer and of the whole stack, side by side with tower's own
//! layers where they overlap.
//!
//! Criterion times every case; at the end a summary table gives, per case, the median of
//! several timed loops (ns/call) and the heap allocations per call (counting global
//! allocator). This package does not enable tokio's `test-util`, so `Instant::now()` is the
//! plain monotonic clock, as in production.
#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::alloc::System;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use lift_resilience::circuit_breaker::BreakerConfig;
use lift_resilience::rate_limit::per_second;
use lift_resilience::retry::{Jitter, RetryConfig};
use lift_resilience::{
    BoxError, BulkheadLayer, CircuitBreakerLayer, LoadShedLayer, RateLimitLayer, ResilienceStack, RetryPolicy,
    TimeoutLayer, WithDeadline,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tower::{service_fn, Layer, Service};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

type Req = WithDeadline<u32>;

fn inner(
) -> impl Service<Req, Response = u32, Error = BoxError, Future = std::future::Ready<Result<u32, BoxError>>> + Clone {
    service_fn(|r: Req| std::future::ready(Ok::<_, BoxError>(r.request)))
}

/// One call on the success path: poll_ready, call, poll the response once.
#[inline]
fn once<S: Service<Req>>(svc: &mut S, cx: &mut Context<'_>) {
    assert!(svc.poll_ready(cx).is_ready());
    let fut = pin!(svc.call(WithDeadline::new(black_box(7), None)));
    match fut.poll(cx) {
        Poll::Ready(r) => {
            assert!(r.is_ok(), "success path");
        }
        Poll::Pending => panic!("pending on the success path"),
    }
}

#[derive(Clone)]
struct NoRetry;
impl<E> tower::retry::Policy<Req, u32, E> for NoRetry {
    type Future = std::future::Ready<()>;
    fn retry(&mut self, _: &mut Req, _: &mut Result<u32, E>) -> Option<Self::Future> {
        None
    }
    fn clone_request(&mut self, r: &Req) -> Option<Req> {
        Some(r.clone())
    }
}

struct Row {
    name: String,
    ns: f64,
    allocs: f64,
}

/// Median over `ROUNDS` timed loops of `N` calls each.
fn ns_per_call(mut one: impl FnMut()) -> f64 {
    const ROUNDS: usize = 9;
    const N: u32 = 200_000;
    let mut v: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..N {
                one();
            }
            t.elapsed().as_nanos() as f64 / f64::from(N)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[ROUNDS / 2]
}

fn bench_one<S: Service<Req>>(c: &mut Criterion, name: &str, mut svc: S, table: &mut Vec<Row>) {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        once(&mut svc, &mut cx);
    }
    let n = 100_000u64;
    let region = Region::new(GLOBAL);
    for _ in 0..n {
        once(&mut svc, &mut cx);
    }
    let allocs = region.change().allocations as f64 / n as f64;
    c.bench_function(name, |b| b.iter(|| once(&mut svc, &mut cx)));
    let ns = ns_per_call(|| once(&mut svc, &mut cx));
    table.push(Row {
        name: name.to_string(),
        ns,
        allocs,
    });
}

type HttpReq = http::Request<()>;
type HttpRes = http::Response<()>;

/// An `http` handler whose response already has a header (as real ones do: content-type).
fn http_inner(
) -> impl Service<HttpReq, Response = HttpRes, Error = BoxError, Future = std::future::Ready<Result<HttpRes, BoxError>>>
       + Clone {
    service_fn(|_: HttpReq| {
        let mut res = http::Response::new(());
        res.headers_mut()
            .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
        std::future::ready(Ok::<_, BoxError>(res))
    })
}

fn bench_http<S: Service<HttpReq>>(c: &mut Criterion, name: &str, mut svc: S, table: &mut Vec<Row>) {
    let mut cx = Context::from_waker(Waker::noop());
    let one = |svc: &mut S, cx: &mut Context<'_>| {
        assert!(svc.poll_ready(cx).is_ready());
        let fut = pin!(svc.call(http::Request::new(())));
        match fut.poll(cx) {
            Poll::Ready(r) => assert!(r.is_ok(), "success path"),
            Poll::Pending => panic!("pending on the success path"),
        }
    };
    for _ in 0..1000 {
        one(&mut svc, &mut cx);
    }
    let n = 100_000u64;
    let region = Region::new(GLOBAL);
    for _ in 0..n {
        one(&mut svc, &mut cx);
    }
    let allocs = region.change().allocations as f64 / n as f64;
    c.bench_function(name, |b| b.iter(|| one(&mut svc, &mut cx)));
    let ns = ns_per_call(|| one(&mut svc, &mut cx));
    table.push(Row {
        name: name.to_string(),
        ns,
        allocs,
    });
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let mut t = Vec::new();

    bench_one(c, "baseline/inner", inner(), &mut t);

    bench_one(
        c,
        "timeout/lift",
        TimeoutLayer::new(Duration::from_secs(30)).layer(inner()),
        &mut t,
    );
    bench_one(
        c,
        "timeout/tower",
        tower::timeout::TimeoutLayer::new(Duration::from_secs(30)).layer(inner()),
        &mut t,
    );

    bench_one(c, "bulkhead/lift", BulkheadLayer::new(1000).layer(inner()), &mut t);
    bench_one(
        c,
        "bulkhead/tower_concurrency_limit",
        tower::limit::ConcurrencyLimitLayer::new(1000).layer(inner()),
        &mut t,
    );

    bench_one(c, "load_shed/lift_aimd", LoadShedLayer::aimd().layer(inner()), &mut t);
    bench_one(
        c,
        "load_shed/lift_fixed",
        LoadShedLayer::limit(lift_resilience::load_shed::LimitAlgorithm::Fixed(1000)).layer(inner()),
        &mut t,
    );
    bench_one(
        c,
        "load_shed/tower",
        tower::load_shed::LoadShedLayer::new().layer(inner()),
        &mut t,
    );

    bench_one(
        c,
        "circuit_breaker/lift",
        CircuitBreakerLayer::new(BreakerConfig::default()).layer(inner()),
        &mut t,
    );
    bench_one(
        c,
        "circuit_breaker/lift_keyed",
        CircuitBreakerLayer::new(BreakerConfig::default())
            .key(|r: &Req| r.request % 8)
            .layer(inner()),
        &mut t,
    );

    bench_one(
        c,
        "rate_limit/lift",
        RateLimitLayer::new(per_second(1_000_000_000)).layer(inner()),
        &mut t,
    );

    let policy = RetryPolicy::new(RetryConfig::default().jitter(Jitter::Full));
    bench_one(
        c,
        "retry/lift",
        tower::retry::RetryLayer::new(policy.clone()).layer(inner()),
        &mut t,
    );
    bench_one(
        c,
        "retry/tower_trivial_policy",
        tower::retry::RetryLayer::new(NoRetry).layer(inner()),
        &mut t,
    );

    let stack = ResilienceStack::new()
        .rate_limit(RateLimitLayer::new(per_second(1_000_000_000)))
        .load_shed(LoadShedLayer::aimd())
        .bulkhead(BulkheadLayer::new(1000))
        .circuit_breaker(CircuitBreakerLayer::new(BreakerConfig::default()))
        .timeout(TimeoutLayer::new(Duration::from_secs(30)));
    bench_one(c, "stack/lift_without_retry", stack.clone().layer(inner()), &mut t);
    bench_one(
        c,
        "stack/lift_full",
        stack.retry(tower::retry::RetryLayer::new(policy)).layer(inner()),
        &mut t,
    );
    let tower_stack = tower::ServiceBuilder::new()
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::ConcurrencyLimitLayer::new(1000))
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(30)))
        .layer(tower::retry::RetryLayer::new(NoRetry))
        .service(inner());
    bench_one(c, "stack/tower_overlap", tower_stack, &mut t);

    // HTTP: the inner handler allocates its response's header map (2 allocations); the
    // difference is what the stack adds, `RateLimit-*` headers included.
    bench_http(c, "http/baseline_inner", http_inner(), &mut t);
    // A burst of 1000 refilled every nanosecond: never rejects, and its header values (limit
    // 1000, remaining ≤ 1000) are realistic, so they come from the static table.
    let quota = || {
        lift_resilience::rate_limit::Quota::with_period(Duration::from_nanos(1))
            .unwrap()
            .allow_burst(std::num::NonZeroU32::new(1000).unwrap())
    };
    bench_http(
        c,
        "http/rate_limit_headers",
        RateLimitLayer::new(quota()).http_headers().layer(http_inner()),
        &mut t,
    );
    bench_http(
        c,
        "http/rate_limit_headers_1e9",
        RateLimitLayer::new(per_second(1_000_000_000))
            .http_headers()
            .layer(http_inner()),
        &mut t,
    );
    let http_stack = ResilienceStack::http().rate_limit(RateLimitLayer::new(quota()).http_headers());
    bench_http(
        c,
        "http/stack_lift_http_defaults",
        http_stack.layer(http_inner()),
        &mut t,
    );

    println!("\nsuccess path, one call = poll_ready + call + one poll (median of 9 loops of 200k calls):");
    println!("| {:<34} | {:>8} | {:>12} |", "case", "ns/call", "allocs/call");
    println!("|{:-<36}|{:->10}|{:->14}|", "", "", "");
    for r in &t {
        println!("| {:<34} | {:>8.1} | {:>12.3} |", r.name, r.ns, r.allocs);
    }
}

criterion_group! {
    name = layers;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(30);
    targets = benches
}
criterion_main!(layers);
