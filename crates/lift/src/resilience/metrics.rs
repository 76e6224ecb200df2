//! The listener that counts resilience events in the invocation's metrics.

use lift_resilience::{ResilienceEvent, ResilienceListener};

/// Counts resilience events in the current invocation's EMF document: `CircuitBreakerTransitions`,
/// `CircuitBreakerRejections`, `BulkheadRejections`, `LoadShed`, `Retries`, `RetriesAbandoned`,
/// `Timeouts`, `RateLimited`, `RateLimitStoreErrors` (a rate-limit store that could not answer:
/// error, throttling or timeout), and the adaptive limit as `ConcurrencyLimit`. Outside an observed
/// invocation it does nothing. (Every event is also logged by `lift-resilience` through
/// `tracing`, so it appears in the invocation's log lines.)
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsListener;

impl ResilienceListener for MetricsListener {
    fn on_event(&self, event: &ResilienceEvent<'_>) {
        // The invocation being polled on this thread: the one mechanism that finds it.
        let Some(m) = lift_observability::current_metrics() else {
            return;
        };
        {
            let counted = match event {
                ResilienceEvent::BreakerTransition { .. } => "CircuitBreakerTransitions",
                ResilienceEvent::BreakerRejected { .. } => "CircuitBreakerRejections",
                ResilienceEvent::BulkheadRejected { .. } => "BulkheadRejections",
                ResilienceEvent::Shed { .. } => "LoadShed",
                ResilienceEvent::Retry { .. } => "Retries",
                ResilienceEvent::RetryAbandoned { .. } => "RetriesAbandoned",
                ResilienceEvent::TimedOut { .. } => "Timeouts",
                ResilienceEvent::RateLimited { .. } => "RateLimited",
                ResilienceEvent::RateLimitStoreFailed { .. } => "RateLimitStoreErrors",
                ResilienceEvent::LimitChanged { to, .. } => {
                    let _ = m.value("ConcurrencyLimit", *to as f64, lift_observability::Unit::Count);
                    return;
                }
                #[allow(unreachable_patterns)]
                _ => return,
            };
            let _ = m.count(counted, 1);
        }
    }
}
