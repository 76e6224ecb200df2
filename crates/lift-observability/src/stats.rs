//! Counters of what could not be delivered: a drop is counted, never a panic or a stall.

use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide delivery counters (relaxed atomics).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) log_lines_dropped: AtomicU64,
    pub(crate) emf_documents_written: AtomicU64,
    pub(crate) emf_documents_dropped: AtomicU64,
    pub(crate) metric_errors: AtomicU64,
    pub(crate) xray_datagrams_sent: AtomicU64,
    pub(crate) xray_datagrams_dropped: AtomicU64,
}

impl Counters {
    pub(crate) fn incr(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            log_lines_dropped: self.log_lines_dropped.load(Ordering::Relaxed),
            emf_documents_written: self.emf_documents_written.load(Ordering::Relaxed),
            emf_documents_dropped: self.emf_documents_dropped.load(Ordering::Relaxed),
            metric_errors: self.metric_errors.load(Ordering::Relaxed),
            xray_datagrams_sent: self.xray_datagrams_sent.load(Ordering::Relaxed),
            xray_datagrams_dropped: self.xray_datagrams_dropped.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of [`crate::Observability::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Log lines the sink refused (closed or full stdout, queue full).
    pub log_lines_dropped: u64,
    /// EMF documents written.
    pub emf_documents_written: u64,
    /// EMF documents the sink refused.
    pub emf_documents_dropped: u64,
    /// Metric calls refused as invalid (bad name, unit, too many dimensions, after flush).
    pub metric_errors: u64,
    /// X-Ray datagrams sent.
    pub xray_datagrams_sent: u64,
    /// X-Ray datagrams that could not be sent (socket error, full buffer, too large).
    pub xray_datagrams_dropped: u64,
}
