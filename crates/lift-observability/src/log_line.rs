//! Composing one JSON log line: the Powertools keys first, then span fields, then event fields.

use std::cell::RefCell;

use tracing_core::{Level, LevelFilter};

use crate::config::Inner;
use crate::invocation::Shared;
use crate::stats::Counters;
use crate::{json, time};

/// Keys this crate writes itself; span or event fields with these names are written as
/// `fields.<name>` so that no key appears twice in a line.
pub const RESERVED_KEYS: &[&str] = &[
    "level",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "correlation_id",
    "tenant_id",
    "sampling_rate",
];

/// Reusable per-thread buffers: a line costs no allocation once they have grown.
#[derive(Default)]
pub(crate) struct Buffers {
    pub(crate) line: String,
    pub(crate) message: String,
    pub(crate) fields: String,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

/// Runs `f` with this thread's buffers cleared (fresh ones if they are already in use).
pub(crate) fn with_buffers<R>(f: impl FnOnce(&mut Buffers) -> R) -> R {
    BUFFERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut b) => {
            b.line.clear();
            b.message.clear();
            b.fields.clear();
            let r = f(&mut b);
            // Do not keep a huge buffer alive forever because of one huge line.
            if b.line.capacity() > 64 * 1024 {
                *b = Buffers::default();
            }
            r
        }
        Err(_) => f(&mut Buffers::default()),
    })
}

pub(crate) fn level_str(level: Level) -> &'static str {
    match level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

/// Writes `{"level":..,"message":..,"timestamp":..` and the invocation (or process) keys.
/// `message` must already be escaped JSON string contents.
pub(crate) fn write_head(line: &mut String, level: Level, message: &str, obs: &Inner, inv: Option<&Shared>) {
    line.push_str("{\"level\":\"");
    line.push_str(level_str(level));
    line.push_str("\",\"message\":\"");
    line.push_str(message);
    line.push_str("\",\"timestamp\":\"");
    time::write_rfc3339_cached(line, std::time::SystemTime::now());
    line.push('"');
    match inv {
        Some(inv) => inv.write_log_keys(line),
        None => {
            line.push_str(&obs.process_fragment);
            line.push_str(&obs.function_fragment);
        }
    }
}

/// Closes the line and writes it; a refused write is counted, never propagated.
pub(crate) fn finish_and_write(line: &mut String, obs: &Inner) {
    line.push_str("}\n");
    if crate::coalesce::push(line.as_bytes(), crate::coalesce::Kind::Log) {
        return;
    }
    if obs.log_sink.write_line(line.as_bytes()).is_err() {
        Counters::incr(&obs.counters.log_lines_dropped);
    }
}

/// Whether `level` is logged under the invocation's level `max` (or DEBUG sampling).
pub(crate) fn enabled_at(max: LevelFilter, level: Level, debug_sampled: bool) -> bool {
    level <= max || (debug_sampled && level <= Level::DEBUG)
}

/// The one summary line of an invocation: route, status, latency and error.
pub(crate) fn summary(
    obs: &Inner,
    inv: &Shared,
    route: Option<&str>,
    status: Option<u16>,
    error: Option<&str>,
    latency_ms: f64,
    failed: bool,
) {
    let level = if failed { Level::ERROR } else { Level::INFO };
    if !enabled_at(inv.level, level, inv.debug_sampled) {
        return;
    }
    with_buffers(|b| {
        let msg = if failed { "request failed" } else { "request completed" };
        write_head(&mut b.line, level, msg, obs, Some(inv));
        let line = &mut b.line;
        if let Some(r) = route {
            json::write_key_plain(line, "route");
            json::write_str(line, r);
        }
        if let Some(s) = status {
            json::write_key_plain(line, "status");
            json::write_u64(line, u64::from(s));
        }
        json::write_key_plain(line, "latency_ms");
        json::write_f64(line, (latency_ms * 1000.0).round() / 1000.0);
        if let Some(e) = error {
            json::write_key_plain(line, "error");
            json::write_str(line, e);
        }
        finish_and_write(line, obs);
    });
}
