//! One carrier of invocation state: ids set after the start (through an `InvocationHandle`)
//! reach every later line, EMF and X-Ray; `current_metrics` is the polled invocation's; the
//! error code reaches the summary and EMF; `lambda_runtime`'s span fields never duplicate ours.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ARN, PARENT, ROOT};
use lift_observability::{current_metrics, CaptureSink, InvocationHandle, InvocationMeta, Observability, Outcome};
use serde_json::Value;

fn meta<'a>(request_id: &'a str, header: Option<&'a str>) -> InvocationMeta<'a> {
    InvocationMeta {
        request_id,
        function_arn: ARN,
        trace_header: header,
        ..InvocationMeta::default()
    }
}

struct Sinks {
    logs: CaptureSink,
    emf: CaptureSink,
    xray: CaptureSink,
}

fn observed() -> (Observability, Sinks) {
    let sinks = Sinks {
        logs: CaptureSink::new(),
        emf: CaptureSink::new(),
        xray: CaptureSink::new(),
    };
    let obs = Observability::builder()
        .service("orders")
        .log_sink(sinks.logs.clone())
        .emf_sink(sinks.emf.clone())
        .xray_sink(sinks.xray.clone())
        .build()
        .unwrap();
    (obs, sinks)
}

fn xray_docs(xray: &CaptureSink) -> Vec<Value> {
    xray.lines()
        .iter()
        .map(|d| serde_json::from_str(d.split_once('\n').unwrap().1).unwrap())
        .collect()
}

#[test]
fn ids_set_late_through_a_handle_reach_later_lines_the_summary_emf_and_xray() {
    let (obs, sinks) = observed();
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    tracing::subscriber::with_default(obs.subscriber(), || {
        let inv = obs.start(meta("req-1", Some(&header)));
        inv.metrics().count("OrdersCreated", 1).unwrap();
        let handle = inv.handle();
        inv.span().in_scope(|| tracing::info!("before auth"));
        // Authentication middleware, on another thread, with its own clone of the handle.
        let auth = handle.clone();
        std::thread::spawn(move || {
            auth.set_tenant("acme");
            auth.set_correlation_id("corr-late");
        })
        .join()
        .unwrap();
        assert_eq!(handle.request_id(), "req-1");
        inv.span().in_scope(|| tracing::info!("after auth"));
        inv.finish(Outcome {
            status: Some(200),
            ..Outcome::default()
        });
    });
    let lines = sinks.logs.json_lines().unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["correlation_id"], "req-1", "the request id until one is set");
    assert!(lines[0].get("tenant_id").is_none());
    for l in &lines[1..] {
        assert_eq!(l["tenant_id"], "acme", "{l}");
        assert_eq!(l["correlation_id"], "corr-late", "{l}");
    }
    assert_eq!(lines[2]["message"], "request completed");

    let docs = sinks.emf.json_lines().unwrap();
    assert_eq!(docs[0]["OrdersCreated"], 1);
    assert_eq!(docs[0]["tenant_id"], "acme");
    assert_eq!(docs[0]["correlation_id"], "corr-late");

    let segs = xray_docs(&sinks.xray);
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0]["annotations"]["tenant_id"], "acme");
    assert_eq!(segs[0]["annotations"]["correlation_id"], "corr-late");
}

#[test]
fn an_id_set_late_replaces_the_one_given_at_start() {
    let (obs, sinks) = observed();
    tracing::subscriber::with_default(obs.subscriber(), || {
        let inv = obs.start(InvocationMeta {
            tenant_id: Some("t-start"),
            correlation_id: Some("c-start"),
            ..meta("req-2", None)
        });
        inv.span().in_scope(|| tracing::info!("start"));
        let h = inv.handle();
        h.set_tenant("t-late");
        h.set_correlation_id("c-late");
        h.metrics().count("Seen", 1).unwrap();
        assert_eq!(inv.tenant().as_deref(), Some("t-late"));
        assert_eq!(inv.correlation_id(), "c-late");
        inv.finish(Outcome::default());
    });
    let lines = sinks.logs.json_lines().unwrap();
    assert_eq!(lines[0]["tenant_id"], "t-start");
    assert_eq!(lines[0]["correlation_id"], "c-start");
    assert_eq!(lines[1]["tenant_id"], "t-late");
    assert_eq!(lines[1]["correlation_id"], "c-late");
    let docs = sinks.emf.json_lines().unwrap();
    assert_eq!(docs[0]["Seen"], 1, "the handle's metrics are the invocation's");
    assert_eq!(docs[0]["tenant_id"], "t-late");
}

#[test]
fn a_failed_requests_error_code_reaches_the_summary_and_emf() {
    let (obs, sinks) = observed();
    tracing::subscriber::with_default(obs.subscriber(), || {
        obs.start(meta("req-3", None)).finish(Outcome {
            status: Some(503),
            error: Some("Lift.overloaded"),
            route: Some("GET /orders"),
        });
    });
    let summary = &sinks.logs.json_lines().unwrap()[0];
    assert_eq!(summary["level"], "ERROR");
    assert_eq!(summary["message"], "request failed");
    assert_eq!(summary["error"], "Lift.overloaded");
    assert_eq!(summary["status"], 503);
    let doc = &sinks.emf.json_lines().unwrap()[0];
    assert_eq!(doc["error"], "Lift.overloaded");
    assert_eq!(doc["Errors"], 1);
    assert_eq!(doc["route"], "GET /orders");
    assert!(
        doc.get("correlation_id").is_none(),
        "none given: the request id says it"
    );
}

#[tokio::test]
async fn current_metrics_is_the_polled_invocations_own_and_none_outside() {
    // Metrics only: the invocation must still be current while its future is polled.
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .logs(false)
        .emf_sink(emf.clone())
        .summary_metrics(false)
        .build()
        .unwrap();
    assert!(current_metrics().is_none(), "outside any invocation");
    let a = obs.start(meta("req-a", None));
    let b = obs.start(meta("req-b", None));
    let work = |n: u64| async move {
        for _ in 0..n {
            tokio::task::yield_now().await;
            current_metrics().expect("inside").count("Steps", 1).unwrap();
        }
    };
    // Interleaved on one thread: each poll sees its own invocation.
    tokio::join!(a.instrument(work(3)), b.instrument(work(5)));
    assert!(current_metrics().is_none(), "restored after the polls");
    a.finish(Outcome::default());
    b.finish(Outcome::default());
    let docs = emf.json_lines().unwrap();
    let steps = |id: &str| docs.iter().find(|d| d["function_request_id"] == id).unwrap()["Steps"].clone();
    assert_eq!(steps("req-a"), 3, "counts add up per invocation");
    assert_eq!(steps("req-b"), 5);

    let off = Observability::builder().metrics(false).logs(false).build().unwrap();
    let inv = off.start(meta("req-off", None));
    let seen = inv.instrument(async { current_metrics().is_some() }).await;
    assert!(!seen, "no handle when metrics are off");
}

#[test]
fn lambda_runtime_span_fields_never_duplicate_lifts_keys() {
    let (obs, sinks) = observed();
    tracing::subscriber::with_default(obs.subscriber(), || {
        // lambda_runtime 1.5, src/runtime.rs and src/layers/trace.rs (`request_span`): same
        // targets, names and fields.
        let worker = tracing::info_span!(target: "lambda_runtime::runtime", "worker", task_id = "7");
        let invoke = tracing::info_span!(
            target: "lambda_runtime::layers::trace",
            "Lambda runtime invoke",
            requestId = "req-4",
            xrayTraceId = ROOT,
            tenantId = "acme"
        );
        let _w = worker.enter();
        let _i = invoke.enter();
        let inv = obs.start(InvocationMeta {
            tenant_id: Some("acme"),
            ..meta("req-4", None)
        });
        let fut = inv.instrument(async {
            tracing::info_span!("load", order_id = 9).in_scope(|| tracing::info!("inside"));
        });
        poll_ready(fut);
        invoke.record("requestId", "again");
        inv.finish(Outcome::default());
    });
    let lines = sinks.logs.json_lines().unwrap();
    let line = &lines[0];
    assert_eq!(line["message"], "inside");
    assert_eq!(line["function_request_id"], "req-4");
    assert_eq!(line["tenant_id"], "acme");
    assert_eq!(line["order_id"], 9, "the function's own span fields still appear");
    for key in ["requestId", "xrayTraceId", "tenantId", "task_id"] {
        assert!(line.get(key).is_none(), "{key} duplicated in {line}");
    }
}

/// Polls a future that never waits to completion.
fn poll_ready<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

#[test]
fn the_handle_is_cheap_to_share() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<InvocationHandle>();
    assert_eq!(
        std::mem::size_of::<InvocationHandle>(),
        std::mem::size_of::<usize>(),
        "one pointer: a clone is one Arc clone"
    );
}
