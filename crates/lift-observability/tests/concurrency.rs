//! Many invocations in flight at once on a multi-threaded runtime, with awaits interleaved inside
//! the instrumented futures: nothing of one invocation may land in another's output.

mod common;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::Duration;

use common::*;
use lift_observability::{CaptureSink, InvocationMeta, Observability, Outcome, Unit};
use serde_json::Value;

const N: usize = 300;

async fn handler(i: usize, metrics: lift_observability::Metrics) {
    let req = format!("req-{i}");
    tracing::info!(req = req.as_str(), "start");
    tokio::task::yield_now().await;
    let span = tracing::info_span!("work", req = req.as_str(), i);
    async {
        tokio::task::yield_now().await;
        tracing::info!(req = req.as_str(), "in span");
        let inner = tracing::info_span!("inner", i);
        async {
            tokio::time::sleep(Duration::from_micros((i % 7) as u64 * 100)).await;
            metrics.count("Handled", 1).expect("metric");
            metrics.value("Index", i as f64, Unit::None).expect("metric");
            metrics.property("req", req.as_str()).expect("property");
            tokio::task::yield_now().await;
        }
        .instrument_with(inner)
        .await;
    }
    .instrument_with(span)
    .await;
    tracing::info!(req = req.as_str(), "end");
}

trait InstrumentWith: std::future::Future + Sized {
    fn instrument_with(self, span: tracing::Span) -> tracing::instrument::Instrumented<Self> {
        tracing::Instrument::instrument(self, span)
    }
}
impl<F: std::future::Future> InstrumentWith for F {}

#[test]
fn concurrent_invocations_never_mix_keys_metrics_or_subsegments() {
    let logs = CaptureSink::new();
    let emf = CaptureSink::new();
    let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let obs = Observability::builder()
        .service("orders")
        .log_sink(logs.clone())
        .emf_sink(emf.clone())
        .xray_daemon_address(daemon.local_addr().expect("addr").to_string())
        .build()
        .expect("config");
    obs.install().expect("install");
    let receiver = std::thread::spawn(move || {
        let docs = recv_all(&daemon, Duration::from_millis(800));
        (docs, kernel_drops(&daemon))
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..N {
            let obs = obs.clone();
            tasks.push(tokio::spawn(async move {
                let (header, _, _) = trace_header(i, i % 3 != 0);
                let req = format!("req-{i}");
                let tenant = format!("tenant-{}", i % 5);
                let inv = obs.start(InvocationMeta {
                    request_id: &req,
                    function_arn: ARN,
                    trace_header: Some(&header),
                    cold_start: i == 0,
                    correlation_id: None,
                    tenant_id: None,
                });
                let metrics = inv.metrics();
                inv.set_tenant(&tenant);
                inv.instrument(handler(i, metrics)).await;
                inv.finish(Outcome {
                    status: Some(200),
                    error: None,
                    route: Some("GET /orders/{id}"),
                });
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    });

    // Logs: 3 event lines + 1 summary per invocation, every key from its own invocation.
    let lines = logs.json_lines().expect("every line is JSON");
    assert_eq!(lines.len(), N * 4);
    let mut per_req: HashMap<String, usize> = HashMap::new();
    let (mut with_req, mut in_span) = (0, 0);
    for l in &lines {
        let req = l["function_request_id"].as_str().expect("request id").to_owned();
        let i: usize = req.trim_start_matches("req-").parse().expect("index");
        let (_, root, _) = trace_header(i, true);
        assert_eq!(l["xray_trace_id"], root.as_str(), "{l}");
        assert_eq!(l["correlation_id"], req.as_str());
        assert_eq!(l["tenant_id"], format!("tenant-{}", i % 5).as_str(), "{l}");
        assert_eq!(l["cold_start"], i == 0);
        if l.get("req").is_some() {
            assert_eq!(l["req"], req.as_str(), "event field of another invocation: {l}");
            with_req += 1;
        }
        if l["message"] == "in span" {
            assert_eq!(l["i"], i, "span field of another invocation: {l}");
            in_span += 1;
        }
        *per_req.entry(req).or_default() += 1;
    }
    assert_eq!((with_req, in_span), (N * 3, N), "the field checks above ran");
    assert_eq!(per_req.len(), N);
    assert!(per_req.values().all(|n| *n == 4));

    // EMF: one document per invocation plus one ColdStart document.
    let validator = emf_validator();
    let docs = emf.json_lines().expect("json");
    assert_eq!(docs.len(), N + 1);
    assert_eq!(docs.iter().filter(|d| d.get("ColdStart").is_some()).count(), 1);
    let mut seen = std::collections::HashSet::new();
    for d in docs.iter().filter(|d| d.get("ColdStart").is_none()) {
        check_emf(&validator, d);
        let req = d["function_request_id"].as_str().expect("request id");
        let i: usize = req.trim_start_matches("req-").parse().expect("index");
        assert_eq!(d["req"], req);
        assert_eq!(d["Handled"], 1);
        assert_eq!(d["Index"], i, "metric of another invocation in {req}");
        assert_eq!(d["tenant_id"], format!("tenant-{}", i % 5).as_str());
        assert!(seen.insert(req.to_owned()), "{req} flushed twice");
    }

    // X-Ray: one datagram per sampled invocation, each with its own trace and parent.
    let (datagrams, drops): (Vec<Value>, Option<u64>) = receiver.join().expect("receiver");
    let sampled = (0..N).filter(|i| i % 3 != 0).count();
    assert_eq!(obs.stats().xray_datagrams_sent, sampled as u64);
    // UDP is lossy: on a loaded machine the kernel may drop datagrams the test thread did not
    // read in time. Every datagram is accounted for: received or dropped by the kernel.
    assert_eq!(
        datagrams.len() as u64 + drops.unwrap_or(0),
        sampled as u64,
        "kernel drops {drops:?}"
    );
    for d in &datagrams {
        let root = d["trace_id"].as_str().expect("trace id");
        let i = usize::from_str_radix(&root[11..], 16).expect("hex") - 1;
        assert!(i % 3 != 0, "unsampled invocation {i} was sent");
        let (_, _, parent) = trace_header(i, true);
        assert_eq!(d["parent_id"], parent.as_str());
        assert_eq!(d["annotations"]["tenant_id"], format!("tenant-{}", i % 5).as_str());
        let mut all = Vec::new();
        flatten(d, 0, &mut all);
        assert_eq!(all.len(), 3, "invocation, work, inner: {d}");
        let work = &d["subsegments"][0];
        assert_eq!(work["name"], "work");
        assert_eq!(work["metadata"]["default"]["i"], i, "span of another invocation");
        assert_eq!(work["subsegments"][0]["name"], "inner");
        assert_eq!(work["subsegments"][0]["metadata"]["default"]["i"], i);
    }
    let s = obs.stats();
    assert_eq!(
        s.log_lines_dropped + s.emf_documents_dropped + s.xray_datagrams_dropped,
        0
    );
}
