//! Logs never stop the function: off Lambda lines are queued (bounded, drops counted, a notice
//! once the writer catches up, flushable); on Lambda they are written before the call returns.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::ARN;
use lift_observability::{
    CaptureSink, InvocationMeta, LineSink, LogDelivery, NonBlockingSink, Observability, Outcome, QueueLimits,
    WriterSink, DROPPED_NOTICE,
};
use serde_json::Value;

/// Fault injection: a sink whose writes block until the test opens the gate (never, for a
/// writer stuck forever), then go to a capture.
#[derive(Default)]
struct FaultGate {
    state: Mutex<(bool, usize)>,
    changed: Condvar,
    out: CaptureSink,
}

impl FaultGate {
    fn open(&self) {
        self.state.lock().unwrap().0 = true;
        self.changed.notify_all();
    }

    /// Blocks until `n` writes have entered the sink (the writer thread is stuck in one).
    fn wait_entered(&self, n: usize) {
        let mut st = self.state.lock().unwrap();
        while st.1 < n {
            st = self.changed.wait(st).unwrap();
        }
    }
}

impl LineSink for FaultGate {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut st = self.state.lock().unwrap();
        st.1 += 1;
        self.changed.notify_all();
        while !st.0 {
            st = self.changed.wait(st).unwrap();
        }
        drop(st);
        self.out.write_line(line)
    }
}

/// A `LineSink` handed to the builder while the test keeps the queue itself.
struct Shared(Arc<NonBlockingSink>);

impl LineSink for Shared {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.0.write_line(line)
    }
    fn flush(&self, timeout: Duration) -> bool {
        self.0.flush(timeout)
    }
}

fn limits(lines: usize, bytes: usize) -> QueueLimits {
    QueueLimits { lines, bytes }
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |k| map.get(k).cloned()
}

fn meta(request_id: &str) -> InvocationMeta<'_> {
    InvocationMeta {
        request_id,
        function_arn: ARN,
        ..InvocationMeta::default()
    }
}

#[test]
fn a_writer_stuck_forever_never_blocks_logging_and_every_drop_is_counted() {
    let gate = Arc::new(FaultGate::default());
    let queue = NonBlockingSink::new(gate.clone(), limits(4, 1 << 20)).unwrap();
    let obs = Observability::builder()
        .log_sink(queue)
        .metrics(false)
        .summary_log(false)
        .build()
        .unwrap();
    tracing::subscriber::with_default(obs.subscriber(), || {
        let inv = obs.start(meta("req-stuck"));
        let _in = inv.span().enter();
        tracing::info!(i = 0, "first");
        gate.wait_entered(1); // the writer thread is now stuck in the sink, holding line 0
        for i in 1..100 {
            tracing::info!(i, "more");
        }
    });
    // Four lines held (the one being written and three queued); the 96 others were refused
    // without waiting, and each one is counted.
    assert_eq!(obs.stats().log_lines_dropped, 96);
    assert!(!obs.flush(Duration::from_millis(20)), "nothing drains while stuck");
}

#[test]
fn lines_past_the_byte_bound_are_dropped_whatever_the_line_count() {
    let gate = Arc::new(FaultGate::default());
    let queue = NonBlockingSink::new(gate.clone(), limits(1000, 100)).unwrap();
    let line = [b'x'; 29];
    let mut line = line.to_vec();
    line.push(b'\n');
    assert!(queue.write_line(&line).is_ok());
    gate.wait_entered(1);
    let results: Vec<bool> = (0..10).map(|_| queue.write_line(&line).is_ok()).collect();
    // 100 bytes hold three 30-byte lines, including the one being written.
    assert_eq!(results.iter().filter(|ok| **ok).count(), 2, "{results:?}");
    let refused = queue.write_line(&line).expect_err("full");
    assert_eq!(refused.kind(), io::ErrorKind::WouldBlock);
    // A line larger than the whole bound is refused even into an empty queue.
    let gate2 = Arc::new(FaultGate::default());
    gate2.open();
    let queue2 = NonBlockingSink::new(gate2.clone(), limits(1000, 100)).unwrap();
    assert!(queue2.write_line(&[b'y'; 101]).is_err());
    assert!(queue2.flush(Duration::from_secs(30)));
    let notice: Value = serde_json::from_str(&gate2.out.lines()[0]).unwrap();
    assert_eq!(notice["dropped_lines"], 1);
}

#[test]
fn after_unblocking_the_writer_writes_what_was_queued_then_one_drop_notice() {
    let gate = Arc::new(FaultGate::default());
    let queue = Arc::new(NonBlockingSink::new(gate.clone(), limits(3, 1 << 20)).unwrap());
    let obs = Observability::builder()
        .service("orders")
        .log_sink(Shared(queue.clone()))
        .metrics(false)
        .summary_log(false)
        .build()
        .unwrap();
    tracing::subscriber::with_default(obs.subscriber(), || {
        tracing::info!(i = 0, "line");
        gate.wait_entered(1);
        for i in 1..10 {
            tracing::info!(i, "line");
        }
    });
    assert_eq!(obs.stats().log_lines_dropped, 7);
    gate.open();
    assert!(obs.flush(Duration::from_secs(30)), "everything written once unblocked");
    let lines = gate.out.json_lines().unwrap();
    assert_eq!(lines.len(), 4, "{lines:?}");
    for (i, line) in lines[..3].iter().enumerate() {
        assert_eq!(line["i"], i, "queued lines in order");
    }
    let notice = &lines[3];
    assert_eq!(notice["message"], DROPPED_NOTICE);
    assert_eq!(notice["level"], "WARN");
    assert_eq!(notice["dropped_lines"], 7);
    assert_eq!(
        notice["service"],
        Value::Null,
        "a sink built by the caller has no service keys"
    );

    // Lines accepted after a gap are written after a notice for that gap.
    tracing::subscriber::with_default(obs.subscriber(), || tracing::info!(i = 10, "after"));
    assert!(obs.flush(Duration::from_secs(30)));
    let lines = gate.out.json_lines().unwrap();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[4]["i"], 10);
}

#[test]
fn flush_waits_until_everything_queued_is_written() {
    let gate = Arc::new(FaultGate::default());
    let queue = NonBlockingSink::new(gate.clone(), limits(64, 1 << 20)).unwrap();
    for i in 0..20 {
        queue.write_line(format!("{{\"i\":{i}}}\n").as_bytes()).unwrap();
    }
    gate.wait_entered(1);
    assert!(gate.out.lines().is_empty());
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || gate.open())
    };
    assert!(queue.flush(Duration::from_secs(30)));
    assert_eq!(gate.out.lines().len(), 20, "flush returned before the queue drained");
    opener.join().unwrap();
}

#[test]
fn flush_with_a_stuck_writer_returns_false_after_its_timeout() {
    let gate = Arc::new(FaultGate::default());
    let queue = NonBlockingSink::new(gate.clone(), limits(64, 1 << 20)).unwrap();
    queue.write_line(b"{}\n").unwrap();
    gate.wait_entered(1);
    let timeout = Duration::from_millis(100);
    let t = Instant::now();
    assert!(!queue.flush(timeout));
    // It waited its timeout (a lower bound the condvar guarantees) and came back: the test
    // finishing is the proof that it returned; no upper bound on a shared machine's clock.
    assert!(t.elapsed() >= timeout);
}

#[test]
fn a_stdout_pipe_nobody_reads_never_blocks_logging_and_drains_once_read() {
    // A real OS pipe: once its buffer is full, a write to it blocks until someone reads.
    let (mut reader, writer) = io::pipe().unwrap();
    let queue = NonBlockingSink::new(Arc::new(WriterSink::new(writer)), limits(64, 1 << 20)).unwrap();
    let obs = Observability::builder().log_sink(queue).metrics(false).build().unwrap();
    let blob = "z".repeat(4096);
    const N: usize = 2000;
    tracing::subscriber::with_default(obs.subscriber(), || {
        let inv = obs.start(meta("req-pipe"));
        let _in = inv.span().enter();
        for i in 0..N {
            tracing::info!(i, blob = blob.as_str(), "line");
        }
        drop(_in);
        inv.finish(Outcome::default());
    });
    let dropped = obs.stats().log_lines_dropped;
    // 64 queued lines of 4 KiB are more than a pipe buffer holds: the writer is stuck.
    assert!(dropped > 0, "8 MB never fit in a pipe nobody reads");
    assert!(!obs.flush(Duration::from_millis(50)), "stuck on the full pipe");

    let drain = std::thread::spawn(move || {
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        text
    });
    assert!(obs.flush(Duration::from_secs(60)), "drains once someone reads");
    drop(obs); // stops the writer thread, which closes the pipe
    let text = drain.join().unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let notices: Vec<&Value> = lines.iter().filter(|l| l["message"] == DROPPED_NOTICE).collect();
    let written = lines.len() - notices.len();
    let noted: u64 = notices.iter().map(|n| n["dropped_lines"].as_u64().unwrap()).sum();
    assert!(!notices.is_empty());
    assert_eq!(noted, dropped, "every drop is in a notice");
    assert_eq!(
        written as u64 + dropped,
        N as u64 + 1,
        "every line written or dropped (+ summary)"
    );
    assert_eq!(
        lines.last().unwrap()["message"],
        DROPPED_NOTICE,
        "the trailing gap is noted"
    );
}

#[test]
fn from_env_queues_off_lambda_and_writes_synchronously_on_lambda() {
    let local = Observability::builder()
        .with_env_from(env(&[]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(local.log_delivery(), LogDelivery::Queued(QueueLimits::DEFAULT));
    assert!(local.flush(Duration::from_secs(30)), "nothing queued");

    let lambda = Observability::builder()
        .with_env_from(env(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(lambda.log_delivery(), LogDelivery::Synchronous);

    // The builder forces either, whatever the environment says.
    let forced = Observability::builder()
        .log_delivery(LogDelivery::Synchronous)
        .with_env_from(env(&[]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(forced.log_delivery(), LogDelivery::Synchronous);
    let forced = Observability::builder()
        .log_delivery(LogDelivery::Queued(limits(10, 1000)))
        .with_env_from(env(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(forced.log_delivery(), LogDelivery::Queued(limits(10, 1000)));
    // Without the environment read: synchronous, as before.
    let plain = Observability::builder().build().unwrap();
    assert_eq!(plain.log_delivery(), LogDelivery::Synchronous);
}

#[test]
fn synchronous_lines_are_written_before_the_logging_call_returns() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .log_delivery(LogDelivery::Synchronous)
        .log_sink(logs.clone())
        .metrics(false)
        .build()
        .unwrap();
    tracing::subscriber::with_default(obs.subscriber(), || {
        let inv = obs.start(meta("req-sync"));
        inv.span().in_scope(|| tracing::info!("now"));
        assert_eq!(logs.lines().len(), 1, "written before info! returned");
        inv.finish(Outcome::default());
        assert_eq!(logs.lines().len(), 2, "summary written before finish returned");
    });
}
