//! An invocation's summary line and EMF document reach a shared, coalescing sink (stdout on
//! Lambda) in one write: one system call instead of two. Lines stay whole and in order; a
//! refused write counts every line it carried as dropped.
#![allow(clippy::unwrap_used)]

mod common;

use std::io;
use std::sync::{Arc, Mutex};

use common::ARN;
use lift_observability::{InvocationMeta, LineSink, Observability, Outcome};
use serde_json::Value;

/// Records each `write_line` call whole; coalesces like stdout. `fail` refuses every write.
#[derive(Clone, Default)]
struct Writes {
    calls: Arc<Mutex<Vec<Vec<u8>>>>,
    fail: bool,
    coalesces: bool,
}

impl LineSink for Writes {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        if self.fail {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.calls.lock().unwrap().push(line.to_vec());
        Ok(())
    }

    fn coalesces(&self) -> bool {
        self.coalesces
    }
}

fn invoke(obs: &Observability, id: &str) {
    let inv = obs.start(InvocationMeta {
        request_id: id,
        function_arn: ARN,
        ..InvocationMeta::default()
    });
    inv.finish(Outcome {
        status: Some(200),
        route: Some("/hello/{name}"),
        ..Outcome::default()
    });
}

fn lines(write: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(write).unwrap();
    assert!(text.ends_with('\n'), "whole lines only: {text:?}");
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_summary_line_and_the_emf_document_go_out_in_one_write() {
    let sink = Writes {
        coalesces: true,
        ..Writes::default()
    };
    let obs = Observability::builder()
        .service("orders")
        .log_and_emf_sink(sink.clone())
        .build()
        .unwrap();
    for id in ["req-1", "req-2", "req-3"] {
        invoke(&obs, id);
    }
    let calls = sink.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3, "one write per invocation");
    for (write, id) in calls.iter().zip(["req-1", "req-2", "req-3"]) {
        let docs = lines(write);
        assert!(docs.len() >= 2, "{docs:?}");
        assert_eq!(docs[0]["message"], "request completed", "the summary line first");
        assert_eq!(docs[0]["function_request_id"], id);
        assert!(docs[1]["_aws"]["CloudWatchMetrics"].is_array(), "then EMF: {}", docs[1]);
        assert_eq!(docs[1]["function_request_id"], id);
    }
    assert_eq!(obs.stats().emf_documents_written, 3);
}

#[test]
fn a_sink_that_keeps_lines_apart_gets_one_write_per_line() {
    let sink = Writes::default();
    let obs = Observability::builder()
        .service("orders")
        .log_and_emf_sink(sink.clone())
        .build()
        .unwrap();
    invoke(&obs, "req-1");
    invoke(&obs, "req-2");
    let calls = sink.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 4, "a summary line and an EMF document each");
    assert!(calls.iter().all(|w| lines(w).len() == 1));
}

#[test]
fn a_refused_coalesced_write_counts_each_line_it_carried() {
    let sink = Writes {
        coalesces: true,
        fail: true,
        ..Writes::default()
    };
    let obs = Observability::builder()
        .service("orders")
        .log_and_emf_sink(sink)
        .build()
        .unwrap();
    invoke(&obs, "req-1");
    invoke(&obs, "req-2");
    let stats = obs.stats();
    assert_eq!(stats.log_lines_dropped, 2);
    assert_eq!(stats.emf_documents_dropped, 2);
    assert_eq!(stats.emf_documents_written, 0);
}
