//! Events: every transition, rejection, shed, retry and timeout is reported to a
//! [`ResilienceListener`] and emitted as a `tracing` event with target `"lift_resilience"`.
//!
//! The listener is how `lift-observability` (or anything else) counts them; this crate does not
//! depend on any observability crate. Events are only produced off the success path.

use std::fmt::{self, Debug};
use std::sync::Arc;
use std::time::Duration;

use crate::circuit_breaker::BreakerState;
use crate::load_shed::{Priority, ShedReason};
use crate::rate_limit::{Decision, FailMode};
use crate::retry::RetryStop;
use crate::timeout::TimeoutLimit;

/// Something a resilience layer did.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ResilienceEvent<'a> {
    /// A circuit breaker changed state.
    BreakerTransition {
        /// Layer name.
        name: &'a str,
        /// Partition key (`"<overflow>"` for the shared overflow partition).
        key: &'a dyn Debug,
        /// State before.
        from: BreakerState,
        /// State after.
        to: BreakerState,
    },
    /// A circuit breaker rejected a call.
    BreakerRejected {
        /// Layer name.
        name: &'a str,
        /// Partition key.
        key: &'a dyn Debug,
        /// State that rejected it.
        state: BreakerState,
        /// Time until the breaker lets a trial call through, when known.
        retry_after: Option<Duration>,
    },
    /// A bulkhead rejected a call.
    BulkheadRejected {
        /// Layer name.
        name: &'a str,
        /// Partition key.
        key: &'a dyn Debug,
        /// The partition's limit.
        max_concurrent: usize,
        /// How long the call waited for a permit.
        waited: Duration,
    },
    /// The load shedder rejected a call.
    Shed {
        /// Layer name.
        name: &'a str,
        /// Why.
        reason: ShedReason,
        /// Calls in flight when it was rejected.
        in_flight: usize,
        /// Concurrency limit in force, if a limit is configured.
        limit: Option<usize>,
        /// The call's priority, if a priority source is configured.
        priority: Option<Priority>,
    },
    /// An adaptive concurrency limit changed.
    LimitChanged {
        /// Layer name.
        name: &'a str,
        /// Limit before.
        from: usize,
        /// Limit after.
        to: usize,
    },
    /// A retry was scheduled.
    Retry {
        /// Layer name.
        name: &'a str,
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// Wait before it.
        backoff: Duration,
    },
    /// A retryable failure was not retried.
    RetryAbandoned {
        /// Layer name.
        name: &'a str,
        /// Attempts made.
        attempts: u32,
        /// Why no further attempt.
        reason: RetryStop,
    },
    /// A call timed out.
    TimedOut {
        /// Layer name.
        name: &'a str,
        /// Which limit fired.
        limit: TimeoutLimit,
        /// After how long.
        after: Duration,
    },
    /// A rate limiter rejected a call.
    RateLimited {
        /// Layer name.
        name: &'a str,
        /// Partition key.
        key: &'a dyn Debug,
        /// The decision.
        decision: &'a Decision,
    },
    /// A rate limiter's store could not answer (error, throttling, timeout): the call was
    /// admitted or rejected by the layer's fail mode.
    RateLimitStoreFailed {
        /// Layer name.
        name: &'a str,
        /// Partition key.
        key: &'a dyn Debug,
        /// The store's error.
        error: &'a (dyn std::error::Error + Send + Sync),
        /// What the layer did about it.
        fail_mode: FailMode,
    },
}

/// Receives every [`ResilienceEvent`]. Must be cheap and must not block: it runs inline.
pub trait ResilienceListener: Send + Sync + 'static {
    /// Called for each event. The default does nothing.
    fn on_event(&self, event: &ResilienceEvent<'_>) {
        let _ = event;
    }
}

/// A listener that ignores everything (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopListener;

impl ResilienceListener for NoopListener {}

impl<F> ResilienceListener for F
where
    F: Fn(&ResilienceEvent<'_>) + Send + Sync + 'static,
{
    fn on_event(&self, event: &ResilienceEvent<'_>) {
        self(event)
    }
}

/// Name and listener shared by a layer's services (one `Arc`: cloning it is one atomic add).
#[derive(Clone)]
pub(crate) struct Telemetry(Arc<TelemetryInner>);

struct TelemetryInner {
    name: Box<str>,
    listener: Arc<dyn ResilienceListener>,
}

impl Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry").field("name", &self.name()).finish()
    }
}

impl Telemetry {
    pub(crate) fn new(name: &str) -> Self {
        Self(Arc::new(TelemetryInner {
            name: name.into(),
            listener: Arc::new(NoopListener),
        }))
    }

    pub(crate) fn name(&self) -> &str {
        &self.0.name
    }

    pub(crate) fn with_name(&self, name: &str) -> Self {
        Self(Arc::new(TelemetryInner {
            name: name.into(),
            listener: self.0.listener.clone(),
        }))
    }

    pub(crate) fn with_listener(&self, listener: Arc<dyn ResilienceListener>) -> Self {
        Self(Arc::new(TelemetryInner {
            name: self.0.name.clone(),
            listener,
        }))
    }

    /// Log through `tracing` and hand to the listener.
    #[cold]
    pub(crate) fn emit(&self, event: ResilienceEvent<'_>) {
        trace_event(&event);
        self.0.listener.on_event(&event);
    }
}

/// Formats an overflow key.
pub(crate) struct OverflowKey;

impl Debug for OverflowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<overflow>")
    }
}

/// The key of a partition for events.
pub(crate) fn key_ref<K: Debug>(key: &Option<K>) -> &dyn Debug {
    match key {
        Some(k) => k,
        None => &OverflowKey,
    }
}

fn trace_event(event: &ResilienceEvent<'_>) {
    use ResilienceEvent::*;
    const T: &str = "lift_resilience";
    match *event {
        BreakerTransition { name, key, from, to } => {
            if to == BreakerState::Open || to == BreakerState::ForcedOpen {
                tracing::warn!(target: T, name, key = ?key, ?from, ?to, "circuit breaker transition");
            } else {
                tracing::info!(target: T, name, key = ?key, ?from, ?to, "circuit breaker transition");
            }
        }
        BreakerRejected {
            name,
            key,
            state,
            retry_after,
        } => {
            tracing::debug!(target: T, name, key = ?key, ?state, ?retry_after, "circuit breaker rejected call");
        }
        BulkheadRejected {
            name,
            key,
            max_concurrent,
            waited,
        } => {
            tracing::debug!(target: T, name, key = ?key, max_concurrent, ?waited, "bulkhead full");
        }
        Shed {
            name,
            reason,
            in_flight,
            limit,
            priority,
        } => {
            tracing::debug!(target: T, name, ?reason, in_flight, ?limit, ?priority, "load shed");
        }
        LimitChanged { name, from, to } => {
            tracing::trace!(target: T, name, from, to, "adaptive concurrency limit changed");
        }
        Retry { name, attempt, backoff } => {
            tracing::debug!(target: T, name, attempt, ?backoff, "retrying");
        }
        RetryAbandoned { name, attempts, reason } => {
            tracing::debug!(target: T, name, attempts, ?reason, "retry abandoned");
        }
        TimedOut { name, limit, after } => {
            tracing::debug!(target: T, name, ?limit, ?after, "timed out");
        }
        RateLimited { name, key, decision } => {
            tracing::debug!(target: T, name, key = ?key, limit = decision.limit, retry_after = ?decision.retry_after, "rate limited");
        }
        RateLimitStoreFailed {
            name,
            key,
            error,
            fail_mode,
        } => {
            // Per call, so debug: the store logs its failures at most once per window.
            tracing::debug!(target: T, name, key = ?key, %error, ?fail_mode, "rate-limit store failed");
        }
    }
}

impl<L: ResilienceListener + ?Sized> ResilienceListener for Arc<L> {
    fn on_event(&self, event: &ResilienceEvent<'_>) {
        (**self).on_event(event)
    }
}
