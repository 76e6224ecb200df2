//! The queued line writer: lines go to a background thread through a bounded queue, so that an
//! output nobody reads (the local server's stdout piped into a stalled process) never stalls an
//! invocation.
//!
//! Invariants:
//! * the queue holds at most [`QueueLimits::lines`] lines and [`QueueLimits::bytes`] bytes,
//!   counting the line being written; past that a line is refused (`WouldBlock`) and counted;
//! * the writer writes one notice line saying how many lines were dropped, where the gap is:
//!   before the first line queued after the drops, or as soon as the queue is empty;
//! * line buffers are recycled through a capped free list, so a steady stream of lines
//!   allocates nothing once the buffers have grown;
//! * producers wake the writer (a syscall) only when it is waiting, once per wait;
//! * a refused line costs no allocation (the error is made from its kind).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::sink::{LineSink, StdoutSink};
use crate::time;

/// How much a [`NonBlockingSink`] holds before it drops lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// Lines queued at most (including the one being written).
    pub lines: usize,
    /// Bytes queued at most (including the line being written).
    pub bytes: usize,
}

impl QueueLimits {
    /// 8,192 lines or 8 MiB, whichever comes first.
    pub const DEFAULT: Self = Self {
        lines: 8192,
        bytes: 8 * 1024 * 1024,
    };
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The message of the line written after lines were dropped; the count is in `dropped_lines`.
pub const DROPPED_NOTICE: &str = "log lines dropped: the log output was not keeping up";

/// Buffers larger than this are freed instead of recycled.
const MAX_KEPT_BYTES: usize = 16 * 1024;
/// Buffers kept for reuse.
const MAX_KEPT: usize = 64;

/// Hands lines to a background writer thread over a bounded queue (bounded in lines and bytes).
/// When the queue is full the line is refused and counted as dropped instead of stalling the
/// caller; once the writer catches up it writes one line with the number dropped
/// ([`DROPPED_NOTICE`]). [`LineSink::flush`] waits, up to a timeout, until everything queued
/// is written.
///
/// Dropping the sink lets the writer finish what is queued, then stop.
pub struct NonBlockingSink {
    queue: Arc<Queue>,
}

struct Queue {
    state: Mutex<State>,
    /// Signalled when a line is queued (or the sink dropped) while the writer waits.
    work: Condvar,
    /// Signalled when the writer has nothing left, while someone flushes.
    idle: Condvar,
    limits: QueueLimits,
    /// `,"k":v` pairs added to the notice line (the service keys).
    notice_fields: Box<str>,
}

#[derive(Default)]
struct State {
    lines: VecDeque<Queued>,
    /// Bytes of the queued lines plus the line being written.
    bytes: usize,
    /// The writer is writing a line taken from the queue (or a notice).
    in_flight: bool,
    /// Lines dropped and not yet attached to a queued line.
    dropped: u64,
    free: Vec<Vec<u8>>,
    writer_waiting: bool,
    flushers: usize,
    closed: bool,
}

struct Queued {
    line: Vec<u8>,
    /// Lines dropped just before this one: the writer writes the notice first.
    dropped_before: u64,
}

impl fmt::Debug for NonBlockingSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonBlockingSink")
            .field("limits", &self.queue.limits)
            .finish_non_exhaustive()
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state consistent (no multi-step update).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl NonBlockingSink {
    /// Starts a writer thread feeding `inner`, holding at most `limits` in its queue.
    pub fn new(inner: Arc<dyn LineSink>, limits: QueueLimits) -> io::Result<Self> {
        Self::spawn(inner, limits, "".into())
    }

    /// A queued stdout writer.
    pub fn stdout(limits: QueueLimits) -> io::Result<Self> {
        Self::new(Arc::new(StdoutSink), limits)
    }

    /// [`Self::new`] with `notice_fields` (`,"service":".."`) added to the dropped-lines notice.
    pub(crate) fn spawn(inner: Arc<dyn LineSink>, limits: QueueLimits, notice_fields: Box<str>) -> io::Result<Self> {
        let queue = Arc::new(Queue {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            idle: Condvar::new(),
            limits,
            notice_fields,
        });
        let writer = queue.clone();
        std::thread::Builder::new()
            .name("lift-obs-writer".into())
            .spawn(move || run(&writer, &*inner))?;
        Ok(Self { queue })
    }
}

impl LineSink for NonBlockingSink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let q = &*self.queue;
        let mut st = q.lock();
        let held = st.lines.len() + usize::from(st.in_flight);
        if held >= q.limits.lines || st.bytes + line.len() > q.limits.bytes {
            st.dropped += 1;
            // An idle writer (a line larger than the byte bound) still writes the notice.
            let wake = std::mem::take(&mut st.writer_waiting);
            drop(st);
            if wake {
                q.work.notify_one();
            }
            // From a kind: no allocation per dropped line.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut buf = st.free.pop().unwrap_or_default();
        buf.extend_from_slice(line);
        st.bytes += line.len();
        let dropped_before = std::mem::take(&mut st.dropped);
        st.lines.push_back(Queued {
            line: buf,
            dropped_before,
        });
        // One wake per idle period: the first producer to find the writer waiting clears it.
        let wake = std::mem::take(&mut st.writer_waiting);
        drop(st);
        if wake {
            q.work.notify_one();
        }
        Ok(())
    }

    fn flush(&self, timeout: Duration) -> bool {
        let q = &*self.queue;
        let deadline = Instant::now() + timeout;
        let mut st = q.lock();
        st.flushers += 1;
        let drained = loop {
            if st.lines.is_empty() && !st.in_flight && st.dropped == 0 {
                break true;
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            st = q
                .idle
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        st.flushers -= 1;
        drained
    }
}

impl Drop for NonBlockingSink {
    fn drop(&mut self) {
        let mut st = self.queue.lock();
        st.closed = true;
        let wake = std::mem::take(&mut st.writer_waiting);
        drop(st);
        if wake {
            self.queue.work.notify_one();
        }
    }
}

/// The writer thread: writes queued lines in order, outside the lock.
fn run(q: &Queue, sink: &dyn LineSink) {
    let mut notice = String::new();
    let mut st = q.lock();
    loop {
        if let Some(item) = st.lines.pop_front() {
            st.in_flight = true;
            drop(st);
            if item.dropped_before > 0 {
                write_notice(q, sink, &mut notice, item.dropped_before);
            }
            // An error here cannot reach a caller any more; the line is lost.
            let _ = sink.write_line(&item.line);
            st = q.lock();
            st.in_flight = false;
            st.bytes -= item.line.len();
            let mut buf = item.line;
            if buf.capacity() <= MAX_KEPT_BYTES && st.free.len() < MAX_KEPT {
                buf.clear();
                st.free.push(buf);
            }
        } else if st.dropped > 0 {
            let n = std::mem::take(&mut st.dropped);
            st.in_flight = true;
            drop(st);
            write_notice(q, sink, &mut notice, n);
            st = q.lock();
            st.in_flight = false;
        } else {
            if st.flushers > 0 {
                q.idle.notify_all();
            }
            if st.closed {
                return;
            }
            st.writer_waiting = true;
            st = q.work.wait(st).unwrap_or_else(PoisonError::into_inner);
            st.writer_waiting = false;
        }
    }
}

/// `{"level":"WARN","message":DROPPED_NOTICE,"timestamp":..,<service keys>,"dropped_lines":n}`
fn write_notice(q: &Queue, sink: &dyn LineSink, line: &mut String, n: u64) {
    line.clear();
    line.push_str("{\"level\":\"WARN\",\"message\":\"");
    line.push_str(DROPPED_NOTICE);
    line.push_str("\",\"timestamp\":\"");
    time::write_rfc3339(line, SystemTime::now());
    line.push('"');
    line.push_str(&q.notice_fields);
    line.push_str(",\"dropped_lines\":");
    line.push_str(itoa::Buffer::new().format(n));
    line.push_str("}\n");
    let _ = sink.write_line(line.as_bytes());
}
