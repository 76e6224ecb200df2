//! Allocations per invocation stay constant: 10,000 API Gateway v2 `GET`s in process through
//! the whole stack (default resilience stack; logs, EMF and X-Ray into `NullSink`s), each with a
//! fresh invocation context, on a current-thread runtime. Invocations 1,001–2,000 and
//! 9,001–10,000 must make the same number of allocations per invocation (to two decimals), and
//! the second window must leave no
//! more bytes allocated than it found: a per-invocation leak or a structure growing with every
//! invocation fails it.
//!
//! The global allocator counts every allocation of this binary, so this file holds one test
//! and nothing else runs beside it.

use std::alloc::System;

use axum::extract::Path;
use axum::routing::get;
use lift::observability::{NullSink, Observability};
use lift::resilience::rate_limit::{self, RateLimitLayer};
use lift::{App, Json};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};
use stats_alloc::{Region, Stats, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const WINDOW: usize = 1_000;

async fn hello(Path(name): Path<String>) -> Json<Value> {
    Json(json!({ "message": format!("hello, {name}") }))
}

/// Net bytes still allocated that a window added (negative: it freed more than it took).
/// `stats_alloc` counts a reallocation's growth in `bytes_allocated`, its shrinking in
/// `bytes_deallocated`.
fn net_bytes(s: &Stats) -> i64 {
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

#[test]
fn allocations_per_invocation_stay_constant_over_10k_invocations() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let observability = Observability::builder()
        .service("allocations")
        .log_sink(NullSink)
        .emf_sink(NullSink)
        .xray_sink(NullSink)
        .build()
        .expect("observability");
    let _ = observability.install();
    let lift = App::new()
        .route("/hello/{name}", get(hello))
        // The default stack, its global rate limit raised from 1,000/s to 10^9/s: the limiter
        // still decides every invocation, but a tight loop is not answered 429 from the 1,001st
        // invocation of a second on (a share that would depend on timing).
        .resilience(
            lift::resilience::default_stack()
                .rate_limit(RateLimitLayer::new(rate_limit::per_second(1_000_000_000)).http_headers()),
        )
        .observability(observability)
        .build();
    let client = TestClient::new(lift);
    let event = events::apigw_v2("GET", "/hello/world")
        .header("accept", "application/json")
        .build()
        .to_string();

    let (first, last) = runtime.block_on(async {
        let invoke = |count: usize| {
            let (client, event) = (&client, &event);
            async move {
                for _ in 0..count {
                    let out = client.invoke_raw(event).await.expect("a response");
                    assert_eq!(out.status(), Some(200));
                }
            }
        };
        invoke(WINDOW).await; // warm-up: lazily built state, buffers reaching their size
        let region = Region::new(GLOBAL);
        invoke(WINDOW).await;
        let first = region.change();
        invoke(7 * WINDOW).await;
        let region = Region::new(GLOBAL);
        invoke(WINDOW).await;
        (first, region.change())
    });

    let per = |s: &Stats| s.allocations as f64 / WINDOW as f64;
    assert!(first.allocations > 0, "the counter counts: {first:?}");
    // Equal per invocation to two decimals: a rare one-off (a table or buffer growing once) may
    // fall in either window, work growing with the invocation count may not.
    assert!(
        first.allocations.abs_diff(last.allocations) <= WINDOW / 100,
        "allocations per invocation: {} over invocations 1k-2k, {} over 9k-10k",
        per(&first),
        per(&last)
    );
    eprintln!(
        "allocations per invocation: {} (1k-2k), {} (9k-10k); net bytes over 9k-10k: {}",
        per(&first),
        per(&last),
        net_bytes(&last)
    );
    assert!(
        net_bytes(&last).unsigned_abs() < WINDOW as u64,
        "invocations 9k-10k left {} bytes allocated (under 1 byte per invocation expected): {last:?}",
        net_bytes(&last)
    );
}
