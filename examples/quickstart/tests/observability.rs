//! Logs, EMF documents and X-Ray datagrams of the quick start binary, captured from its real
//! stdout and a real UDP socket while the Runtime API test server drives it — sequentially and
//! with many invocations in flight. Every key, metric and subsegment must belong to its own
//! invocation.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::{HashMap, HashSet};
use std::net::UdpSocket;
use std::process::Stdio;
use std::time::Duration;

use lift_testing::{events, RuntimeApiServer};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

const DAEMON_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

struct Expected {
    request_id: String,
    root: String,
    parent: String,
    tenant: String,
    item: Option<String>,
}

fn emf_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/lift-observability/tests/fixtures/emf-schema.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// Kernel drops counted for a local UDP port (`/proc/net/udp`, last column).
fn udp_drops(port: u16) -> usize {
    let Ok(table) = std::fs::read_to_string("/proc/net/udp") else {
        return 0;
    };
    let want = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|a| a.ends_with(&want)))
        .filter_map(|l| l.split_whitespace().last().and_then(|d| d.parse::<usize>().ok()))
        .sum()
}

async fn run(concurrency: Option<u32>, orders: usize) {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        udp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = vec![0u8; 70_000];
        let mut docs = Vec::new();
        while let Ok(n) = udp.recv(&mut buf) {
            assert!(n <= 64_000, "datagram of {n} bytes");
            let text = String::from_utf8(buf[..n].to_vec()).unwrap();
            let body = text
                .strip_prefix(DAEMON_HEADER)
                .unwrap_or_else(|| panic!("no daemon header: {text}"));
            docs.push(serde_json::from_str::<Value>(body).unwrap());
        }
        docs
    });

    let server = RuntimeApiServer::start().await.unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickstart"));
    cmd.env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("POWERTOOLS_SERVICE_NAME", "shop")
        .env("POWERTOOLS_METRICS_NAMESPACE", "Shop")
        .env("AWS_XRAY_DAEMON_ADDRESS", format!("127.0.0.1:{udp_port}"))
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("POWERTOOLS_LOG_LEVEL")
        .env_remove("LOG_LEVEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    match concurrency {
        Some(n) => cmd.env("AWS_LAMBDA_MAX_CONCURRENCY", n.to_string()),
        None => cmd.env_remove("AWS_LAMBDA_MAX_CONCURRENCY"),
    };
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let out_task = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s).await;
        s
    });

    let mut expected = Vec::new();
    let mut pending = Vec::new();
    for i in 0..orders {
        let root = format!("1-6a1b2c3d-{:024x}", i + 1);
        let parent = format!("{:016x}", 0x5000_0000_0000_0000u64 + i as u64);
        let header = format!("Root={root};Parent={parent};Sampled=1");
        let tenant = format!("tenant-{}", i % 3);
        let (payload, item) = if i % 4 == 3 {
            (
                events::sqs("orders")
                    .message(json!({"n": i}).to_string())
                    .build()
                    .to_string(),
                None,
            )
        } else {
            let item = format!("item-{i}");
            (
                events::apigw_v2("POST", "/orders")
                    .json(&json!({"item": item, "quantity": 1}))
                    .header("x-correlation-id", &format!("corr-{i}"))
                    .build()
                    .to_string(),
                Some(item),
            )
        };
        let inv = server.invoke_for_tenant(payload, Duration::from_secs(30), header, Some(tenant.clone()));
        expected.push(Expected {
            request_id: inv.request_id.clone(),
            root,
            parent,
            tenant,
            item,
        });
        pending.push(inv);
    }
    for inv in pending {
        let out = inv.outcome(Duration::from_secs(20)).await;
        assert!(out.json().is_some(), "{out:?}");
    }
    if concurrency.is_some() {
        assert!(server.max_in_flight() > 1, "never more than one invocation in flight");
    }
    let _ = child.kill().await;
    let stdout = out_task.await.unwrap();
    let datagrams = reader.join().unwrap();

    let by_id: HashMap<&str, &Expected> = expected.iter().map(|e| (e.request_id.as_str(), e)).collect();
    let by_root: HashMap<&str, &Expected> = expected.iter().map(|e| (e.root.as_str(), e)).collect();
    let validator = emf_validator();
    let mut cold_ids = HashSet::new();
    let mut summaries: HashMap<String, usize> = HashMap::new();
    let mut orders_created: HashMap<String, f64> = HashMap::new();
    let mut cold_start_docs = 0;

    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v.get("_aws").is_some() {
            let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "EMF schema errors {errors:?} in {v}");
            assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Shop");
            assert_eq!(v["service"], "shop");
            if v.get("ColdStart").is_some() {
                cold_start_docs += 1;
                assert!(v.get("OrdersCreated").is_none(), "ColdStart shares its document: {v}");
                continue;
            }
            let id = v["function_request_id"]
                .as_str()
                .unwrap_or_else(|| panic!("EMF without request id: {v}"));
            let e = by_id
                .get(id)
                .unwrap_or_else(|| panic!("EMF of an unknown invocation: {v}"));
            assert_eq!(v["xray_trace_id"], e.root, "{v}");
            assert_eq!(v["tenant_id"], e.tenant, "{v}");
            if let Some(n) = v.get("OrdersCreated") {
                assert!(e.item.is_some(), "OrdersCreated in a non-order invocation: {v}");
                *orders_created.entry(id.to_owned()).or_default() += n.as_f64().unwrap();
            }
            continue;
        }
        for key in ["level", "message", "timestamp", "service"] {
            assert!(v.get(key).is_some(), "log line without {key}: {v}");
        }
        let Some(id) = v["function_request_id"].as_str() else {
            continue;
        };
        let e = by_id
            .get(id)
            .unwrap_or_else(|| panic!("log line of an unknown invocation: {v}"));
        assert_eq!(v["service"], "shop");
        assert_eq!(v["function_name"], "quickstart", "{v}");
        assert_eq!(v["function_memory_size"], 256, "{v}");
        assert_eq!(v["xray_trace_id"], e.root, "{v}");
        assert_eq!(v["tenant_id"], e.tenant, "{v}");
        if let Some(item) = v.get("item") {
            assert_eq!(
                Some(item.as_str().unwrap()),
                e.item.as_deref(),
                "another invocation's field: {v}"
            );
        }
        if e.item.is_some() {
            let n = e.request_id.len(); // correlation id came from the request header
            assert!(n > 0);
            assert!(
                v["correlation_id"].as_str().is_some_and(|c| c.starts_with("corr-")),
                "{v}"
            );
        } else {
            assert_eq!(v["correlation_id"], e.request_id, "falls back to the request id: {v}");
        }
        if v["cold_start"] == true {
            cold_ids.insert(id.to_owned());
        }
        if v["message"] == "request completed" {
            *summaries.entry(id.to_owned()).or_default() += 1;
            let route = if e.item.is_some() { "/orders" } else { "sqs" };
            assert_eq!(v["route"], route, "{v}");
        }
    }
    assert_eq!(
        cold_ids.len(),
        1,
        "exactly one invocation is the cold start: {cold_ids:?}"
    );
    assert_eq!(cold_start_docs, 1, "ColdStart is emitted once");
    for e in &expected {
        assert_eq!(
            summaries.get(&e.request_id),
            Some(&1),
            "one summary line per invocation"
        );
        if e.item.is_some() {
            assert_eq!(
                orders_created.get(&e.request_id),
                Some(&1.0),
                "OrdersCreated of {}",
                e.request_id
            );
        }
    }

    // X-Ray: every document belongs to its own invocation's trace and parent.
    let drops = udp_drops(udp_port);
    let mut seen = HashSet::new();
    for doc in &datagrams {
        let subsegments: Vec<&Value> = match doc.get("docs").and_then(Value::as_array) {
            Some(list) => list.iter().collect(),
            None => vec![doc],
        };
        for sub in subsegments {
            let root = sub["trace_id"].as_str().unwrap_or_else(|| panic!("no trace_id: {sub}"));
            let e = by_root
                .get(root)
                .unwrap_or_else(|| panic!("subsegment of an unknown trace: {sub}"));
            assert_eq!(sub["parent_id"], e.parent, "{sub}");
            assert_eq!(sub["type"], "subsegment", "{sub}");
            assert_eq!(sub["annotations"]["tenant_id"], e.tenant, "{sub}");
            seen.insert(root.to_owned());
        }
    }
    assert_eq!(
        seen.len() + drops,
        expected.len(),
        "one X-Ray document per sampled invocation (drops: {drops})"
    );
    eprintln!(
        "checked {} log/EMF lines, {} summaries, {} OrdersCreated, {} X-Ray documents ({drops} dropped by the kernel)",
        stdout.lines().count(),
        summaries.len(),
        orders_created.len(),
        datagrams.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_invocations_keep_their_own_keys_metrics_and_traces() {
    run(None, 12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_keep_their_own_keys_metrics_and_traces() {
    run(Some(16), 80).await;
}
