//! Observability for Lift: structured JSON logs, CloudWatch EMF metrics and X-Ray subsegments,
//! scoped per invocation so that many invocations in one process (Lambda Managed Instances)
//! never see each other's keys, metrics or subsegments.
//!
//! Everything a Powertools for AWS Lambda user knows is here under the same names: the log
//! keys (`level`, `message`, `timestamp`, `service`, `cold_start`, `function_name`,
//! `function_memory_size`, `function_arn`, `function_request_id`, `xray_trace_id`,
//! `correlation_id`, plus `tenant_id`), the variables (`POWERTOOLS_SERVICE_NAME`,
//! `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL`, `AWS_LAMBDA_LOG_LEVEL`,
//! `POWERTOOLS_LOGGER_SAMPLE_RATE`, `POWERTOOLS_METRICS_NAMESPACE`,
//! `POWERTOOLS_METRICS_DISABLED`, `POWERTOOLS_TRACE_DISABLED`, `AWS_XRAY_DAEMON_ADDRESS`)
//! and the EMF documents (`service` dimension, `ColdStart` in its own document).
//!
//! # Shape
//!
//! * [`Observability`] is built once per process ([`Observability::from_env`] or
//!   [`Observability::builder`]) and installed as a `tracing` subscriber
//!   ([`Observability::install`], or [`Observability::layers`] to compose your own).
//! * [`Observability::start`] opens an [`Invocation`] from the invocation's own metadata
//!   ([`InvocationMeta`]: request id, ARN, *its* trace header, cold start, correlation id,
//!   tenant). [`Invocation::instrument`] runs the handler inside the invocation: every event
//!   logged inside gets the invocation's keys (copied from a fragment rendered once at start),
//!   and every span inside becomes an X-Ray subsegment of this invocation. The invocation is made
//!   current on the polling thread for each poll (a thread-local the `Arc` is moved into and out
//!   of), which is much cheaper than entering a `tracing` span; [`Invocation::span`] gives the
//!   invocation's root span for synchronous code or for instrumenting a spawned task.
//! * [`Invocation::metrics`] hands out a [`Metrics`] handle; [`Invocation::handle`] an
//!   [`InvocationHandle`] (one `Arc`) through which middleware sets the tenant or correlation id
//!   late: they reach every later log line, the EMF properties and the X-Ray annotations.
//!   [`current_metrics`] is the metrics of the invocation being polled on this thread.
//! * [`Invocation::finish`] writes the summary line (with the error code of
//!   [`Outcome::error`]), flushes EMF once and sends the subsegments.
//! * [`Observability::flush`] waits for queued lines at exit and on SIGTERM.
//!
//! # Logs
//!
//! One JSON object per line. Level: `AWS_LAMBDA_LOG_LEVEL` (Lambda's own setting) wins, then
//! the level set in code, then `POWERTOOLS_LOG_LEVEL` / `LOG_LEVEL`, then INFO. Debug sampling
//! (`POWERTOOLS_LOGGER_SAMPLE_RATE`) is decided once per invocation. Fields named in
//! [`DEFAULT_REDACTED_KEYS`] (or your list, plus [`ALWAYS_REDACTED_KEYS`] in any case) are
//! written as `"*****"`. The Lambda runtime crates' TRACE events are never written: at TRACE
//! `lambda_runtime` logs the raw event, credentials included. Fields of `lambda_runtime`'s own
//! spans (`requestId`, `xrayTraceId`, ...) are left out: the invocation's keys say the same.
//! Sinks are injectable ([`LineSink`]: [`StdoutSink`], [`NonBlockingSink`], [`WriterSink`],
//! [`CaptureSink`]); a refused write is counted in [`Stats`], never a panic or an error in the
//! handler.
//!
//! # Log delivery
//!
//! On Lambda (`AWS_LAMBDA_RUNTIME_API` set) lines are written synchronously, so that an
//! invocation's lines are out before its response is posted and the process frozen. Off Lambda
//! (the local server) nobody may be reading stdout, so lines go through a bounded queue to a
//! writer thread ([`NonBlockingSink`], [`LogDelivery::Queued`]): past its bounds (lines and
//! bytes) a line is dropped and counted, and the writer notes the number dropped in one line
//! ([`DROPPED_NOTICE`]) once it catches up. Queued line buffers are recycled, not allocated per
//! line. [`Observability::from_env`] picks the mode; [`ObservabilityBuilder::log_delivery`]
//! forces either.
//! `AWS_LAMBDA_LOG_FORMAT` is not consulted: lines are always JSON, which is also what Lambda's
//! JSON format expects from a function that logs JSON itself.
//!
//! # Metrics: why a hand-written EMF recorder
//!
//! Both candidates were read before deciding:
//!
//! * `metrics_cloudwatch_embedded` (0.10) is a recorder for the `metrics` facade. The facade's
//!   recorder is process-global, and the crate keeps one `Mutex`-guarded collector that every
//!   invocation writes into and that is flushed as a whole: with concurrent invocations in one
//!   process the metrics of one land in another's document, and request id / trace id
//!   properties cannot be per invocation. Every record takes the global lock.
//! * `metrique` (0.1) is built around wide events declared as structs with a proc macro, written
//!   to a global sink through a background queue. Per-unit-of-work scoping is its strength, but
//!   dynamically named metrics (`count("OrdersCreated", 1)`) and Powertools' document shape
//!   (`service` dimension, separate `ColdStart` document) are not its model; it also requires
//!   Rust 1.91 (the workspace supports 1.88) and brings a dozen crates.
//!
//! So the recorder here is ~300 lines: one [`MetricSet`](Metrics) per invocation behind a lock
//! only that invocation uses, validation at record time ([`MetricError`]), and a single flush
//! in [`Invocation::finish`] that splits documents at 100 metrics and 100 values per metric,
//! rendered straight into a reused buffer (names in one text arena, the first value of each
//! metric inline, no `serde_json::Value` tree).
//!
//! # Cost
//!
//! An invocation costs one heap allocation (its shared state) plus one per span of the handler
//! (`tracing-subscriber`'s span extension); every string, metric set and X-Ray buffer comes from
//! per-thread pools. See `docs/observability.md` for the measurements.
//!
//! # X-Ray
//!
//! Only when the invocation's own trace header says `Sampled=1` and a daemon address (or
//! [`DatagramSink`]) is configured. The invocation becomes a subsegment named `## <route>`,
//! parented to the Lambda segment of its header, with annotations `cold_start`, `service`,
//! `tenant_id`, `correlation_id` (when given), `route`; spans inside become nested subsegments (fields as metadata, annotation
//! keys as annotations, ERROR events as faults). One datagram per invocation when it fits in
//! 64 KB, otherwise one per subsegment.
//!
//! # Quick start
//!
//! ```
//! use lift_observability::{CaptureSink, InvocationMeta, Observability, Outcome};
//!
//! let logs = CaptureSink::new();
//! let emf = CaptureSink::new();
//! let obs = Observability::builder()
//!     .service("orders")
//!     .namespace("Shop")
//!     .log_sink(logs.clone())
//!     .emf_sink(emf.clone())
//!     .build()?;
//! let dispatch = tracing::Dispatch::new(obs.subscriber()); // or obs.install()
//! tracing::dispatcher::with_default(&dispatch, || {
//!     let inv = obs.start(InvocationMeta {
//!         request_id: "req-1",
//!         function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:orders",
//!         trace_header: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
//!         cold_start: true,
//!         ..InvocationMeta::default()
//!     });
//!     let metrics = inv.metrics();
//!     let _guard = inv.span().enter();
//!     tracing::info!(order_id = 42, "order created");
//!     metrics.count("OrdersCreated", 1).expect("valid metric");
//!     drop(_guard);
//!     inv.finish(Outcome { status: Some(201), route: Some("POST /orders"), error: None });
//! });
//! let line = &logs.json_lines()?[0];
//! assert_eq!(line["function_request_id"], "req-1");
//! assert_eq!(line["xray_trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
//! assert_eq!(line["order_id"], 42);
//! let docs = emf.json_lines()?;
//! assert_eq!(docs[0]["OrdersCreated"], 1);
//! assert_eq!(docs[1]["ColdStart"], 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod coalesce;
mod config;
mod emf;
mod handle;
mod ids;
mod invocation;
mod json;
mod layer;
mod level_override;
mod log_line;
mod metrics;
mod non_blocking;
mod observability;
mod pool;
mod redact;
mod sink;
mod stats;
mod time;
mod trace_header;
mod unit;
mod xray;

pub use config::{
    parse_level, ConfigError, LogDelivery, ObservabilityBuilder, DEFAULT_CORRELATION_HEADER, DEFAULT_SERVICE,
};
pub use handle::InvocationHandle;
pub use invocation::{
    current_metrics, in_invocation, Invocation, InvocationMeta, Outcome, INVOCATION_SPAN, INVOCATION_TARGET,
};
pub use layer::{LevelGate, ObservabilityLayer};
pub use level_override::LevelOverride;
pub use log_line::RESERVED_KEYS;
pub use metrics::{
    MetricError, Metrics, MAX_DIMENSIONS, MAX_DIMENSION_NAME_LEN, MAX_DIMENSION_VALUE_LEN, MAX_METRICS_PER_DOCUMENT,
    MAX_NAME_LEN, MAX_VALUES_PER_METRIC,
};
pub use non_blocking::{NonBlockingSink, QueueLimits, DROPPED_NOTICE};
pub use observability::{InstallError, Observability};
pub use redact::{ALWAYS_REDACTED_KEYS, DEFAULT_REDACTED_KEYS, REDACTED};
pub use sink::{CaptureSink, DatagramSink, LineSink, NullSink, StdoutSink, UdpSink, WriterSink};
pub use stats::Stats;
pub use trace_header::{TraceHeader, TraceHeaderError};
pub use tracing_core::LevelFilter;
pub use unit::{Resolution, Unit};
pub use xray::{DAEMON_HEADER, MAX_DATAGRAM};
