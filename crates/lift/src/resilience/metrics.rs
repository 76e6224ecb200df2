//! The listener that counts resilience events in the invocation's metrics.

use lift_resilience::{ResilienceEvent, ResilienceListener};

tokio::task_local! {
    /// The metrics of the invocation whose future is being polled.
    pub(crate) static INVOCATION_METRICS: lift_observability::Metrics;
}

/// Counts resilience events in the current invocation's EMF document: `CircuitBreakerTransitions`,
/// `CircuitBreakerRejections`, `BulkheadRejections`, `LoadShed`, `Retries`, `RetriesAbandoned`,
/// `Timeouts`, `RateLimited`, and the adaptive limit as `ConcurrencyLimit`. Outside an observed
/// invocation it does nothing. (Every event is also logged by `lift-resilience` through
/// `tracing`, so it appears in the invocation's log lines.)
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsListener;

impl ResilienceListener for MetricsListener {
    fn on_event(&self, event: &ResilienceEvent<'_>) {
        let _ = INVOCATION_METRICS.try_with(|m| {
            let counted = match event {
                ResilienceEvent::BreakerTransition { .. } => "CircuitBreakerTransitions",
                ResilienceEvent::BreakerRejected { .. } => "CircuitBreakerRejections",
                ResilienceEvent::BulkheadRejected { .. } => "BulkheadRejections",
                ResilienceEvent::Shed { .. } => "LoadShed",
                ResilienceEvent::Retry { .. } => "Retries",
                ResilienceEvent::RetryAbandoned { .. } => "RetriesAbandoned",
                ResilienceEvent::TimedOut { .. } => "Timeouts",
                ResilienceEvent::RateLimited { .. } => "RateLimited",
                ResilienceEvent::LimitChanged { to, .. } => {
                    let _ = m.value("ConcurrencyLimit", *to as f64, lift_observability::Unit::Count);
                    return;
                }
                #[allow(unreachable_patterns)]
                _ => return,
            };
            let _ = m.count(counted, 1);
        });
    }
}
