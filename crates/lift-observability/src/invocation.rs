//! One invocation's scope: its log keys, metrics, X-Ray subsegments, and how it finishes.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Instant, SystemTime};

use crate::config::Inner;
use crate::emf::Extra;
use crate::log_line;
use crate::metrics::MetricSet;
use crate::stats::Counters;
use crate::trace_header::Parsed;
use crate::xray::{Seg, XrayState};
use crate::LevelOverride;
use crate::{emf, ids, json, pool, time, InvocationHandle, Metrics, Resolution, Unit};
use tracing_core::LevelFilter;

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

/// A byte range of [`Shared`]'s text.
type Rng = (u32, u32);

/// State shared by the [`Invocation`], its handles and its spans: one allocation (this struct,
/// in an `Arc`) plus pooled buffers.
pub(crate) struct Shared {
    pub(crate) obs: Arc<Inner>,
    /// Request id, trace id, the ids known at start and the pre-rendered log fragments, in one
    /// (pooled) buffer written once in `start` and never changed afterwards.
    text: String,
    request_id: Rng,
    trace_id: Option<Rng>,
    tenant_at_start: Option<Rng>,
    /// The correlation id given at start.
    correlation_at_start: Option<Rng>,
    /// `,"service":..,"cold_start":..,...` (empty when logs are off).
    log_fragment: Rng,
    /// `,"correlation_id":..[,"tenant_id":..]` as known at start (empty when logs are off).
    ids_fragment: Rng,
    pub(crate) cold_start: bool,
    /// This invocation's log level: the process's, or its override.
    pub(crate) level: LevelFilter,
    pub(crate) debug_sampled: bool,
    /// Set once any id in `late` is set: until then readers use the start values without
    /// taking the lock.
    late_set: AtomicBool,
    late: Mutex<LateIds>,
    pub(crate) route: Mutex<Option<Box<str>>>,
    pub(crate) metrics: Mutex<MetricSet>,
    pub(crate) xray: Option<XrayState>,
    /// Wall clock at start, epoch microseconds (0 when nothing needs it).
    start_us: u64,
    start_instant: Instant,
}

/// Ids set after the invocation started (by middleware, through an [`InvocationHandle`]); they
/// replace the start values.
#[derive(Default)]
struct LateIds {
    tenant: Option<Box<str>>,
    correlation: Option<Box<str>>,
}

/// The tenant and correlation id as they stand (`None`: never given).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ids<'a> {
    pub(crate) tenant: Option<&'a str>,
    /// Log lines fall back to the request id; EMF and X-Ray, which carry the request id
    /// already, leave it out.
    pub(crate) correlation: Option<&'a str>,
}

impl Shared {
    fn s(&self, r: Rng) -> &str {
        &self.text[r.0 as usize..r.1 as usize]
    }

    pub(crate) fn request_id(&self) -> &str {
        self.s(self.request_id)
    }

    pub(crate) fn trace_id(&self) -> Option<&str> {
        self.trace_id.map(|r| self.s(r))
    }

    fn late(&self) -> MutexGuard<'_, LateIds> {
        self.late.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with the current tenant and correlation id (the lock is taken only once one was
    /// set late).
    pub(crate) fn with_ids<R>(&self, f: impl FnOnce(Ids<'_>) -> R) -> R {
        let start = Ids {
            tenant: self.tenant_at_start.map(|r| self.s(r)),
            correlation: self.correlation_at_start.map(|r| self.s(r)),
        };
        if !self.late_set.load(Ordering::Acquire) {
            return f(start);
        }
        let late = self.late();
        f(Ids {
            tenant: late.tenant.as_deref().or(start.tenant),
            correlation: late.correlation.as_deref().or(start.correlation),
        })
    }

    fn set_late(&self, set: impl FnOnce(&mut LateIds)) {
        set(&mut self.late());
        self.late_set.store(true, Ordering::Release);
    }

    pub(crate) fn set_tenant(&self, tenant: &str) {
        self.set_late(|l| l.tenant = Some(tenant.into()));
    }

    pub(crate) fn set_correlation_id(&self, id: &str) {
        self.set_late(|l| l.correlation = Some(id.into()));
    }

    /// The invocation's keys of a log line: the fragment rendered at start, then the ids as
    /// they stand (pre-rendered too unless one was set late).
    pub(crate) fn write_log_keys(&self, line: &mut String) {
        line.push_str(self.s(self.log_fragment));
        if !self.late_set.load(Ordering::Acquire) {
            line.push_str(self.s(self.ids_fragment));
            return;
        }
        self.with_ids(|ids| write_ids(line, ids, self.request_id()));
    }
}

/// `,"correlation_id":..[,"tenant_id":..]` (the correlation id defaults to the request id).
fn write_ids(out: &mut String, ids: Ids<'_>, request_id: &str) {
    json::write_key_plain(out, "correlation_id");
    json::write_str(out, ids.correlation.unwrap_or(request_id));
    if let Some(t) = ids.tenant {
        json::write_key_plain(out, "tenant_id");
        json::write_str(out, t);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        pool::give_string(std::mem::take(&mut self.text));
    }
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
    /// The root span, created on first use by [`Invocation::span`] (async code goes through
    /// [`Invocation::instrument`], which needs none).
    span: OnceLock<tracing::Span>,
    finished: bool,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("request_id", &self.shared.request_id())
            .field("trace_id", &self.shared.trace_id())
            .field("cold_start", &self.shared.cold_start)
            .finish_non_exhaustive()
    }
}

fn push(text: &mut String, s: &str) -> Rng {
    let start = text.len();
    text.push_str(s);
    (start as u32, text.len() as u32)
}

pub(crate) fn start(obs: &Arc<Inner>, meta: InvocationMeta<'_>, over: LevelOverride) -> Invocation {
    let start_instant = Instant::now();
    let trace = meta.trace_header.and_then(|h| Parsed::parse(h).ok());
    let (level, sample_rate) = if obs.dynamic_level {
        // An override is at most as verbose as DEBUG (the gate lets no TRACE through).
        (
            over.level.map_or(obs.level, |l| l.min(LevelFilter::DEBUG)),
            over.debug_sample_rate.unwrap_or(obs.sample_rate),
        )
    } else {
        (obs.level, obs.sample_rate)
    };
    let debug_sampled = sample_rate > 0.0 && ids::next_f64() < sample_rate;
    let sampled = obs.xray.is_some() && trace.is_some_and(|t| t.is_sampled());

    let mut text = pool::take_string();
    let request_id = push(&mut text, meta.request_id);
    let trace_id = trace.map(|t| push(&mut text, t.root));
    let tenant_at_start = meta.tenant_id.map(|t| push(&mut text, t));
    let correlation_at_start = meta.correlation_id.map(|c| push(&mut text, c));
    let frag_start = text.len();
    if obs.logs {
        let frag = &mut text;
        frag.push_str(&obs.process_fragment);
        frag.push_str(if meta.cold_start {
            ",\"cold_start\":true"
        } else {
            ",\"cold_start\":false"
        });
        frag.push_str(&obs.function_fragment);
        json::write_key_plain(frag, "function_arn");
        json::write_str(frag, meta.function_arn);
        json::write_key_plain(frag, "function_request_id");
        json::write_str(frag, meta.request_id);
        if let Some(t) = &trace {
            json::write_key_plain(frag, "xray_trace_id");
            json::write_str(frag, t.root);
        }
        if obs.sample_rate > 0.0 {
            json::write_key_plain(frag, "sampling_rate");
            json::write_f64(frag, obs.sample_rate);
        }
    }
    let log_fragment = (frag_start as u32, text.len() as u32);
    if obs.logs {
        let ids = Ids {
            tenant: meta.tenant_id,
            correlation: meta.correlation_id,
        };
        write_ids(&mut text, ids, meta.request_id);
    }
    let ids_fragment = (log_fragment.1, text.len() as u32);

    let xray = match trace {
        Some(t) if sampled => Some(XrayState {
            lambda_parent: t.parent.unwrap_or_default(),
            root_id: ids::new_span_id(),
            buf: Mutex::new(pool::take_xray_buf()),
        }),
        _ => None,
    };
    let shared = Arc::new(Shared {
        obs: obs.clone(),
        text,
        request_id,
        trace_id,
        tenant_at_start,
        correlation_at_start,
        log_fragment,
        ids_fragment,
        cold_start: meta.cold_start,
        level,
        debug_sampled,
        late_set: AtomicBool::new(false),
        late: Mutex::new(LateIds::default()),
        route: Mutex::new(None),
        metrics: Mutex::new(if obs.metrics {
            pool::take_metric_set()
        } else {
            MetricSet::default()
        }),
        start_us: if sampled {
            time::epoch_micros(SystemTime::now())
        } else {
            0
        },
        xray,
        start_instant,
    });
    Invocation {
        shared,
        span: OnceLock::new(),
        finished: false,
    }
}

/// Creates the invocation's root span (its layer data points at `shared`).
fn root_span(shared: &Arc<Shared>) -> tracing::Span {
    if !(shared.obs.logs || shared.xray.is_some()) {
        return tracing::Span::none();
    }
    PENDING.with(|p| *p.borrow_mut() = Some(shared.clone()));
    // ERROR level so that no level filter hides the invocation's root span.
    let span = tracing::span!(target: "lift_observability", tracing::Level::ERROR, "invocation");
    PENDING.with(|p| p.borrow_mut().take());
    span
}

thread_local! {
    /// The invocation whose future is being polled on this thread (set by
    /// [`Invocation::instrument`] for the duration of each poll only).
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// The invocation being polled on this thread, if any.
pub(crate) fn current() -> Option<Arc<Shared>> {
    CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten()
}

/// The metrics of the invocation whose future is being polled on this thread (inside
/// [`Invocation::instrument`]); `None` outside one, or when metrics are off.
///
/// For code that has no handle at hand (a `tower` layer, a listener called deep in a
/// service): one `Arc` clone.
pub fn current_metrics() -> Option<Metrics> {
    CURRENT
        .try_with(|c| {
            c.try_borrow().ok().and_then(|c| {
                c.as_ref()
                    .filter(|s| s.obs.metrics)
                    .map(|s| Metrics::new(Some(s.clone())))
            })
        })
        .ok()
        .flatten()
}

/// Whether this thread is polling an observed invocation right now (a panic hook uses it to
/// leave a panic to the invocation's own boundary).
pub fn in_invocation() -> bool {
    CURRENT
        .try_with(|c| c.try_borrow().map(|c| c.is_some()).unwrap_or(true))
        .unwrap_or(false)
}

/// Puts an invocation in [`CURRENT`] for one poll and puts the previous one back on drop (also
/// when the poll panics). The `Arc` is moved in and out, never cloned.
struct Entered<'a> {
    slot: &'a mut Option<Arc<Shared>>,
    swapped: bool,
}

impl<'a> Entered<'a> {
    fn new(slot: &'a mut Option<Arc<Shared>>) -> Self {
        let swapped = swap_current(slot);
        Self { slot, swapped }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if self.swapped {
            swap_current(self.slot);
        }
    }
}

pin_project_lite::pin_project! {
    /// [`Invocation::instrument`]'s future: the wrapped future polled in place, its invocation
    /// current for each poll. (An `async` block around the future stores it twice, as its
    /// capture and as the pinned local: twice the size of what it wraps, copied whole wherever
    /// the future moves.)
    struct Instrumented<F> {
        #[pin]
        fut: F,
        shared: Option<Arc<Shared>>,
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        let this = self.project();
        let _entered = Entered::new(this.shared);
        this.fut.poll(cx)
    }
}

/// Swaps `slot` with the thread's current invocation; `false` (nothing done) if the
/// thread-local is unavailable (thread exiting) or borrowed.
fn swap_current(slot: &mut Option<Arc<Shared>>) -> bool {
    CURRENT
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut c) => {
                std::mem::swap(&mut *c, slot);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false)
}

impl Invocation {
    /// Runs `fut` inside this invocation: every event inside gets this invocation's keys, and
    /// spans inside become X-Ray subsegments of this invocation.
    ///
    /// The invocation is made current on the polling thread for the duration of each poll of
    /// `fut` (a thread-local, moved in and out, never shared with another invocation), which
    /// costs far less than entering a `tracing` span. Consequently `tracing::Span::current()`
    /// inside `fut` is not the invocation's span; to carry the invocation into a spawned task,
    /// instrument that task with [`Invocation::span`] (or with this method).
    ///
    /// The future is `Send` when `fut` is.
    pub fn instrument<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> + use<F> {
        let obs = &self.shared.obs;
        // Current whenever anything reads it: log lines, spans, `current_metrics`.
        let shared = (obs.logs || obs.metrics || self.shared.xray.is_some()).then(|| self.shared.clone());
        Instrumented { fut, shared }
    }

    /// The root span of this invocation (to enter it in synchronous code, or to instrument a
    /// task spawned from the handler). Created on first call.
    pub fn span(&self) -> &tracing::Span {
        self.span.get_or_init(|| root_span(&self.shared))
    }

    /// A handle for recording metrics (disabled when metrics are off).
    pub fn metrics(&self) -> Metrics {
        Metrics::new(self.shared.obs.metrics.then(|| self.shared.clone()))
    }

    /// A cheap shared handle on this invocation (one `Arc` clone) for the code that learns the
    /// tenant or correlation id later, e.g. authentication middleware.
    pub fn handle(&self) -> InvocationHandle {
        InvocationHandle {
            shared: self.shared.clone(),
        }
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        self.shared.request_id()
    }

    /// The X-Ray trace id of this invocation, from its own trace header.
    pub fn trace_id(&self) -> Option<&str> {
        self.shared.trace_id()
    }

    /// Whether this invocation logs at DEBUG (debug sampling, decided once at start).
    pub fn debug_sampled(&self) -> bool {
        self.shared.debug_sampled
    }

    /// Whether subsegments of this invocation are sent to X-Ray.
    pub fn xray_sampled(&self) -> bool {
        self.shared.xray.is_some()
    }

    /// Sets the tenant once it is known (after authentication); see
    /// [`InvocationHandle::set_tenant`].
    pub fn set_tenant(&self, tenant: &str) {
        self.shared.set_tenant(tenant);
    }

    /// Sets the correlation id; see [`InvocationHandle::set_correlation_id`].
    pub fn set_correlation_id(&self, id: &str) {
        self.shared.set_correlation_id(id);
    }

    /// The tenant, if known.
    pub fn tenant(&self) -> Option<String> {
        self.shared.with_ids(|ids| ids.tenant.map(str::to_owned))
    }

    /// The correlation id (the request id unless one was given).
    pub fn correlation_id(&self) -> String {
        let shared = &*self.shared;
        shared.with_ids(|ids| ids.correlation.unwrap_or(shared.request_id()).to_owned())
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
        let latency = shared.start_instant.elapsed();
        let late_route = match outcome.route {
            Some(_) => None,
            None => shared.route.lock().ok().and_then(|mut r| r.take()),
        };
        let route = outcome.route.or(late_route.as_deref());
        let status = outcome.status;
        let failed = outcome.error.is_some() || status.is_some_and(|s| s >= 500);
        let latency_ms = latency.as_secs_f64() * 1000.0;
        // One clock read: the end is the start plus the monotonic latency when the start was read.
        let end_us = if shared.start_us != 0 {
            shared.start_us + latency.as_micros() as u64
        } else if obs.metrics {
            time::epoch_micros(SystemTime::now())
        } else {
            0
        };

        // The summary line and the EMF documents in one write when they share stdout.
        crate::coalesce::around(obs, || {
            if obs.logs && obs.summary_log {
                log_line::summary(obs, shared, route, status, outcome.error, latency_ms, failed);
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
                    shared.with_ids(|ids| {
                        let mut extra: [(&str, Extra<'_>); 7] = [("", Extra::U64(0)); 7];
                        let mut n = 0;
                        let mut put = |k, v| {
                            extra[n] = (k, v);
                            n += 1;
                        };
                        put("function_request_id", Extra::Str(shared.request_id()));
                        if let Some(t) = shared.trace_id() {
                            put("xray_trace_id", Extra::Str(t));
                        }
                        if let Some(c) = ids.correlation {
                            put("correlation_id", Extra::Str(c));
                        }
                        if let Some(t) = ids.tenant {
                            put("tenant_id", Extra::Str(t));
                        }
                        if let Some(r) = route {
                            put("route", Extra::Str(r));
                        }
                        if let Some(s) = status {
                            put("status", Extra::U64(u64::from(s)));
                        }
                        if let Some(e) = outcome.error {
                            put("error", Extra::Str(e));
                        }
                        let ts = end_us / 1000;
                        pool::with_scratch(|line| {
                            let head = emf::Head {
                                emf_head: &obs.emf_head,
                                service_pair: &obs.process_fragment,
                            };
                            emf::render(&set, head, ts, &extra[..n], line, |doc| {
                                emit_emf(obs, doc);
                            });
                            if shared.cold_start {
                                emf::cold_start(line, &obs.namespace, &obs.service, obs.function_name.as_deref(), ts);
                                emit_emf(obs, line);
                            }
                        });
                    });
                    // Hand the buffers back now; late handles see `flushed` and are refused.
                    pool::give_metric_set(std::mem::take(&mut *set));
                    set.flushed = true;
                }
            }
        });

        if let (Some(x), Some(trace_id)) = (&shared.xray, shared.trace_id()) {
            pool::with_scratch(|ann| {
                json::write_key_plain(ann, "cold_start");
                ann.push_str(if shared.cold_start { "true" } else { "false" });
                ann.push_str(&obs.process_fragment); // `,"service":".."`
                shared.with_ids(|ids| {
                    if let Some(t) = ids.tenant {
                        json::write_key_plain(ann, "tenant_id");
                        json::write_str(ann, t);
                    }
                    if let Some(c) = ids.correlation {
                        json::write_key_plain(ann, "correlation_id");
                        json::write_str(ann, c);
                    }
                });
                if let Some(r) = route {
                    json::write_key_plain(ann, "route");
                    json::write_str(ann, r);
                }
                let meta_at = ann.len();
                json::write_key_plain(ann, "function_request_id");
                json::write_str(ann, shared.request_id());
                let (annotations, metadata) = ann.split_at(meta_at);
                let mut root = Seg {
                    name_prefix: "## ",
                    name: route.unwrap_or(&obs.service),
                    start_us: shared.start_us,
                    end_us,
                    http_status: status,
                    annotations,
                    metadata,
                    ..Seg::default()
                };
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
                    root.cause = Some(outcome.error.unwrap_or("server error"));
                }
                x.finish(obs, trace_id, root);
            });
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
    if crate::coalesce::push(doc.as_bytes(), crate::coalesce::Kind::Emf) {
        return;
    }
    match obs.emf_sink.write_line(doc.as_bytes()) {
        Ok(()) => Counters::incr(&obs.counters.emf_documents_written),
        Err(_) => Counters::incr(&obs.counters.emf_documents_dropped),
    }
}
