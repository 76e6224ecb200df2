//! [`LevelOverride`]: one invocation's own log level and DEBUG sample rate.

use tracing_core::LevelFilter;

/// What an invocation may change about its own logging (dynamic configuration sets it per
/// invocation; nothing process-wide changes). Honoured only when the observability was built
/// with [`dynamic_level`](crate::ObservabilityBuilder::dynamic_level).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct LevelOverride {
    /// The invocation's level (at most as verbose as DEBUG); `None` keeps the process's.
    pub level: Option<LevelFilter>,
    /// The share of invocations logged at DEBUG; `None` keeps the process's.
    pub debug_sample_rate: Option<f64>,
}

impl LevelOverride {
    /// An override of the level and the sample rate.
    pub fn new(level: Option<LevelFilter>, debug_sample_rate: Option<f64>) -> Self {
        Self {
            level,
            debug_sample_rate,
        }
    }
}
