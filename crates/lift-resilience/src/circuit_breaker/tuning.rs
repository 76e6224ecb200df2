//! [`BreakerTuning`]: thresholds and waits read at each decision (dynamic configuration).

use std::sync::Arc;

use super::BreakerConfig;

/// Where a breaker reads the configuration in force, from the one it was built with: each
/// recorded outcome, each half-open admission and each transition asks it, so a change applies
/// to the calls that follow while every partition keeps its state (an open circuit stays open
/// until its wait, as it was computed when it opened, is over).
///
/// Only the thresholds, the slow-call duration, the minimum calls, the wait in open and the
/// half-open limits follow it: the sliding window's kind and size and `max_keys` are the
/// built ones (a window holds recorded calls; it is not re-shaped under them).
pub trait BreakerTuning: Send + Sync + 'static {
    /// The configuration in force, given the one the breaker was built with.
    fn tune(&self, built: &BreakerConfig) -> BreakerConfig;
}

impl<F: Fn(&BreakerConfig) -> BreakerConfig + Send + Sync + 'static> BreakerTuning for F {
    fn tune(&self, built: &BreakerConfig) -> BreakerConfig {
        self(built)
    }
}

/// A breaker's configuration: the built one, or the built one tuned.
#[derive(Clone)]
pub(crate) struct Tuned {
    pub(crate) built: BreakerConfig,
    pub(crate) tuning: Option<Arc<dyn BreakerTuning>>,
}

impl Tuned {
    /// The configuration in force (the built window and key bound always).
    #[inline]
    pub(crate) fn get(&self) -> BreakerConfig {
        match &self.tuning {
            None => self.built,
            Some(t) => BreakerConfig {
                window: self.built.window,
                max_keys: self.built.max_keys,
                ..t.tune(&self.built)
            },
        }
    }
}
