use std::sync::Arc;
use std::time::Duration;

use tower::Layer;

use super::{Timeout, TimeoutTuning};
use crate::event::Telemetry;
use crate::shared::telemetry_builders;

/// Applies [`Timeout`] to a service. It has no shared state: every builder method may be
/// called at any time.
#[derive(Clone)]
pub struct TimeoutLayer {
    configured: Option<Duration>,
    margin: Duration,
    telemetry: Telemetry,
    tuning: Option<Arc<dyn TimeoutTuning>>,
}

impl std::fmt::Debug for TimeoutLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutLayer")
            .field("configured", &self.configured)
            .field("margin", &self.margin)
            .field("telemetry", &self.telemetry)
            .field("tuned", &self.tuning.is_some())
            .finish()
    }
}

impl TimeoutLayer {
    /// Time out after `configured`, or earlier when the invocation deadline minus the default
    /// margin (200 ms) comes first.
    pub fn new(configured: Duration) -> Self {
        Self {
            configured: Some(configured),
            margin: Duration::from_millis(200),
            telemetry: Telemetry::new("timeout"),
            tuning: None,
        }
    }

    /// No configured timeout: only the invocation deadline (minus the margin) applies.
    pub fn deadline_only() -> Self {
        Self {
            configured: None,
            ..Self::new(Duration::ZERO)
        }
    }

    /// Safety margin kept before the invocation deadline (time to answer with a 504 and flush
    /// telemetry). Default 200 ms.
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Read the configured limit through `tuning` at each call (dynamic configuration); the
    /// margin stays. See [`TimeoutTuning`].
    pub fn tuning(mut self, tuning: impl TimeoutTuning) -> Self {
        self.tuning = Some(Arc::new(tuning));
        self
    }

    telemetry_builders!();
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            configured: self.configured,
            margin: self.margin,
            telemetry: self.telemetry.clone(),
            tuning: self.tuning.clone(),
        }
    }
}
