//! One invocation at a time: logs, EMF and X-Ray as Powertools users expect them, and bad input.

mod common;

use std::io;
use std::net::UdpSocket;
use std::time::Duration;

use common::*;
use lift_observability::{
    CaptureSink, DatagramSink, InvocationMeta, LevelFilter, LineSink, MetricError, Observability, Outcome, Unit,
};
use serde_json::Value;

fn meta<'a>(request_id: &'a str, header: Option<&'a str>, cold: bool) -> InvocationMeta<'a> {
    InvocationMeta {
        request_id,
        function_arn: ARN,
        trace_header: header,
        cold_start: cold,
        correlation_id: None,
        tenant_id: None,
    }
}

fn with<R>(obs: &Observability, f: impl FnOnce() -> R) -> R {
    tracing::subscriber::with_default(obs.subscriber(), f)
}

#[test]
fn log_lines_carry_powertools_keys_span_fields_and_redaction() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .service("orders")
        .function_name("orders-fn")
        .function_memory_size(512)
        .log_sink(logs.clone())
        .metrics(false)
        .build()
        .expect("config");
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    with(&obs, || {
        let inv = obs.start(InvocationMeta {
            correlation_id: Some("corr-7"),
            ..meta("req-1", Some(&header), true)
        });
        let _root = inv.span().enter();
        tracing::info!("before tenant");
        inv.set_tenant("acme");
        let route = tracing::info_span!("route", route = "POST /orders", password = "hunter2");
        let _r = route.enter();
        tracing::warn!(
            order_id = 42,
            amount = 9.5,
            ok = true,
            authorization = "Bearer x",
            service = "evil",
            "order \"created\"\n"
        );
        drop(_r);
        drop(_root);
        inv.finish(Outcome {
            status: Some(201),
            error: None,
            route: Some("POST /orders"),
        });
    });
    tracing::subscriber::with_default(obs.subscriber(), || tracing::info!(outside = 1, "no invocation"));

    let lines = logs.json_lines().expect("every line is JSON");
    assert_eq!(lines.len(), 4, "{lines:?}");
    let first = &lines[0];
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["message"], "before tenant");
    assert!(is_rfc3339_utc(&first["timestamp"]), "{}", first["timestamp"]);
    assert_eq!(first["service"], "orders");
    assert_eq!(first["cold_start"], true);
    assert_eq!(first["function_name"], "orders-fn");
    assert_eq!(first["function_memory_size"], 512);
    assert_eq!(first["function_arn"], ARN);
    assert_eq!(first["function_request_id"], "req-1");
    assert_eq!(first["xray_trace_id"], ROOT);
    assert_eq!(first["correlation_id"], "corr-7");
    assert!(first.get("tenant_id").is_none());

    let second = &lines[1];
    assert_eq!(second["level"], "WARN");
    assert_eq!(second["message"], "order \"created\"\n");
    assert_eq!(second["tenant_id"], "acme");
    assert_eq!(second["order_id"], 42);
    assert_eq!(second["amount"], 9.5);
    assert_eq!(second["ok"], true);
    assert_eq!(second["route"], "POST /orders", "span field");
    assert_eq!(second["password"], "*****");
    assert_eq!(second["authorization"], "*****");
    assert_eq!(second["service"], "orders", "reserved key not overwritten");
    assert_eq!(second["fields.service"], "evil");
    let raw = logs.lines();
    assert!(!raw.iter().any(|l| l.contains("hunter2") || l.contains("Bearer")));

    let summary = &lines[2];
    assert_eq!(summary["message"], "request completed");
    assert_eq!(summary["route"], "POST /orders");
    assert_eq!(summary["status"], 201);
    assert!(summary["latency_ms"].as_f64().expect("latency") >= 0.0);
    assert_eq!(summary["function_request_id"], "req-1");

    let outside = &lines[3];
    assert_eq!(outside["service"], "orders");
    assert_eq!(outside["outside"], 1);
    assert!(outside.get("function_request_id").is_none());
}

#[test]
fn correlation_id_defaults_to_request_id_and_level_filters() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .log_level(LevelFilter::WARN)
        .log_sink(logs.clone())
        .metrics(false)
        .build()
        .expect("config");
    with(&obs, || {
        let inv = obs.start(meta("req-2", None, false));
        let _g = inv.span().enter();
        tracing::debug!("hidden");
        tracing::info!("hidden too");
        tracing::error!("shown");
        drop(_g);
        inv.finish(Outcome {
            status: Some(500),
            error: Some("db down"),
            route: None,
        });
    });
    let lines = logs.json_lines().expect("json");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["correlation_id"], "req-2");
    assert!(lines[0].get("xray_trace_id").is_none());
    assert_eq!(lines[1]["level"], "ERROR");
    assert_eq!(lines[1]["message"], "request failed");
    assert_eq!(lines[1]["error"], "db down");
}

#[test]
fn debug_sampling_is_decided_once_per_invocation() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .sample_rate(0.5)
        .log_sink(logs.clone())
        .summary_log(false)
        .metrics(false)
        .build()
        .expect("config");
    let mut sampled = Vec::new();
    with(&obs, || {
        for i in 0..200 {
            let id = format!("req-{i}");
            let inv = obs.start(meta(&id, None, false));
            sampled.push(inv.debug_sampled());
            let _g = inv.span().enter();
            for _ in 0..3 {
                tracing::debug!("detail");
            }
            tracing::info!("always");
            drop(_g);
            inv.finish(Outcome::default());
        }
    });
    let lines = logs.json_lines().expect("json");
    let n_sampled = sampled.iter().filter(|s| **s).count();
    assert!(n_sampled > 40 && n_sampled < 160, "{n_sampled} of 200 sampled at 0.5");
    for (i, s) in sampled.iter().enumerate() {
        let id = format!("req-{i}");
        let debug = lines
            .iter()
            .filter(|l| l["function_request_id"] == id.as_str() && l["level"] == "DEBUG")
            .count();
        assert_eq!(debug, if *s { 3 } else { 0 }, "invocation {i}");
        assert!(lines
            .iter()
            .any(|l| l["function_request_id"] == id.as_str() && l["sampling_rate"] == 0.5));
    }
}

#[test]
fn emf_documents_validate_and_cold_start_is_separate_and_first_only() {
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .service("orders")
        .namespace("Shop")
        .function_name("orders-fn")
        .emf_sink(emf.clone())
        .logs(false)
        .build()
        .expect("config");
    let validator = emf_validator();
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    for (i, cold) in [(0, true), (1, false)] {
        let id = format!("req-{i}");
        let inv = obs.start(InvocationMeta {
            tenant_id: Some("acme"),
            ..meta(&id, Some(&header), cold)
        });
        let m = inv.metrics();
        m.count("OrdersCreated", 1).expect("ok");
        m.count("OrdersCreated", 2).expect("ok");
        m.value("PayloadSize", 512.0, Unit::Bytes).expect("ok");
        m.value("PayloadSize", 1024.0, Unit::Bytes).expect("ok");
        m.value_str("Took", 1.5, "Milliseconds").expect("ok");
        m.dimension("environment", "prod").expect("ok");
        m.property("order_id", "o-1").expect("ok");
        inv.finish(Outcome {
            status: Some(201),
            error: None,
            route: Some("POST /orders"),
        });
    }
    let docs = emf.json_lines().expect("every document is JSON");
    assert_eq!(docs.len(), 3, "{docs:?}");
    for d in &docs {
        check_emf(&validator, d);
    }
    let main = &docs[0];
    let directive = &main["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Shop");
    assert_eq!(directive["Dimensions"], serde_json::json!([["service", "environment"]]));
    assert_eq!(main["service"], "orders");
    assert_eq!(main["environment"], "prod");
    assert_eq!(main["OrdersCreated"], 3);
    assert_eq!(main["PayloadSize"], serde_json::json!([512, 1024]));
    assert_eq!(main["Took"], 1.5);
    assert_eq!(main["Errors"], 0);
    assert!(main["Latency"].as_f64().is_some());
    assert_eq!(main["function_request_id"], "req-0");
    assert_eq!(main["xray_trace_id"], ROOT);
    assert_eq!(main["tenant_id"], "acme");
    assert_eq!(main["route"], "POST /orders");
    assert_eq!(main["status"], 201);
    assert_eq!(main["order_id"], "o-1");
    assert!(main.get("ColdStart").is_none(), "ColdStart in its own document");
    let units: Vec<&str> = directive["Metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| m["Unit"].as_str().expect("unit"))
        .collect();
    assert_eq!(units, ["Count", "Bytes", "Milliseconds", "Milliseconds", "Count"]);

    let cold = &docs[1];
    assert_eq!(cold["ColdStart"], 1);
    assert_eq!(cold["function_name"], "orders-fn");
    assert_eq!(
        cold["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["service", "function_name"]])
    );
    assert_eq!(
        cold["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(docs[2]["function_request_id"], "req-1");
    assert!(docs.iter().filter(|d| d.get("ColdStart").is_some()).count() == 1);
    assert_eq!(obs.stats().emf_documents_written, 3);
}

#[test]
fn emf_splits_at_the_limits_and_every_document_validates() {
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .emf_sink(emf.clone())
        .logs(false)
        .build()
        .expect("config");
    let validator = emf_validator();
    let inv = obs.start(meta("req-big", None, false));
    let m = inv.metrics();
    for i in 0..230 {
        m.count(&format!("Metric{i}"), i).expect("ok");
    }
    for i in 0..350 {
        m.value("Latencies", f64::from(i), Unit::Milliseconds).expect("ok");
    }
    for i in 0..28 {
        m.dimension(&format!("dim{i}"), "v")
            .expect("29 dimensions with service");
    }
    inv.finish(Outcome::default());
    let docs = emf.json_lines().expect("json");
    for d in &docs {
        check_emf(&validator, d);
        assert_eq!(d["function_request_id"], "req-big");
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
                .as_array()
                .map(Vec::len),
            Some(29)
        );
    }
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for d in &docs {
        for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics")
        {
            let name = m["Name"].as_str().expect("name").to_owned();
            let n = d[&name].as_array().map_or(1, Vec::len);
            *seen.entry(name).or_default() += n;
        }
    }
    assert_eq!(seen.len(), 230 + 1 + 2, "every metric written");
    assert_eq!(seen["Latencies"], 350);
    assert_eq!(seen["Metric7"], 1);
    assert!(docs.len() >= 4, "{} documents", docs.len());
}

#[test]
fn invalid_metrics_are_refused_with_clear_errors_and_counted() {
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .emf_sink(emf.clone())
        .logs(false)
        .build()
        .expect("config");
    let inv = obs.start(meta("req-bad", None, false));
    let m = inv.metrics();
    let e = m.count("", 1).expect_err("empty name");
    assert!(matches!(e, MetricError::InvalidName(_)));
    assert!(e.to_string().contains("invalid metric name"));
    assert!(m.count(&"n".repeat(256), 1).is_err());
    assert!(m.count("bad\nname", 1).is_err());
    let e = m.value_str("Size", 1.0, "Furlongs").expect_err("unit");
    assert!(e.to_string().contains("Furlongs"), "{e}");
    assert!(m.value("Nan", f64::NAN, Unit::None).is_err());
    m.value("Size", 1.0, Unit::Bytes).expect("ok");
    assert!(matches!(
        m.value("Size", 1.0, Unit::Seconds),
        Err(MetricError::UnitConflict { .. })
    ));
    for i in 0..29 {
        m.dimension(&format!("d{i}"), "v").expect("ok");
    }
    let e = m.dimension("d29", "v").expect_err("31st dimension");
    assert!(e.to_string().contains("at most 30 dimensions"), "{e}");
    assert!(m.dimension("empty", "  ").is_err());
    assert_eq!(obs.stats().metric_errors, 8);
    inv.finish(Outcome::default());
    assert_eq!(m.count("Late", 1), Err(MetricError::Flushed));
    let docs = emf.json_lines().expect("json");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["Size"], 1);
}

#[test]
fn dropping_an_invocation_still_flushes_once() {
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .emf_sink(emf.clone())
        .logs(false)
        .build()
        .expect("config");
    {
        let inv = obs.start(meta("req-drop", None, false));
        inv.metrics().count("Started", 1).expect("ok");
    }
    let docs = emf.json_lines().expect("json");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["error"], "invocation abandoned");
    assert_eq!(docs[0]["Errors"], 1);
}

#[test]
fn xray_subsegments_over_real_udp_are_nested_and_parented_to_the_invocation_header() {
    let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = daemon.local_addr().expect("addr");
    let obs = Observability::builder()
        .service("orders")
        .log_sink(CaptureSink::new())
        .emf_sink(CaptureSink::new())
        .xray_daemon_address(addr.to_string())
        .build()
        .expect("config");
    assert!(obs.tracing_enabled());
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    with(&obs, || {
        let inv = obs.start(InvocationMeta {
            tenant_id: Some("acme"),
            ..meta("req-x", Some(&header), true)
        });
        assert!(inv.xray_sampled());
        let _root = inv.span().enter();
        {
            let outer = tracing::info_span!("load_order", order_id = 7, tenant_id = "acme", password = "p");
            let _o = outer.enter();
            let inner = tracing::info_span!("dynamodb.get_item", table = "orders");
            let _i = inner.enter();
            tracing::error!("throttled by dynamodb");
        }
        tracing::info_span!("render").in_scope(|| {});
        drop(_root);
        inv.finish(Outcome {
            status: Some(201),
            error: None,
            route: Some("POST /orders"),
        });
    });
    let docs = recv_all(&daemon, Duration::from_millis(300));
    assert_eq!(docs.len(), 1, "{docs:?}");
    let doc = &docs[0];
    assert_eq!(doc["type"], "subsegment");
    assert_eq!(doc["trace_id"], ROOT);
    assert_eq!(doc["parent_id"], PARENT);
    assert_eq!(doc["name"], "## POST /orders");
    assert!(is_hex16(&doc["id"]));
    assert_eq!(doc["annotations"]["tenant_id"], "acme");
    assert_eq!(doc["annotations"]["cold_start"], true);
    assert_eq!(doc["annotations"]["service"], "orders");
    assert_eq!(doc["annotations"]["route"], "POST /orders");
    assert_eq!(doc["http"]["response"]["status"], 201);
    assert!(doc.get("fault").is_none());
    let start = doc["start_time"].as_f64().expect("start");
    let end = doc["end_time"].as_f64().expect("end");
    assert!(start > 1.6e9 && start <= end, "{start} {end}");

    let mut all = Vec::new();
    flatten(doc, 0, &mut all);
    let names: Vec<(usize, &str)> = all
        .iter()
        .map(|(d, s)| (*d, s["name"].as_str().unwrap_or("")))
        .collect();
    assert!(names.contains(&(1, "load_order")), "{names:?}");
    assert!(names.contains(&(2, "dynamodb.get_item")), "{names:?}");
    assert!(names.contains(&(1, "render")), "{names:?}");
    let (_, outer) = all.iter().find(|(_, s)| s["name"] == "load_order").expect("outer");
    assert_eq!(outer["metadata"]["default"]["order_id"], 7);
    assert_eq!(outer["metadata"]["default"]["password"], "*****");
    assert_eq!(outer["annotations"]["tenant_id"], "acme");
    let (_, inner) = all
        .iter()
        .find(|(_, s)| s["name"] == "dynamodb.get_item")
        .expect("inner");
    assert_eq!(inner["fault"], true);
    assert_eq!(inner["cause"]["exceptions"][0]["message"], "throttled by dynamodb");
    let ids: std::collections::HashSet<&str> = all.iter().map(|(_, s)| s["id"].as_str().unwrap_or("")).collect();
    assert_eq!(ids.len(), all.len(), "unique ids");
    assert!(all.iter().all(|(_, s)| is_hex16(&s["id"])));
    assert_eq!(obs.stats().xray_datagrams_sent, 1);
}

#[test]
fn error_outcomes_mark_fault_throttle_and_cause() {
    let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let obs = Observability::builder()
        .logs(false)
        .metrics(false)
        .xray_daemon_address(daemon.local_addr().expect("addr").to_string())
        .build()
        .expect("config");
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    obs.start(meta("a", Some(&header), false)).finish(Outcome {
        status: Some(500),
        error: Some("boom"),
        route: None,
    });
    obs.start(meta("b", Some(&header), false)).finish(Outcome {
        status: Some(429),
        error: None,
        route: None,
    });
    let docs = recv_all(&daemon, Duration::from_millis(300));
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["fault"], true);
    assert_eq!(docs[0]["cause"]["exceptions"][0]["message"], "boom");
    assert_eq!(docs[1]["throttle"], true);
    assert_eq!(docs[1]["error"], true);
    assert!(docs[1].get("fault").is_none());
}

#[test]
fn nothing_is_sent_when_unsampled_without_header_or_without_daemon() {
    let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let obs = Observability::builder()
        .log_sink(CaptureSink::new())
        .metrics(false)
        .xray_daemon_address(daemon.local_addr().expect("addr").to_string())
        .build()
        .expect("config");
    let unsampled = format!("Root={ROOT};Parent={PARENT};Sampled=0");
    with(&obs, || {
        for h in [Some(unsampled.as_str()), None, Some("garbage")] {
            let inv = obs.start(meta("r", h, false));
            assert!(!inv.xray_sampled());
            inv.span()
                .in_scope(|| tracing::info_span!("work").in_scope(|| tracing::info!("x")));
            inv.finish(Outcome::default());
        }
    });
    assert_eq!(obs.stats().xray_datagrams_sent, 0);
    // Control: the same daemon does receive a sampled invocation, so the silence above is real.
    let sampled = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    with(&obs, || {
        obs.start(meta("r", Some(&sampled), false)).finish(Outcome::default())
    });
    let docs = recv_all(&daemon, Duration::from_millis(200));
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["trace_id"], ROOT);
    let no_daemon = Observability::builder()
        .logs(false)
        .metrics(false)
        .build()
        .expect("config");
    assert!(!no_daemon.tracing_enabled());
    assert!(!no_daemon.start(meta("r", Some(&sampled), false)).xray_sampled());
}

#[test]
fn large_traces_are_split_into_datagrams_under_64k() {
    let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
    // Room for everything sent in this test, so the kernel drops nothing.
    let obs = Observability::builder()
        .log_sink(CaptureSink::new())
        .metrics(false)
        .xray_daemon_address(daemon.local_addr().expect("addr").to_string())
        .build()
        .expect("config");
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    let big = "x".repeat(2000);
    let receiver = std::thread::spawn(move || {
        let docs = recv_all(&daemon, Duration::from_millis(500));
        (docs, kernel_drops(&daemon))
    });
    with(&obs, || {
        let inv = obs.start(meta("req-big", Some(&header), false));
        inv.span().in_scope(|| {
            for i in 0..60 {
                tracing::info_span!("step", i, blob = big.as_str()).in_scope(|| {
                    tracing::info_span!("sub", i).in_scope(|| {});
                });
            }
            // One span larger than a datagram: sent without its metadata.
            tracing::info_span!("huge", blob = "y".repeat(70_000).as_str()).in_scope(|| {});
        });
        inv.finish(Outcome::default());
    });
    let (docs, drops) = receiver.join().expect("receiver");
    assert_eq!(
        obs.stats().xray_datagrams_sent,
        1 + 60 + 60 + 1,
        "one datagram per subsegment when split"
    );
    assert_eq!(
        docs.len() as u64 + drops.unwrap_or(0),
        1 + 60 + 60 + 1,
        "received or dropped by the kernel"
    );
    assert!(docs.len() > 1, "too few datagrams received to check");
    let root_id = docs
        .iter()
        .find(|d| d["parent_id"] == PARENT)
        .map_or(Value::Null, |d| d["id"].clone());
    let ids: std::collections::HashSet<String> = docs
        .iter()
        .map(|d| d["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    for d in &docs {
        assert_eq!(d["trace_id"], ROOT);
        assert_eq!(d["type"], "subsegment");
        let p = d["parent_id"].as_str().expect("parent");
        assert!(
            p == PARENT || ids.contains(p) || drops.unwrap_or(0) > 0,
            "dangling parent {p}"
        );
        if d["name"] == "step" || d["name"] == "huge" {
            assert!(root_id.is_null() || d["parent_id"] == root_id);
        }
    }
    match docs.iter().find(|d| d["name"] == "huge") {
        Some(huge) => assert!(huge.get("metadata").is_none()),
        None => assert!(drops.unwrap_or(0) > 0, "the huge span was neither received nor dropped"),
    }
    assert_eq!(obs.stats().xray_datagrams_dropped, 0);
}

struct Broken;
impl LineSink for Broken {
    fn write_line(&self, _: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::BrokenPipe, "stdout closed"))
    }
}
impl DatagramSink for Broken {
    fn send(&self, _: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::WouldBlock, "buffer full"))
    }
}

#[test]
fn closed_sinks_are_counted_drops_not_panics() {
    let obs = Observability::builder()
        .log_sink(Broken)
        .emf_sink(Broken)
        .xray_sink(Broken)
        .build()
        .expect("config");
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    with(&obs, || {
        let inv = obs.start(meta("r", Some(&header), true));
        inv.span().in_scope(|| tracing::info!("lost"));
        inv.metrics().count("X", 1).expect("ok");
        inv.finish(Outcome::default());
    });
    let s = obs.stats();
    assert_eq!(s.log_lines_dropped, 2, "event + summary");
    assert_eq!(s.emf_documents_dropped, 2, "metrics + cold start");
    assert_eq!(s.xray_datagrams_dropped, 1);
    assert_eq!(s.xray_datagrams_sent, 0);
}

#[test]
fn udp_to_a_closed_port_is_counted_never_a_panic() {
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.local_addr().expect("addr").port()
    };
    let obs = Observability::builder()
        .logs(false)
        .metrics(false)
        .xray_daemon_address(format!("127.0.0.1:{port}"))
        .build()
        .expect("config");
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    // The socket is non-blocking (`UdpSink::new`): every send returns, sent or refused.
    for _ in 0..50 {
        obs.start(meta("r", Some(&header), false)).finish(Outcome::default());
    }
    let s = obs.stats();
    assert_eq!(s.xray_datagrams_sent + s.xray_datagrams_dropped, 50);
}

#[test]
fn unresolvable_daemon_address_is_a_clear_config_error() {
    let e = Observability::builder()
        .xray_daemon_address("daemon.does-not-exist.invalid:2000")
        .build()
        .expect_err("error");
    let msg = e.to_string();
    assert!(
        msg.starts_with("xray_daemon_address (set in code)") && msg.contains("does not resolve"),
        "{msg}"
    );
}

#[test]
fn install_sets_the_global_subscriber_once() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .log_sink(logs.clone())
        .metrics(false)
        .build()
        .expect("config");
    obs.install().expect("first install");
    assert!(obs.install().is_err(), "second install refused");
    let inv = obs.start(meta("req-g", None, false));
    inv.span().in_scope(|| tracing::info!("global"));
    inv.finish(Outcome::default());
    let lines = logs.json_lines().expect("json");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["function_request_id"], "req-g");
    assert_eq!(lines[1]["message"], "request completed");
}

#[test]
fn handles_are_send_and_sync_where_promised() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync + Clone>() {}
    send::<lift_observability::Invocation>();
    send_sync::<lift_observability::Metrics>();
    send_sync::<Observability>();
    // The instrumented future of a Send future is Send (spawnable on a multi-thread runtime).
    fn spawnable<F: std::future::Future + Send>(_: &F) {}
    let obs = Observability::builder()
        .logs(false)
        .metrics(false)
        .build()
        .expect("config");
    let inv = obs.start(meta("r", None, false));
    let fut = inv.instrument(async { 1 });
    spawnable(&fut);
}

#[test]
fn a_span_closing_after_finish_is_sent_on_its_own() {
    let xray = CaptureSink::new();
    let obs = Observability::builder()
        .service("orders")
        .log_sink(CaptureSink::new())
        .emf_sink(CaptureSink::new())
        .xray_sink(xray.clone())
        .build()
        .expect("config");
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    with(&obs, || {
        let inv = obs.start(meta("req-late", Some(&header), false));
        let late = inv.span().in_scope(|| tracing::info_span!("background", job = 1));
        inv.finish(Outcome::default());
        assert_eq!(xray.lines().len(), 1);
        drop(late);
    });
    let docs: Vec<Value> = xray
        .lines()
        .iter()
        .map(|d| serde_json::from_str(d.split_once('\n').expect("header line").1).expect("json"))
        .collect();
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert_eq!(docs[1]["name"], "background");
    assert_eq!(docs[1]["trace_id"], ROOT);
    assert_eq!(docs[1]["parent_id"], docs[0]["id"]);
    assert_eq!(docs[1]["metadata"]["default"]["job"], 1);
}

#[test]
fn pooled_buffers_never_carry_anything_into_the_next_invocation() {
    let logs = CaptureSink::new();
    let emf = CaptureSink::new();
    let xray = CaptureSink::new();
    let obs = Observability::builder()
        .service("orders")
        .log_sink(logs.clone())
        .emf_sink(emf.clone())
        .xray_sink(xray.clone())
        .summary_metrics(false)
        .build()
        .expect("config");
    let header = format!("Root={ROOT};Parent={PARENT};Sampled=1");
    with(&obs, || {
        for i in 0..5 {
            let req = format!("req-{i}");
            let inv = obs.start(meta(&req, Some(&header), false));
            let m = inv.metrics();
            m.count(&format!("Only{i}"), 1).expect("metric");
            m.dimension("run", &format!("r{i}")).expect("dimension");
            inv.span().in_scope(|| {
                tracing::info_span!("step", i).in_scope(|| tracing::info!(i, "working"));
            });
            inv.finish(Outcome::default());
        }
    });
    let docs = emf.json_lines().expect("json");
    assert_eq!(docs.len(), 5);
    for (i, d) in docs.iter().enumerate() {
        let metrics = d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics");
        assert_eq!(metrics.len(), 1, "{d}");
        assert_eq!(metrics[0]["Name"], format!("Only{i}"));
        assert_eq!(d["run"], format!("r{i}"));
        assert_eq!(d["function_request_id"], format!("req-{i}"));
    }
    let lines = logs.json_lines().expect("json");
    let working: Vec<&Value> = lines.iter().filter(|l| l["message"] == "working").collect();
    assert_eq!(working.len(), 5);
    for (i, l) in working.iter().enumerate() {
        assert_eq!(l["function_request_id"], format!("req-{i}"));
        assert_eq!(l["i"], i as u64);
    }
    for (i, d) in xray.lines().iter().enumerate() {
        let doc: Value = serde_json::from_str(d.split_once('\n').expect("header").1).expect("json");
        let subs = doc["subsegments"].as_array().expect("subsegments");
        assert_eq!(subs.len(), 1, "{doc}");
        assert_eq!(subs[0]["metadata"]["default"]["i"], i as u64);
    }
}

#[test]
fn nested_instrumented_invocations_restore_the_outer_one() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .service("orders")
        .log_sink(logs.clone())
        .emf_sink(CaptureSink::new())
        .summary_log(false)
        .build()
        .expect("config");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    with(&obs, || {
        let a = obs.start(meta("req-a", None, false));
        let b = obs.start(meta("req-b", None, false));
        rt.block_on(a.instrument(async {
            tracing::info!("a before");
            b.instrument(async {
                tracing::info!("b");
                tokio::task::yield_now().await;
                tracing::info!("b after yield");
            })
            .await;
            tracing::info!("a after");
        }));
        tracing::info!("outside");
        a.finish(Outcome::default());
        b.finish(Outcome::default());
    });
    let lines = logs.json_lines().expect("json");
    let rid = |msg: &str| {
        lines
            .iter()
            .find(|l| l["message"] == msg)
            .map(|l| l["function_request_id"].clone())
            .expect("line")
    };
    assert_eq!(rid("a before"), "req-a");
    assert_eq!(rid("b"), "req-b");
    assert_eq!(rid("b after yield"), "req-b");
    assert_eq!(rid("a after"), "req-a");
    assert_eq!(rid("outside"), Value::Null);
}

#[test]
fn a_panicking_handler_does_not_leave_its_invocation_current() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .service("orders")
        .log_sink(logs.clone())
        .emf_sink(CaptureSink::new())
        .summary_log(false)
        .build()
        .expect("config");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    with(&obs, || {
        let inv = obs.start(meta("req-panic", None, false));
        let fut = inv.instrument(async {
            tracing::info!("before panic");
            panic!("handler bug");
        });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(fut)));
        assert!(caught.is_err());
        tracing::info!("after panic");
        inv.finish(Outcome::default());
    });
    let lines = logs.json_lines().expect("json");
    let rid = |msg: &str| {
        lines
            .iter()
            .find(|l| l["message"] == msg)
            .map(|l| l["function_request_id"].clone())
            .expect("line")
    };
    assert_eq!(rid("before panic"), "req-panic");
    assert_eq!(rid("after panic"), Value::Null);
}
