//! One write for the lines an invocation's end produces (its summary log line, its EMF
//! documents) when logs and metrics share a sink that asks for it ([`LineSink::coalesces`](crate::LineSink::coalesces):
//! stdout, as on Lambda). One system call instead of two or three per invocation; each line
//! stays whole, in order, newline-terminated, so CloudWatch reads the same lines.
//!
//! The batch lives on the thread for the span of one synchronous call (no `await` inside), so
//! two invocations can never mix their lines. Its buffer is reused: no allocation per
//! invocation once it has grown to an invocation's size.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::config::Inner;

/// What a batched line was, for the counters of a write that fails.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Log,
    Emf,
}

#[derive(Default)]
struct Batch {
    active: bool,
    buf: Vec<u8>,
    logs: u64,
    emf: u64,
}

/// The most a batch buffer keeps between invocations (a larger one is freed after its write).
const KEEP: usize = 64 * 1024;

thread_local! {
    static BATCH: RefCell<Batch> = RefCell::new(Batch::default());
}

/// Collects the lines written to `line` below `f` and writes them once when `f` returns (or
/// unwinds), if `obs`'s log and EMF sinks are one sink that coalesces; else just runs `f`.
pub(crate) fn around<R>(obs: &Inner, f: impl FnOnce() -> R) -> R {
    if !(Arc::ptr_eq(&obs.log_sink, &obs.emf_sink) && obs.log_sink.coalesces()) {
        return f();
    }
    let started = BATCH.with(|b| {
        let mut b = b.borrow_mut();
        !std::mem::replace(&mut b.active, true)
    });
    if !started {
        return f(); // already inside a batch: the outer one writes
    }
    struct Flush<'a>(&'a Inner);
    impl Drop for Flush<'_> {
        fn drop(&mut self) {
            write(self.0);
        }
    }
    let _flush = Flush(obs);
    f()
}

/// Adds `line` to this thread's batch; `false` when no batch is open (the caller writes it).
pub(crate) fn push(line: &[u8], kind: Kind) -> bool {
    BATCH.with(|b| {
        let Ok(mut b) = b.try_borrow_mut() else { return false };
        if !b.active {
            return false;
        }
        b.buf.extend_from_slice(line);
        match kind {
            Kind::Log => b.logs += 1,
            Kind::Emf => b.emf += 1,
        }
        true
    })
}

/// Writes and closes this thread's batch.
fn write(obs: &Inner) {
    BATCH.with(|b| {
        let Ok(mut b) = b.try_borrow_mut() else { return };
        b.active = false;
        let (logs, emf) = (std::mem::take(&mut b.logs), std::mem::take(&mut b.emf));
        if !b.buf.is_empty() {
            let c = &obs.counters;
            match obs.log_sink.write_line(&b.buf) {
                Ok(()) => {
                    c.emf_documents_written.fetch_add(emf, Ordering::Relaxed);
                }
                Err(_) => {
                    c.log_lines_dropped.fetch_add(logs, Ordering::Relaxed);
                    c.emf_documents_dropped.fetch_add(emf, Ordering::Relaxed);
                }
            }
        }
        b.buf.clear();
        if b.buf.capacity() > KEEP {
            b.buf = Vec::new();
        }
    });
}
