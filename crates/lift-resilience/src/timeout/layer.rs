use std::time::Duration;

use tower::Layer;

use super::Timeout;
use crate::event::Telemetry;
use crate::ResilienceListener;

/// Applies [`Timeout`] to a service.
#[derive(Debug, Clone)]
pub struct TimeoutLayer {
    configured: Option<Duration>,
    margin: Duration,
    telemetry: Telemetry,
}

impl TimeoutLayer {
    /// Time out after `configured`, or earlier when the invocation deadline minus the default
    /// margin (200 ms) comes first.
    pub fn new(configured: Duration) -> Self {
        Self {
            configured: Some(configured),
            margin: Duration::from_millis(200),
            telemetry: Telemetry::new("timeout"),
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

    /// Name used in events.
    pub fn name(mut self, name: &str) -> Self {
        self.telemetry = self.telemetry.with_name(name);
        self
    }

    /// Listener for events.
    pub fn listener(mut self, listener: impl ResilienceListener) -> Self {
        self.telemetry = self.telemetry.with_listener(std::sync::Arc::new(listener));
        self
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            configured: self.configured,
            margin: self.margin,
            telemetry: self.telemetry.clone(),
        }
    }
}
