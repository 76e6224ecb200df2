//! Success-path cost of each layer and of the whole stack, side by side with tower's own
//! layers where they overlap. Prints allocations per call (counting global allocator) before
//! criterion's timings.
#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::alloc::System;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

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

fn bench_one<S: Service<Req>>(c: &mut Criterion, name: &str, mut svc: S, table: &mut Vec<(String, f64)>) {
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
    table.push((name.to_string(), allocs));
    c.bench_function(name, |b| b.iter(|| once(&mut svc, &mut cx)));
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

    println!("\nheap allocations per call (success path):");
    for (name, a) in &t {
        println!("  {name:<36} {a:.3}");
    }
}

criterion_group! {
    name = layers;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(30);
    targets = benches
}
criterion_main!(layers);
