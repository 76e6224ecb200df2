//! The process-wide handle: configuration, sinks, and the per-invocation entry point.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing_core::Subscriber;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::config::Inner;
use crate::layer::{LevelGate, ObservabilityLayer};
use crate::{
    invocation, ConfigError, Invocation, InvocationMeta, LevelOverride, LogDelivery, ObservabilityBuilder, Stats,
};

/// Observability for a whole process, shared by every invocation (`Clone` is an `Arc` clone).
#[derive(Clone)]
pub struct Observability {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Observability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observability")
            .field("service", &self.inner.service)
            .field("namespace", &self.inner.namespace)
            .field("level", &self.inner.level)
            .field("logs", &self.inner.logs)
            .field("metrics", &self.inner.metrics)
            .field("tracing", &self.inner.xray.is_some())
            .finish()
    }
}

/// [`Observability::install`] found a global subscriber already set.
#[derive(Debug)]
pub struct InstallError(tracing::subscriber::SetGlobalDefaultError);

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot install the observability subscriber: {}", self.0)
    }
}

impl std::error::Error for InstallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Observability {
    /// Configuration from the environment with defaults; an invalid value is an error, never a
    /// panic. See [`ObservabilityBuilder::with_env_from`] for the variables read.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::builder().with_env()?.build()
    }

    /// A builder with defaults and no environment read (call
    /// [`ObservabilityBuilder::with_env`] to read it).
    pub fn builder() -> ObservabilityBuilder {
        ObservabilityBuilder::default()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self { inner: Arc::new(inner) }
    }

    /// The layer (with its own level filter) for composing a subscriber yourself:
    /// `tracing_subscriber::registry().with(obs.layers()).with(other)`.
    pub fn layers<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        ObservabilityLayer::new(self.inner.clone()).with_filter(LevelGate::new(&self.inner))
    }

    /// A complete subscriber (registry + [`Self::layers`]), e.g. for
    /// `tracing::subscriber::with_default` in tests.
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync + 'static {
        // The only layer: it filters by itself instead of through a per-layer filter.
        tracing_subscriber::registry().with(ObservabilityLayer::gated(self.inner.clone()))
    }

    /// Installs [`Self::subscriber`] as the global default.
    pub fn install(&self) -> Result<(), InstallError> {
        tracing::subscriber::set_global_default(self.subscriber()).map_err(InstallError)
    }

    /// Whether the subscriber in force here (this thread's, else the global one) carries an
    /// observability layer ([`Self::subscriber`], or [`Self::layers`] in a subscriber of yours).
    /// Without one, log lines never reach the invocation's output.
    pub fn in_current_subscriber() -> bool {
        tracing::dispatcher::get_default(|d| d.is::<ObservabilityLayer>())
    }

    /// Starts an invocation's scope. Called by the core at the start of every invocation.
    pub fn start(&self, meta: InvocationMeta<'_>) -> Invocation {
        invocation::start(&self.inner, meta, LevelOverride::default())
    }

    /// [`start`](Self::start) with this invocation's own log level and DEBUG sample rate
    /// (honoured when the builder set [`dynamic_level`](ObservabilityBuilder::dynamic_level)).
    pub fn start_with(&self, meta: InvocationMeta<'_>, over: LevelOverride) -> Invocation {
        invocation::start(&self.inner, meta, over)
    }

    /// The service name (`service` key and dimension).
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// The EMF namespace.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The request header (lower case) the core should read the correlation id from.
    pub fn correlation_header(&self) -> &str {
        &self.inner.correlation_header
    }

    /// Whether X-Ray subsegments can be sent (tracing on and a daemon or sink configured).
    pub fn tracing_enabled(&self) -> bool {
        self.inner.xray.is_some()
    }

    /// How lines reach the default stdout sink (chosen by [`Self::from_env`] from
    /// `AWS_LAMBDA_RUNTIME_API`, or forced by [`ObservabilityBuilder::log_delivery`]).
    pub fn log_delivery(&self) -> LogDelivery {
        self.inner.delivery
    }

    /// Waits until every queued log line and EMF document is written, at most `timeout` in
    /// all; `true` when nothing is left. Call it at exit and on SIGTERM: with
    /// [`LogDelivery::Queued`] lines may still be in the queue. With synchronous sinks it
    /// returns `true` at once. It never panics; a writer stuck on an output nobody reads makes
    /// it return `false` after `timeout`.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let logs = self.inner.log_sink.flush(timeout);
        if Arc::ptr_eq(&self.inner.log_sink, &self.inner.emf_sink) {
            return logs;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        self.inner.emf_sink.flush(left) && logs
    }

    /// Delivery counters: lines, documents and datagrams dropped or sent.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }
}
