use std::sync::Arc;

use tower::Layer;

use super::{LimitAlgorithm, LoadShed, NoPriority, Priority, Shared};
use crate::event::Telemetry;
use crate::ResilienceListener;

/// Applies [`LoadShed`] to a service. All services made by one layer share one in-flight
/// count and one limit.
pub struct LoadShedLayer<P = NoPriority> {
    random_rate: f64,
    thresholds: [f64; 4],
    algo: Option<LimitAlgorithm>,
    priority: P,
    telemetry: Telemetry,
    shared: Arc<Shared>,
}

impl<P: Clone> Clone for LoadShedLayer<P> {
    fn clone(&self) -> Self {
        Self {
            random_rate: self.random_rate,
            thresholds: self.thresholds,
            algo: self.algo,
            priority: self.priority.clone(),
            telemetry: self.telemetry.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<P> std::fmt::Debug for LoadShedLayer<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadShedLayer")
            .field("random_rate", &self.random_rate)
            .field("algo", &self.algo)
            .finish()
    }
}

const DEFAULT_THRESHOLDS: [f64; 4] = [0.5, 0.75, 0.9, 1.0];

impl LoadShedLayer {
    fn base(random_rate: f64, algo: Option<LimitAlgorithm>) -> Self {
        let telemetry = Telemetry::new("load_shed");
        Self {
            random_rate,
            thresholds: DEFAULT_THRESHOLDS,
            algo,
            priority: NoPriority,
            shared: Arc::new(Shared::new(random_rate, DEFAULT_THRESHOLDS, algo, telemetry.clone())),
            telemetry,
        }
    }

    /// Shed a fraction `rate` (0–1) of non-critical calls at random.
    pub fn random(rate: f64) -> Self {
        Self::base(rate, None)
    }

    /// Shed calls beyond a concurrency limit.
    pub fn limit(algo: LimitAlgorithm) -> Self {
        Self::base(0.0, Some(algo))
    }

    /// Adaptive limit with Netflix's AIMD defaults.
    pub fn aimd() -> Self {
        Self::limit(LimitAlgorithm::Aimd(Default::default()))
    }

    /// Adaptive limit with Netflix's Gradient2 defaults.
    pub fn gradient() -> Self {
        Self::limit(LimitAlgorithm::Gradient(Default::default()))
    }
}

impl<P> LoadShedLayer<P> {
    fn rebuild(mut self) -> Self {
        self.shared = Arc::new(Shared::new(
            self.random_rate,
            self.thresholds,
            self.algo,
            self.telemetry.clone(),
        ));
        self
    }

    /// Also shed a fraction `rate` of non-critical calls at random.
    pub fn with_random(mut self, rate: f64) -> Self {
        self.random_rate = rate;
        self.rebuild()
    }

    /// Take priorities from `priority` ([`HeaderPriority`](super::HeaderPriority),
    /// [`PriorityFrom`](super::PriorityFrom), or your own).
    pub fn priority<P2>(self, priority: P2) -> LoadShedLayer<P2> {
        LoadShedLayer {
            random_rate: self.random_rate,
            thresholds: self.thresholds,
            algo: self.algo,
            priority,
            telemetry: self.telemetry,
            shared: self.shared,
        }
    }

    /// Fraction of the limit up to which calls of `priority` are admitted.
    pub fn threshold(mut self, priority: Priority, fraction: f64) -> Self {
        self.thresholds[priority as usize] = if fraction.is_finite() { fraction.max(0.0) } else { 1.0 };
        self.rebuild()
    }

    /// Name used in events.
    pub fn name(mut self, name: &str) -> Self {
        self.telemetry = self.telemetry.with_name(name);
        self.rebuild()
    }

    /// Listener for events.
    pub fn listener(mut self, listener: impl ResilienceListener) -> Self {
        self.telemetry = self.telemetry.with_listener(Arc::new(listener));
        self.rebuild()
    }
}

impl<S, P: Clone> Layer<S> for LoadShedLayer<P> {
    type Service = LoadShed<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            priority: self.priority.clone(),
            shared: self.shared.clone(),
        }
    }
}
