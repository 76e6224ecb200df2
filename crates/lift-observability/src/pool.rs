//! Per-thread free lists of buffers, so that a steady stream of invocations allocates nothing
//! for its strings, metric sets and X-Ray buffers once they have grown.
//!
//! A buffer is always cleared before it is handed out again and never shared: it belongs to one
//! invocation (or one span) at a time. Buffers returned on another thread than the one that
//! took them land in that thread's list; each list is capped, so nothing grows without bound.

use std::cell::RefCell;

use crate::metrics::MetricSet;
use crate::xray::XrayBuf;

/// Buffers larger than this are freed instead of kept (one huge line must not pin memory).
const MAX_KEPT_BYTES: usize = 16 * 1024;
/// Buffers kept per thread and per kind.
const MAX_KEPT: usize = 32;

thread_local! {
    static STRINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static METRIC_SETS: RefCell<Vec<MetricSet>> = const { RefCell::new(Vec::new()) };
    static XRAY_BUFS: RefCell<Vec<XrayBuf>> = const { RefCell::new(Vec::new()) };
}

fn take<T: Default>(key: &'static std::thread::LocalKey<RefCell<Vec<T>>>) -> T {
    key.try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn give<T>(key: &'static std::thread::LocalKey<RefCell<Vec<T>>>, item: T) {
    let _ = key.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < MAX_KEPT {
                p.push(item);
            }
        }
    });
}

/// An empty string, with the capacity of one used before when there is one.
pub(crate) fn take_string() -> String {
    take(&STRINGS)
}

/// Returns a string for reuse (cleared here).
pub(crate) fn give_string(mut s: String) {
    if s.capacity() == 0 || s.capacity() > MAX_KEPT_BYTES {
        return;
    }
    s.clear();
    give(&STRINGS, s);
}

/// An empty metric set.
pub(crate) fn take_metric_set() -> MetricSet {
    take(&METRIC_SETS)
}

/// Returns a metric set for reuse (cleared here).
pub(crate) fn give_metric_set(mut set: MetricSet) {
    if set.heap_bytes() > MAX_KEPT_BYTES {
        return;
    }
    set.reset();
    give(&METRIC_SETS, set);
}

/// An empty X-Ray buffer.
pub(crate) fn take_xray_buf() -> XrayBuf {
    take(&XRAY_BUFS)
}

/// Returns an X-Ray buffer for reuse (cleared here).
pub(crate) fn give_xray_buf(mut buf: XrayBuf) {
    if buf.heap_bytes() > MAX_KEPT_BYTES {
        return;
    }
    buf.reset();
    give(&XRAY_BUFS, buf);
}

/// Runs `f` with a pooled scratch string (cleared), returning it afterwards.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut String) -> R) -> R {
    let mut s = take_string();
    let r = f(&mut s);
    give_string(s);
    r
}
