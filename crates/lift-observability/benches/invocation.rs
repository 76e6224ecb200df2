//! Cost per invocation of logs (one line), metrics (one flush with a few metrics) and tracing
//! (one subsegment), each against the bare invocation, plus heap allocations per invocation
//! (counted by a global allocator wrapper). Sinks are in-memory null sinks so the numbers are
//! this crate's own cost, not `write(2)`/`sendto(2)`.

use std::alloc::System;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

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

fn allocations() {
    for case in CASES {
        let obs = case.observability();
        let dispatch = tracing::Dispatch::new(obs.subscriber());
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..1000 {
                one_invocation(&obs, case);
            }
            const N: usize = 10_000;
            let region = Region::new(GLOBAL);
            for _ in 0..N {
                one_invocation(&obs, case);
            }
            let c = region.change();
            eprintln!(
                "allocations/invocation {:<24} {:>6.2} allocs {:>8.1} bytes",
                case.name(),
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

fn main() {
    allocations();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
