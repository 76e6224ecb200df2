//! No secret reaches a log line at any level: the Lambda runtime's raw event at TRACE, and
//! header-like field names wherever they appear.
#![allow(clippy::unwrap_used)]

mod common;

use common::ARN;
use lift_observability::{CaptureSink, InvocationMeta, LevelFilter, Observability, Outcome};
use serde_json::Value;

const SECRETS: [&str; 4] = ["Bearer s3cr3t", "session=abc123", "key-0987", "sid=1; HttpOnly"];

/// A raw API Gateway event as `lambda_runtime` receives it, with credentials in its headers.
fn raw_event() -> String {
    format!(
        r#"{{"headers":{{"Authorization":"{}","Cookie":"{}","x-api-key":"{}"}},"body":"{{}}"}}"#,
        SECRETS[0], SECRETS[1], SECRETS[2]
    )
}

fn trace_obs(logs: &CaptureSink) -> Observability {
    Observability::builder()
        .log_level(LevelFilter::TRACE)
        .log_sink(logs.clone())
        .metrics(false)
        .summary_log(false)
        .build()
        .unwrap()
}

fn assert_no_secret(logs: &CaptureSink) {
    for line in logs.lines() {
        for s in SECRETS {
            assert!(!line.contains(s), "secret {s:?} in {line}");
        }
    }
}

#[test]
fn the_runtimes_raw_event_at_trace_never_reaches_a_log_line() {
    let logs = CaptureSink::new();
    let obs = trace_obs(&logs);
    let event = raw_event();
    let run = || {
        let inv = obs.start(InvocationMeta {
            request_id: "req-raw",
            function_arn: ARN,
            ..InvocationMeta::default()
        });
        inv.span().in_scope(|| {
            // lambda_runtime 1.5, src/layers/api_response.rs: same target, level, field, message.
            tracing::trace!(
                target: "lambda_runtime::layers::api_response",
                body = event.as_str(),
                "raw JSON event received from Lambda"
            );
            // src/requests.rs: a streamed response's headers.
            tracing::trace!(target: "lambda_runtime::requests", metadata_prelude = ?SECRETS[3]);
            // Control: TRACE from the function itself is written (the level is really TRACE).
            tracing::trace!(target: "orders", "own trace line");
        });
        inv.finish(Outcome::default());
    };
    // Both ways of installing the layer: alone (it filters itself) and composed (per-layer filter).
    tracing::subscriber::with_default(obs.subscriber(), run);
    {
        use tracing_subscriber::layer::SubscriberExt;
        let composed = tracing_subscriber::registry().with(obs.layers());
        tracing::subscriber::with_default(composed, run);
    }
    let lines = logs.json_lines().unwrap();
    assert_eq!(lines.len(), 2, "only the control lines: {lines:?}");
    assert!(lines.iter().all(|l| l["message"] == "own trace line"));
    assert_no_secret(&logs);
}

#[test]
fn header_like_field_names_are_redacted_in_any_case_even_with_a_custom_redact_list() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .log_sink(logs.clone())
        .metrics(false)
        .summary_log(false)
        .redact_keys(["pin"]) // replaces the defaults; the header names stay redacted
        .build()
        .unwrap();
    tracing::subscriber::with_default(obs.subscriber(), || {
        let inv = obs.start(InvocationMeta {
            request_id: "req-h",
            function_arn: ARN,
            ..InvocationMeta::default()
        });
        inv.span().in_scope(|| {
            let span = tracing::info_span!("auth", "Authorization" = SECRETS[0], "headers.cookie" = SECRETS[1]);
            span.in_scope(|| {
                tracing::info!(
                    "X-API-KEY" = SECRETS[2],
                    "Set-Cookie" = SECRETS[3],
                    "proxy_authorization" = SECRETS[0],
                    pin = "1234",
                    order_id = 7,
                    "checked"
                );
            });
        });
        inv.finish(Outcome::default());
    });
    let lines = logs.json_lines().unwrap();
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    for key in [
        "Authorization",
        "headers.cookie",
        "X-API-KEY",
        "Set-Cookie",
        "proxy_authorization",
        "pin",
    ] {
        assert_eq!(l[key], "*****", "{key} in {l}");
    }
    assert_eq!(l["order_id"], 7, "other fields untouched");
    assert_no_secret(&logs);
}

#[test]
fn emf_properties_named_like_credentials_are_redacted() {
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .logs(false)
        .emf_sink(emf.clone())
        .redact_keys(Vec::<String>::new())
        .build()
        .unwrap();
    let inv = obs.start(InvocationMeta {
        request_id: "req-p",
        function_arn: ARN,
        ..InvocationMeta::default()
    });
    let m = inv.metrics();
    m.count("Calls", 1).unwrap();
    m.property("Authorization", SECRETS[0]).unwrap();
    m.property("x_api_key", SECRETS[2]).unwrap();
    m.property("order", 7).unwrap();
    inv.finish(Outcome::default());
    let doc = &emf.json_lines().unwrap()[0];
    assert_eq!(doc["Authorization"], "*****");
    assert_eq!(doc["x_api_key"], "*****");
    assert_eq!(doc["order"], Value::from(7));
    assert_no_secret(&emf);
}
