//! [`breaker_tuning`]: circuit breakers whose thresholds and waits follow the settings.

use std::time::Duration;

use lift_resilience::circuit_breaker::{BreakerConfig, BreakerTuning, WaitInOpen};

use crate::settings::{BreakerSettings, Settings};
use crate::Dynamic;

/// A [`BreakerTuning`] reading the document's `"breaker"` keys (see [`BreakerSettings`]) at each
/// decision: `CircuitBreakerLayer::new(config).tuning(breaker_tuning(config.settings().clone()))`.
/// Keys absent from the document (or no document) keep the built values.
pub fn breaker_tuning(settings: Dynamic<Settings>) -> impl BreakerTuning {
    move |built: &BreakerConfig| match &settings.load().lift().breaker {
        None => *built,
        Some(b) => apply(b, *built),
    }
}

fn apply(b: &BreakerSettings, mut c: BreakerConfig) -> BreakerConfig {
    if let Some(v) = b.failure_rate_threshold {
        c.failure_rate_threshold = v;
    }
    if let Some(v) = b.slow_call_rate_threshold {
        c.slow_call_rate_threshold = v;
    }
    if let Some(ms) = b.slow_call_duration_ms {
        c.slow_call_duration = Duration::from_millis(ms);
    }
    if let Some(n) = b.minimum_calls {
        c.minimum_calls = n;
    }
    if let Some(ms) = b.wait_in_open_ms {
        c.wait_in_open = WaitInOpen::Fixed(Duration::from_millis(ms));
    }
    if let Some(n) = b.permitted_calls_in_half_open {
        c.permitted_calls_in_half_open = n;
    }
    c
}
