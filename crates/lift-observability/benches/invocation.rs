//! Cost per invocation of logs (one line), metrics (one flush with a few metrics) and tracing
//! (one subsegment), each against the bare invocation, plus heap allocations per invocation
//! (counted by a global allocator wrapper). Sinks are in-memory null sinks so the numbers are
//! this crate's own cost, not `write(2)`/`sendto(2)`.
//!
//! Before criterion runs, a summary table is printed to stderr: ns per invocation (best of 7
//! rounds of 10,000) and allocations per invocation (count and bytes).

use std::alloc::System;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use criterion::Criterion;
use lift_observability::{InvocationMeta, NullSink, Observability, Outcome, Unit};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const HEADER: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

#[derive(Clone, Copy)]
enum Case {
    Bare,
    Scope,
    Logs,
    Metrics,
    Tracing,
    All,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Bare => "bare",
            Case::Scope => "scope_only",
            Case::Logs => "logs_one_line",
            Case::Metrics => "metrics_one_flush",
            Case::Tracing => "tracing_one_subsegment",
            Case::All => "logs+metrics+tracing",
        }
    }

    fn observability(self) -> Observability {
        let (logs, metrics, tracing) = match self {
            Case::Bare | Case::Scope => (false, false, false),
            Case::Logs => (true, false, false),
            Case::Metrics => (false, true, false),
            Case::Tracing => (false, false, true),
            Case::All => (true, true, true),
        };
        let mut b = Observability::builder()
            .service("orders")
            .function_name("orders-fn")
            .function_memory_size(512)
            .log_sink(NullSink)
            .emf_sink(NullSink)
            .summary_log(false)
            .logs(logs)
            .metrics(metrics);
        if tracing {
            b = b.xray_sink(NullSink);
        }
        match b.build() {
            Ok(o) => o,
            Err(e) => panic!("bench config: {e}"),
        }
    }
}

async fn handler(case: Case, metrics: &lift_observability::Metrics) -> u32 {
    if matches!(case, Case::Logs | Case::All) {
        tracing::info!(order_id = 42, "order created");
    }
    if matches!(case, Case::Metrics | Case::All) {
        let _ = metrics.count("OrdersCreated", 1);
        let _ = metrics.value("PayloadSize", 512.0, Unit::Bytes);
    }
    if matches!(case, Case::Tracing | Case::All) {
        let span = tracing::info_span!("dynamodb.put_item", table = "orders");
        let _g = span.enter();
    }
    black_box(7)
}

fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

fn one_invocation(obs: &Observability, case: Case) {
    if let Case::Bare = case {
        let m = lift_observability::Metrics::disabled();
        black_box(poll_once(handler(case, &m)));
        return;
    }
    let inv = obs.start(InvocationMeta {
        request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:orders",
        trace_header: Some(HEADER),
        cold_start: false,
        correlation_id: None,
        tenant_id: Some("acme"),
    });
    let m = inv.metrics();
    black_box(poll_once(inv.instrument(handler(case, &m))));
    inv.finish(Outcome {
        status: Some(201),
        error: None,
        route: Some("POST /orders"),
    });
}

const CASES: [Case; 6] = [
    Case::Bare,
    Case::Scope,
    Case::Logs,
    Case::Metrics,
    Case::Tracing,
    Case::All,
];

/// Prints one table row per case: ns per invocation (best of several timed rounds, since the
/// machine may be shared) and heap allocations per invocation (count and bytes).
fn summary_table() {
    eprintln!(
        "{:<24} {:>10} {:>14} {:>16}",
        "case", "ns/inv", "allocs/inv", "bytes/inv"
    );
    for case in CASES {
        let obs = case.observability();
        let dispatch = tracing::Dispatch::new(obs.subscriber());
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..2_000 {
                one_invocation(&obs, case);
            }
            const N: usize = 10_000;
            let region = Region::new(GLOBAL);
            for _ in 0..N {
                one_invocation(&obs, case);
            }
            let c = region.change();
            let mut best = f64::INFINITY;
            for _ in 0..7 {
                let t = Instant::now();
                for _ in 0..N {
                    one_invocation(&obs, case);
                }
                best = best.min(t.elapsed().as_nanos() as f64 / N as f64);
            }
            eprintln!(
                "{:<24} {:>10.0} {:>14.2} {:>16.1}",
                case.name(),
                best,
                c.allocations as f64 / N as f64,
                c.bytes_allocated as f64 / N as f64
            );
        });
    }
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("invocation");
    for case in CASES {
        let obs = case.observability();
        let dispatch = tracing::Dispatch::new(obs.subscriber());
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function(case.name(), |b| b.iter(|| one_invocation(&obs, case)));
        });
    }
    g.finish();
}

/// `LIFT_OBS_BENCH_PROFILE=<case>`: runs only that case, 1,000 (`LIFT_OBS_BENCH_N`) invocations inside
/// [`measured_loop`] after a warm-up, for `perf` or `valgrind --tool=callgrind
/// --collect-atstart=no --toggle-collect=*measured_loop*` (instructions per invocation =
/// total / 1,000).
fn profile(name: &str) {
    let Some(case) = CASES.into_iter().find(|c| c.name() == name) else {
        panic!("unknown case {name}");
    };
    let obs = case.observability();
    let dispatch = tracing::Dispatch::new(obs.subscriber());
    let n = std::env::var("LIFT_OBS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    tracing::dispatcher::with_default(&dispatch, || {
        warm_up(&obs, case);
        measured_loop(&obs, case, n);
    });
}

#[inline(never)]
fn warm_up(obs: &Observability, case: Case) {
    for _ in 0..2_000 {
        black_box(&obs);
        one_invocation(obs, case);
    }
}

#[inline(never)]
fn measured_loop(obs: &Observability, case: Case, n: usize) {
    for _ in 0..n {
        one_invocation(obs, case);
    }
}

fn main() {
    if let Ok(name) = std::env::var("LIFT_OBS_BENCH_PROFILE") {
        profile(&name);
        return;
    }
    summary_table();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
