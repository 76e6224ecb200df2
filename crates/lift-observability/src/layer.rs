//! The `tracing_subscriber::Layer` that writes JSON log lines and turns spans into subsegments.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Field, Level, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::config::Inner;
use crate::invocation::{self, Shared, INVOCATION_SPAN, INVOCATION_TARGET, PENDING};
use crate::log_line::{self, RESERVED_KEYS};
use crate::redact::{Redactor, REDACTED};
use crate::xray::Seg;
use crate::{ids, json, pool, time};

/// What the layer keeps in each span's extensions.
struct SpanData {
    /// The invocation this span belongs to (inherited from the parent span).
    inv: Option<Arc<Shared>>,
    is_root: bool,
    /// `,"k":v` pairs, redacted, shared by log lines and X-Ray metadata.
    fields: String,
    /// `,"k":v` pairs of annotation keys (X-Ray only).
    annotations: String,
    /// X-Ray id of this span's subsegment (0 when not traced).
    xid: u64,
    parent_xid: u64,
    start_us: u64,
    fault: Option<String>,
}

/// The layer: JSON logs and X-Ray subsegments for every invocation started by
/// [`crate::Observability::start`]. Get it from [`crate::Observability::layers`].
pub struct ObservabilityLayer {
    inner: Arc<Inner>,
    /// When set, the layer filters by itself (as the only layer of [`crate::Observability::subscriber`]),
    /// which is cheaper than `tracing-subscriber`'s per-layer filter machinery.
    gate: Option<LevelGate>,
}

impl fmt::Debug for ObservabilityLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ObservabilityLayer")
    }
}

impl ObservabilityLayer {
    /// The layer for composition: filtering is left to a per-layer filter ([`LevelGate`]).
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner, gate: None }
    }

    /// The layer filtering by itself, for a subscriber where it is the only layer.
    pub(crate) fn gated(inner: Arc<Inner>) -> Self {
        let gate = LevelGate::new(&inner);
        Self {
            inner,
            gate: Some(gate),
        }
    }
}

/// The per-layer filter: which events and spans the layer sees.
#[derive(Clone, Copy, Debug)]
pub struct LevelGate {
    events: LevelFilter,
    spans: LevelFilter,
}

impl LevelGate {
    pub(crate) fn new(inner: &Inner) -> Self {
        let mut events = LevelFilter::OFF;
        if inner.logs {
            events = inner.level;
            if inner.sample_rate > 0.0 || inner.dynamic_level {
                events = events.max(LevelFilter::DEBUG);
            }
        }
        let mut spans = events;
        if inner.xray.is_some() {
            // ERROR events mark subsegments as faults; INFO spans become subsegments.
            events = events.max(LevelFilter::ERROR);
            spans = spans.max(LevelFilter::INFO);
        }
        Self { events, spans }
    }

    fn allows(&self, meta: &Metadata<'_>) -> bool {
        if meta.is_span() {
            *meta.level() <= self.spans
        } else {
            *meta.level() <= self.events && !is_runtime_payload(meta)
        }
    }
}

impl<S> Filter<S> for LevelGate {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        self.allows(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        self.interest(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.hint())
    }
}

impl LevelGate {
    fn hint(&self) -> LevelFilter {
        self.events.max(self.spans)
    }

    fn interest(&self, meta: &Metadata<'_>) -> Interest {
        if self.allows(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
}

/// Whether `target` is one of the AWS Lambda runtime crates (`lambda_runtime`,
/// `lambda_runtime_api_client`, `lambda_http`).
fn is_runtime_target(target: &str) -> bool {
    target.starts_with("lambda_runtime") || target.starts_with("lambda_http")
}

/// A TRACE event of the Lambda runtime crates: never written. At TRACE `lambda_runtime` logs
/// the raw event (`trace!(body = .., "raw JSON event received from Lambda")` in
/// `layers/api_response.rs`, headers such as `Authorization`, `Cookie` and `x-api-key`
/// included) and a streamed response's headers (`trace!(?metadata_prelude)` in `requests.rs`,
/// with `Set-Cookie`). Dropping the runtime's TRACE events as a whole, rather than one field,
/// keeps them out when a new release renames the field or adds another such line. Decided once
/// per callsite (its interest), so it costs nothing per event.
fn is_runtime_payload(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::TRACE && is_runtime_target(meta.target())
}

/// Whether `name` is one of [`RESERVED_KEYS`] (they are 5 to 20 bytes long, all starting with
/// one of a handful of letters: most names are rejected without a string comparison).
fn is_reserved(name: &str) -> bool {
    matches!(
        name.as_bytes().first(),
        Some(b'c' | b'f' | b'l' | b'm' | b's' | b't' | b'x')
    ) && RESERVED_KEYS.contains(&name)
}

/// Writes fields as `,"k":v` pairs; the `message` field goes to its own buffer.
struct FieldWriter<'a> {
    out: &'a mut String,
    message: Option<&'a mut String>,
    redactor: &'a Redactor,
    annotations: Option<(&'a mut String, &'a Redactor)>,
}

enum Slot {
    Message,
    Value,
    Skip,
}

impl FieldWriter<'_> {
    fn key(&mut self, field: &Field) -> Slot {
        let name = field.name();
        if name == "message" && self.message.is_some() {
            return Slot::Message;
        }
        if name.starts_with("log.") {
            // `tracing-log` bookkeeping fields.
            return Slot::Skip;
        }
        self.out.push(',');
        self.out.push('"');
        if is_reserved(name) {
            self.out.push_str("fields.");
        }
        json::write_str_contents(self.out, name);
        self.out.push_str("\":");
        if self.redactor.is_redacted(name) {
            self.out.push('"');
            self.out.push_str(REDACTED);
            self.out.push('"');
            return Slot::Skip;
        }
        Slot::Value
    }

    /// A field rendered with `Display`/`Debug`: into the message, or as a JSON string.
    fn record_formatted(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        match self.key(field) {
            Slot::Message => {
                if let Some(m) = self.message.as_deref_mut() {
                    let _ = json::Escaping(m).write_fmt(value);
                }
            }
            Slot::Value => {
                self.out.push('"');
                let _ = json::Escaping(self.out).write_fmt(value);
                self.out.push('"');
            }
            Slot::Skip => {}
        }
    }

    fn annotation(&mut self, field: &Field, write: impl FnOnce(&mut String)) {
        if let Some((ann, keys)) = &mut self.annotations {
            if keys.is_redacted(field.name()) && !self.redactor.is_redacted(field.name()) {
                json::write_key(ann, field.name());
                write(ann);
            }
        }
    }
}

impl tracing_core::field::Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match self.key(field) {
            Slot::Message => {
                if let Some(m) = self.message.as_deref_mut() {
                    json::write_str_contents(m, value);
                }
            }
            Slot::Value => {
                json::write_str(self.out, value);
                self.annotation(field, |a| json::write_str(a, value));
            }
            Slot::Skip => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_formatted(field, format_args!("{value:?}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Slot::Value = self.key(field) {
            json::write_i64(self.out, value);
            self.annotation(field, |a| json::write_i64(a, value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Slot::Value = self.key(field) {
            json::write_u64(self.out, value);
            self.annotation(field, |a| json::write_u64(a, value));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if let Slot::Value = self.key(field) {
            json::write_f64(self.out, value);
            self.annotation(field, |a| json::write_f64(a, value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Slot::Value = self.key(field) {
            let v = if value { "true" } else { "false" };
            self.out.push_str(v);
            self.annotation(field, |a| a.push_str(v));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_formatted(field, format_args!("{value}"));
    }
}

impl<S> Layer<S> for ObservabilityLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        self.gate.map_or(Interest::always(), |g| g.interest(meta))
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.gate.is_none_or(|g| g.allows(meta))
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.gate.map(|g| g.hint())
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let meta = attrs.metadata();
        let root = if meta.name() == INVOCATION_SPAN && meta.target() == INVOCATION_TARGET {
            PENDING.with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.take()))
        } else {
            None
        };
        let mut data = match root {
            Some(inv) => SpanData {
                xid: inv.xray.as_ref().map_or(0, |x| x.root_id),
                inv: Some(inv),
                is_root: true,
                fields: String::new(),
                annotations: String::new(),
                parent_xid: 0,
                start_us: 0,
                fault: None,
            },
            None => {
                // Inside a span of ours: inherit from it. Otherwise (a span opened directly in
                // an instrumented handler): the invocation being polled, as a top-level span.
                let (inv, parent_xid) = span
                    .parent()
                    .and_then(|p| p.extensions().get::<SpanData>().map(|d| (d.inv.clone(), d.xid)))
                    .filter(|(inv, _)| inv.is_some())
                    .or_else(|| {
                        invocation::current().map(|i| {
                            let xid = i.xray.as_ref().map_or(0, |x| x.root_id);
                            (Some(i), xid)
                        })
                    })
                    .unwrap_or((None, 0));
                let traced = parent_xid != 0;
                SpanData {
                    inv,
                    is_root: false,
                    fields: pool::take_string(),
                    annotations: if traced { pool::take_string() } else { String::new() },
                    xid: if traced { ids::new_span_id() } else { 0 },
                    parent_xid,
                    start_us: if traced {
                        time::epoch_micros(std::time::SystemTime::now())
                    } else {
                        0
                    },
                    fault: None,
                }
            }
        };
        // `lambda_runtime`'s own spans (`Lambda runtime invoke` with `requestId`, `xrayTraceId`,
        // `tenantId`; `worker` with `task_id`) repeat what the invocation's keys already say.
        if !data.is_root && !is_runtime_target(meta.target()) {
            let traced = data.xid != 0;
            let mut w = FieldWriter {
                out: &mut data.fields,
                message: None,
                redactor: &self.inner.redactor,
                annotations: traced.then_some((&mut data.annotations, &self.inner.annotation_keys)),
            };
            attrs.record(&mut w);
        }
        span.extensions_mut().insert(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if is_runtime_target(span.metadata().target()) {
            return;
        }
        let mut ext = span.extensions_mut();
        if let Some(data) = ext.get_mut::<SpanData>() {
            let traced = data.xid != 0;
            let mut w = FieldWriter {
                out: &mut data.fields,
                message: None,
                redactor: &self.inner.redactor,
                annotations: traced.then_some((&mut data.annotations, &self.inner.annotation_keys)),
            };
            values.record(&mut w);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let obs = &*self.inner;
        let level = *event.metadata().level();
        if level == Level::TRACE && is_runtime_payload(event.metadata()) {
            // Also when the layer is composed under a filter that let it through.
            return;
        }
        let leaf = ctx.event_span(event);

        if level == Level::ERROR && obs.xray.is_some() {
            if let Some(span) = &leaf {
                let mut ext = span.extensions_mut();
                if let Some(d) = ext.get_mut::<SpanData>() {
                    if d.xid != 0 && !d.is_root && d.fault.is_none() {
                        let mut msg = String::new();
                        let mut sink = String::new();
                        event.record(&mut FieldWriter {
                            out: &mut sink,
                            message: Some(&mut msg),
                            redactor: &obs.redactor,
                            annotations: None,
                        });
                        d.fault = Some(msg);
                    }
                }
            }
        }

        if !obs.logs {
            return;
        }
        // With dynamic levels each invocation has its own level, so every event is checked.
        if level > obs.level || obs.dynamic_level {
            let (max, sampled) = leaf
                .as_ref()
                .and_then(|s| {
                    s.scope().find_map(|s| {
                        s.extensions()
                            .get::<SpanData>()
                            .and_then(|d| d.inv.as_ref().map(|i| (i.level, i.debug_sampled)))
                    })
                })
                .or_else(|| invocation::current().map(|i| (i.level, i.debug_sampled)))
                .unwrap_or((obs.level, false));
            if !log_line::enabled_at(max, level, sampled) {
                return;
            }
        }

        log_line::with_buffers(|b| {
            event.record(&mut FieldWriter {
                out: &mut b.fields,
                message: Some(&mut b.message),
                redactor: &obs.redactor,
                annotations: None,
            });
            let mut inv: Option<Arc<Shared>> = None;
            let mut span_fields_start = None;
            if let Some(leaf) = &leaf {
                // Span fields go after the event's own fields in the buffer, then are moved.
                span_fields_start = Some(b.fields.len());
                for s in leaf.scope().from_root() {
                    if let Some(d) = s.extensions().get::<SpanData>() {
                        b.fields.push_str(&d.fields);
                        if d.inv.is_some() {
                            inv.clone_from(&d.inv);
                        }
                    }
                }
            }
            if inv.is_none() {
                inv = invocation::current();
            }
            log_line::write_head(&mut b.line, level, &b.message, obs, inv.as_deref());
            match span_fields_start {
                Some(at) => {
                    b.line.push_str(&b.fields[at..]);
                    b.line.push_str(&b.fields[..at]);
                }
                None => b.line.push_str(&b.fields),
            }
            log_line::finish_and_write(&mut b.line, obs);
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(data) = span.extensions_mut().remove::<SpanData>() else {
            return;
        };
        if !data.is_root && data.xid != 0 {
            if let Some(inv) = &data.inv {
                if let (Some(x), Some(trace_id)) = (&inv.xray, inv.trace_id()) {
                    let seg = Seg {
                        id: data.xid,
                        parent_id: data.parent_xid,
                        name: span.name(),
                        start_us: data.start_us,
                        end_us: time::epoch_micros(std::time::SystemTime::now()),
                        annotations: &data.annotations,
                        metadata: &data.fields,
                        fault: data.fault.is_some(),
                        cause: data.fault.as_deref(),
                        ..Seg::default()
                    };
                    x.push(&inv.obs, trace_id, &seg);
                }
            }
        }
        pool::give_string(data.fields);
        pool::give_string(data.annotations);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_key_fast_check_agrees_with_the_list() {
        for k in RESERVED_KEYS {
            assert!(is_reserved(k), "{k}");
        }
        for k in ["order_id", "table", "", "fields.level", "Level"] {
            assert!(!is_reserved(k), "{k}");
        }
    }
}
