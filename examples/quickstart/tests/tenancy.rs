//! The quick start's tenancy, from outside: the binary runs on the real `lambda_runtime` loop
//! against the Runtime API test server, which invokes it as Lambda invokes a tenant-isolated
//! function (API Gateway REST maps the client's tenant into `X-Amz-Tenant-Id`; Lambda hands it
//! to the runtime as `Lambda-Runtime-Aws-Tenant-Id`). Logs come from its real stdout, X-Ray
//! datagrams from a real UDP socket.
//!
//! Not driven here: the claim `tenant_id` source needs a verified principal, which the JWT
//! layer (issue 10, item 1) sets; `crates/lift/tests/tenancy.rs` covers that source in-process.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::UdpSocket;
use std::process::Stdio;
use std::time::Duration;

use lift_testing::{events, RuntimeApiServer};
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

const DAEMON_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

struct Sent {
    request_id: String,
    root: String,
    tenant: Option<&'static str>,
    outcome: Value,
}

fn body(out: &Value) -> Value {
    serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_tenant_isolated_invocation_carries_its_tenant_in_logs_emf_and_xray_and_headers_name_none() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = vec![0u8; 70_000];
        let mut segs = Vec::new();
        while let Ok(n) = udp.recv(&mut buf) {
            let text = String::from_utf8(buf[..n].to_vec()).unwrap();
            let seg = text.strip_prefix(DAEMON_HEADER).unwrap().to_owned();
            segs.push(serde_json::from_str::<Value>(&seg).unwrap());
        }
        segs
    });

    let server = RuntimeApiServer::start().await.unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("POWERTOOLS_SERVICE_NAME", "shop")
        .env("POWERTOOLS_METRICS_NAMESPACE", "Shop")
        .env("AWS_XRAY_DAEMON_ADDRESS", format!("127.0.0.1:{udp_port}"))
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("POWERTOOLS_LOG_LEVEL")
        .env_remove("LOG_LEVEL")
        .env_remove("LIFT_TABLE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let out_task = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s).await;
        s
    });

    // (tenant Lambda invoked for, a client's own x-tenant-id header, the path)
    let cases: [(Option<&'static str>, Option<&str>, &str); 4] = [
        (Some("blue"), None, "/hello/ann"),
        (Some("green"), Some("blue"), "/hello/bob"),
        (None, Some("blue"), "/hello/cid"),
        (Some("not a tenant"), None, "/hello/dan"),
    ];
    let mut sent = Vec::new();
    for (i, (tenant, header, path)) in cases.into_iter().enumerate() {
        let root = format!("1-6a1b2c3d-{:024x}", 0xabc0 + i);
        let trace = format!("Root={root};Parent={:016x};Sampled=1", 0x7000 + i);
        let mut event = events::apigw_v1("GET", path);
        if let Some(h) = header {
            event = event.header("x-tenant-id", h);
        }
        let inv = server.invoke_for_tenant(
            event.build().to_string(),
            Duration::from_secs(30),
            trace,
            tenant.map(str::to_owned),
        );
        let request_id = inv.request_id.clone();
        let outcome = inv.outcome(Duration::from_secs(20)).await.json().unwrap();
        sent.push(Sent {
            request_id,
            root,
            tenant,
            outcome,
        });
    }
    let _ = child.kill().await;
    let stdout = out_task.await.unwrap();
    let segs = reader.join().unwrap();

    assert_eq!(sent[0].outcome["statusCode"], 200, "{}", sent[0].outcome);
    assert_eq!(
        sent[1].outcome["statusCode"], 200,
        "a client's header neither overrides nor conflicts with Lambda's tenant: {}",
        sent[1].outcome
    );
    assert_eq!(sent[2].outcome["statusCode"], 200, "{}", sent[2].outcome);
    // A tenant id Lambda would never send (forged on the Runtime API) is refused, not echoed.
    assert_eq!(sent[3].outcome["statusCode"], 403, "{}", sent[3].outcome);
    assert_eq!(body(&sent[3].outcome)["error"]["code"], "invalid_tenant");
    assert!(!sent[3].outcome["body"].as_str().unwrap().contains("not a tenant"));

    let values: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for s in &sent[..3] {
        let lines: Vec<&Value> = values
            .iter()
            .filter(|v| v.get("_aws").is_none() && v["function_request_id"] == s.request_id.as_str())
            .collect();
        assert!(
            lines.iter().any(|l| l["message"] == "request completed"),
            "no summary line for {}: {lines:?}",
            s.request_id
        );
        for l in &lines {
            match s.tenant {
                Some(t) => assert_eq!(l["tenant_id"], t, "{l}"),
                None => assert!(l.get("tenant_id").is_none(), "a header named a tenant: {l}"),
            }
        }
        let emf: Vec<&Value> = values
            .iter()
            .filter(|v| v.get("_aws").is_some() && v["function_request_id"] == s.request_id.as_str())
            .collect();
        assert!(!emf.is_empty(), "no EMF document for {}", s.request_id);
        for d in emf {
            match s.tenant {
                Some(t) => assert_eq!(d["tenant_id"], t, "{d}"),
                None => assert!(d.get("tenant_id").is_none(), "{d}"),
            }
        }
        let seg = segs
            .iter()
            .find(|g| g["trace_id"] == s.root.as_str() && g.get("annotations").is_some())
            .unwrap_or_else(|| panic!("no X-Ray subsegment for {}: {segs:?}", s.root));
        match s.tenant {
            Some(t) => assert_eq!(seg["annotations"]["tenant_id"], t, "{seg}"),
            None => assert!(seg["annotations"].get("tenant_id").is_none(), "{seg}"),
        }
    }
    // The refused invocation's summary line says why, with its status.
    let refused = values
        .iter()
        .find(|v| v["function_request_id"] == sent[3].request_id.as_str() && v["message"] == "request completed")
        .unwrap_or_else(|| panic!("no summary line for the refused invocation"));
    assert_eq!(refused["status"], 403, "{refused}");
}
