//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::net::UdpSocket;
use std::time::Duration;

use lift_observability::{DAEMON_HEADER, MAX_DATAGRAM};
use serde_json::Value;

pub const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
pub const PARENT: &str = "53995c3f42cd8ad8";
pub const ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders";

pub fn trace_header(i: usize, sampled: bool) -> (String, String, String) {
    let root = format!("1-5759e988-{:024x}", i + 1);
    let parent = format!("{:016x}", 0x1000_0000_0000_0000u64 + i as u64);
    let header = format!(
        "Root={root};Parent={parent};Sampled={};Lineage=a87bd80c:1",
        u8::from(sampled)
    );
    (header, root, parent)
}

/// The EMF JSON schema, compiled once per call site.
pub fn emf_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("../fixtures/emf-schema.json")).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Validates an EMF document against the schema and the limits the schema cannot express.
pub fn check_emf(validator: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "EMF schema errors {errors:?} in {doc}");
    for directive in doc["_aws"]["CloudWatchMetrics"].as_array().expect("directives") {
        for set in directive["Dimensions"].as_array().expect("dimension sets") {
            for key in set.as_array().expect("set") {
                let key = key.as_str().expect("dimension name");
                assert!(doc[key].is_string(), "dimension {key} has no string value in {doc}");
            }
        }
        let metrics = directive["Metrics"].as_array().expect("metrics");
        assert!(metrics.len() <= 100);
        for m in metrics {
            let name = m["Name"].as_str().expect("name");
            match &doc[name] {
                Value::Number(_) => {}
                Value::Array(values) => {
                    assert!(
                        !values.is_empty() && values.len() <= 100,
                        "{name}: {} values",
                        values.len()
                    );
                    assert!(values.iter().all(Value::is_number));
                }
                other => panic!("metric {name} has value {other}"),
            }
        }
    }
}

/// Receives every datagram until the socket has been quiet for `quiet`.
pub fn recv_all(sock: &UdpSocket, quiet: Duration) -> Vec<Value> {
    sock.set_read_timeout(Some(quiet)).expect("timeout");
    let mut buf = vec![0u8; 70_000];
    let mut docs = Vec::new();
    while let Ok(n) = sock.recv(&mut buf) {
        assert!(n <= MAX_DATAGRAM, "datagram of {n} bytes");
        let text = std::str::from_utf8(&buf[..n]).expect("utf-8");
        let body = text
            .strip_prefix(DAEMON_HEADER)
            .unwrap_or_else(|| panic!("no daemon header: {text}"));
        assert!(!body.contains('\n'), "one document per datagram");
        docs.push(serde_json::from_str(body).expect("datagram body is JSON"));
    }
    docs
}

pub fn is_hex16(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

/// `2024-05-06T07:08:09.123Z`
pub fn is_rfc3339_utc(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}

/// Every subsegment of a document, depth first, with its depth.
pub fn flatten(doc: &Value, depth: usize, out: &mut Vec<(usize, Value)>) {
    out.push((depth, doc.clone()));
    if let Some(children) = doc["subsegments"].as_array() {
        for c in children {
            flatten(c, depth + 1, out);
        }
    }
}

/// Datagrams the kernel dropped for this socket because its receive buffer was full
/// (`drops` column of `/proc/net/udp`); `None` where that file is unavailable.
pub fn kernel_drops(sock: &UdpSocket) -> Option<u64> {
    let port = sock.local_addr().ok()?.port();
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    let suffix = format!(":{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(1)?.ends_with(&suffix)).then(|| cols.last()?.parse().ok())?
    })
}
