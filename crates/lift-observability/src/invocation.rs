//! One invocation's scope: its log keys, metrics, X-Ray subsegments, and how it finishes.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use tracing::instrument::Instrumented;
use tracing::Instrument;

use crate::config::Inner;
use crate::emf::Extra;
use crate::log_line;
use crate::metrics::MetricSet;
use crate::stats::Counters;
use crate::xray::{Subsegment, XrayBuf, XrayState};
use crate::{emf, ids, json, time, Metrics, Resolution, TraceHeader, Unit};

/// What the core knows about an invocation when it starts.
#[derive(Clone, Copy, Debug, Default)]
pub struct InvocationMeta<'a> {
    /// The Lambda request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: &'a str,
    /// The invoked function ARN.
    pub function_arn: &'a str,
    /// This invocation's own `Lambda-Runtime-Trace-Id`:
    /// `Root=1-...;Parent=...;Sampled=1`. Never the process environment.
    pub trace_header: Option<&'a str>,
    /// Whether this is the first invocation of the execution environment (decided by the core).
    pub cold_start: bool,
    /// The correlation id from the configured header; the request id is used when absent.
    pub correlation_id: Option<&'a str>,
    /// The tenant, when already known.
    pub tenant_id: Option<&'a str>,
}

/// How an invocation ended, recorded once by [`Invocation::finish`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome<'a> {
    /// HTTP status (or an equivalent), when there is one.
    pub status: Option<u16>,
    /// The error, when the invocation failed.
    pub error: Option<&'a str>,
    /// The matched route (overrides [`Invocation::set_route`]).
    pub route: Option<&'a str>,
}

/// State shared by the [`Invocation`], its [`Metrics`] handles and its spans.
pub(crate) struct Shared {
    pub(crate) obs: Arc<Inner>,
    pub(crate) request_id: Box<str>,
    pub(crate) trace_id: Option<Box<str>>,
    pub(crate) cold_start: bool,
    pub(crate) debug_sampled: bool,
    /// `,"service":..,"cold_start":..,...,"correlation_id":..` pre-rendered once.
    pub(crate) log_fragment: String,
    pub(crate) tenant: OnceLock<Box<str>>,
    pub(crate) route: Mutex<Option<Box<str>>>,
    pub(crate) metrics: Mutex<MetricSet>,
    pub(crate) xray: Option<XrayState>,
    pub(crate) start: SystemTime,
    pub(crate) start_instant: Instant,
}

thread_local! {
    /// Hands the invocation to the layer's `on_new_span` while `start` creates the root span.
    pub(crate) static PENDING: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// Target and name of the root span of every invocation.
pub const INVOCATION_TARGET: &str = "lift_observability";
/// Name of the root span of every invocation.
pub const INVOCATION_SPAN: &str = "invocation";

/// One invocation's observability scope. Owned by the core for the invocation's life; `Send`;
/// never shared between invocations. Dropping it without [`Invocation::finish`] finishes it
/// with the error `"invocation abandoned"`.
pub struct Invocation {
    shared: Arc<Shared>,
    span: tracing::Span,
    finished: bool,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("request_id", &self.shared.request_id)
            .field("trace_id", &self.shared.trace_id)
            .field("cold_start", &self.shared.cold_start)
            .finish_non_exhaustive()
    }
}

pub(crate) fn start(obs: &Arc<Inner>, meta: InvocationMeta<'_>) -> Invocation {
    let start = SystemTime::now();
    let trace = meta.trace_header.and_then(|h| TraceHeader::parse(h).ok());
    let debug_sampled = obs.sample_rate > 0.0 && ids::next_f64() < obs.sample_rate;

    let mut frag = String::with_capacity(
        obs.process_fragment.len()
            + obs.function_fragment.len()
            + meta.function_arn.len()
            + 2 * meta.request_id.len()
            + 160,
    );
    frag.push_str(&obs.process_fragment);
    frag.push_str(if meta.cold_start {
        ",\"cold_start\":true"
    } else {
        ",\"cold_start\":false"
    });
    frag.push_str(&obs.function_fragment);
    json::write_key(&mut frag, "function_arn");
    json::write_str(&mut frag, meta.function_arn);
    json::write_key(&mut frag, "function_request_id");
    json::write_str(&mut frag, meta.request_id);
    if let Some(t) = &trace {
        json::write_key(&mut frag, "xray_trace_id");
        json::write_str(&mut frag, t.root());
    }
    json::write_key(&mut frag, "correlation_id");
    json::write_str(&mut frag, meta.correlation_id.unwrap_or(meta.request_id));
    if obs.sample_rate > 0.0 {
        json::write_key(&mut frag, "sampling_rate");
        json::write_f64(&mut frag, obs.sample_rate);
    }

    let tenant = OnceLock::new();
    if let Some(t) = meta.tenant_id {
        let _ = tenant.set(t.into());
    }
    let xray = match (&obs.xray, &trace) {
        (Some(_), Some(t)) if t.is_sampled() => Some(XrayState {
            trace_id: t.root().into(),
            lambda_parent: t.parent().unwrap_or_default(),
            root_id: ids::new_span_id(),
            buf: Mutex::new(XrayBuf::default()),
        }),
        _ => None,
    };
    let shared = Arc::new(Shared {
        obs: obs.clone(),
        request_id: meta.request_id.into(),
        trace_id: trace.as_ref().map(|t| t.root().into()),
        cold_start: meta.cold_start,
        debug_sampled,
        log_fragment: frag,
        tenant,
        route: Mutex::new(None),
        metrics: Mutex::new(MetricSet::default()),
        xray,
        start,
        start_instant: Instant::now(),
    });
    let span = if obs.logs || shared.xray.is_some() {
        PENDING.with(|p| *p.borrow_mut() = Some(shared.clone()));
        // ERROR level so that no level filter hides the invocation's root span.
        let span = tracing::span!(target: "lift_observability", tracing::Level::ERROR, "invocation");
        PENDING.with(|p| p.borrow_mut().take());
        span
    } else {
        tracing::Span::none()
    };
    Invocation {
        shared,
        span,
        finished: false,
    }
}

impl Invocation {
    /// Runs `fut` inside this invocation: every event inside gets this invocation's keys, and
    /// spans inside become X-Ray subsegments of this invocation.
    pub fn instrument<F: Future>(&self, fut: F) -> Instrumented<F> {
        fut.instrument(self.span.clone())
    }

    /// The root span of this invocation (to enter it in synchronous code).
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// A handle for recording metrics (disabled when metrics are off).
    pub fn metrics(&self) -> Metrics {
        Metrics::new(self.shared.obs.metrics.then(|| self.shared.clone()))
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.shared.request_id
    }

    /// The X-Ray trace id of this invocation, from its own trace header.
    pub fn trace_id(&self) -> Option<&str> {
        self.shared.trace_id.as_deref()
    }

    /// Whether this invocation logs at DEBUG (debug sampling, decided once at start).
    pub fn debug_sampled(&self) -> bool {
        self.shared.debug_sampled
    }

    /// Whether subsegments of this invocation are sent to X-Ray.
    pub fn xray_sampled(&self) -> bool {
        self.shared.xray.is_some()
    }

    /// Sets the tenant once it is known (after authentication). The first tenant set wins.
    pub fn set_tenant(&self, tenant: &str) {
        let _ = self.shared.tenant.set(tenant.into());
    }

    /// The tenant, if known.
    pub fn tenant(&self) -> Option<&str> {
        self.shared.tenant.get().map(|t| &**t)
    }

    /// Sets the route once it is known (after routing).
    pub fn set_route(&self, route: &str) {
        if let Ok(mut r) = self.shared.route.lock() {
            *r = Some(route.into());
        }
    }

    /// Records route, status, latency and error once (summary log line, `Latency` and `Errors`
    /// metrics), flushes the EMF documents once, and sends the X-Ray subsegments. Never blocks
    /// on the network and never panics.
    pub fn finish(mut self, outcome: Outcome<'_>) {
        self.finished = true;
        self.finish_inner(outcome);
    }

    fn finish_inner(&mut self, outcome: Outcome<'_>) {
        let shared = &*self.shared;
        let obs = &*shared.obs;
        let end = SystemTime::now();
        let latency = shared.start_instant.elapsed();
        let route: Option<Box<str>> = match outcome.route {
            Some(r) => Some(r.into()),
            None => shared.route.lock().ok().and_then(|mut r| r.take()),
        };
        let status = outcome.status;
        let failed = outcome.error.is_some() || status.is_some_and(|s| s >= 500);
        let latency_ms = latency.as_secs_f64() * 1000.0;

        if obs.logs && obs.summary_log {
            log_line::summary(obs, shared, route.as_deref(), status, outcome.error, latency_ms, failed);
        }

        if obs.metrics {
            let mut set = match shared.metrics.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            if !set.flushed {
                if obs.summary_metrics {
                    let _ = set.add("Latency", latency_ms, Unit::Milliseconds, Resolution::Standard, false);
                    let _ = set.add(
                        "Errors",
                        f64::from(u8::from(failed)),
                        Unit::Count,
                        Resolution::Standard,
                        true,
                    );
                }
                let mut extra: [(&str, Extra<'_>); 6] = [("", Extra::U64(0)); 6];
                let mut n = 0;
                let mut put = |k, v| {
                    extra[n] = (k, v);
                    n += 1;
                };
                put("function_request_id", Extra::Str(&shared.request_id));
                if let Some(t) = &shared.trace_id {
                    put("xray_trace_id", Extra::Str(t));
                }
                if let Some(t) = shared.tenant.get() {
                    put("tenant_id", Extra::Str(t));
                }
                if let Some(r) = &route {
                    put("route", Extra::Str(r));
                }
                if let Some(s) = status {
                    put("status", Extra::U64(u64::from(s)));
                }
                if let Some(e) = outcome.error {
                    put("error", Extra::Str(e));
                }
                set.flushed = true;
                let ts = time::epoch_micros(end) / 1000;
                emf::render(&set, &obs.namespace, &obs.service, ts, &extra[..n], |doc| {
                    emit_emf(obs, doc);
                });
                if shared.cold_start {
                    let doc = emf::cold_start(&obs.namespace, &obs.service, obs.function_name.as_deref(), ts);
                    emit_emf(obs, &doc);
                }
                // Free the values now; late handles see `flushed` and are refused.
                set.metrics = Vec::new();
            }
        }

        if let Some(x) = &shared.xray {
            let mut root = Subsegment {
                name: match &route {
                    Some(r) => format!("## {r}"),
                    None => format!("## {}", obs.service),
                },
                start_us: time::epoch_micros(shared.start),
                end_us: time::epoch_micros(end),
                http_status: status,
                ..Subsegment::default()
            };
            let ann = &mut root.annotations;
            json::write_key(ann, "cold_start");
            ann.push_str(if shared.cold_start { "true" } else { "false" });
            json::write_key(ann, "service");
            json::write_str(ann, &obs.service);
            if let Some(t) = shared.tenant.get() {
                json::write_key(ann, "tenant_id");
                json::write_str(ann, t);
            }
            if let Some(r) = &route {
                json::write_key(ann, "route");
                json::write_str(ann, r);
            }
            json::write_key(&mut root.metadata, "function_request_id");
            json::write_str(&mut root.metadata, &shared.request_id);
            match status {
                Some(429) => {
                    root.throttle = true;
                    root.error = true;
                }
                Some(s) if (400..500).contains(&s) => root.error = true,
                _ => {}
            }
            if failed {
                root.fault = true;
                root.cause = Some(outcome.error.unwrap_or("server error").to_owned());
            }
            x.finish(obs, root);
        }
    }
}

impl Drop for Invocation {
    fn drop(&mut self) {
        if !self.finished {
            self.finished = true;
            self.finish_inner(Outcome {
                error: Some("invocation abandoned"),
                ..Outcome::default()
            });
        }
    }
}

fn emit_emf(obs: &Inner, doc: &str) {
    match obs.emf_sink.write_line(doc.as_bytes()) {
        Ok(()) => Counters::incr(&obs.counters.emf_documents_written),
        Err(_) => Counters::incr(&obs.counters.emf_documents_dropped),
    }
}
