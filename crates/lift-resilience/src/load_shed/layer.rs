use std::sync::Arc;

use tower::Layer;

use super::{LimitAlgorithm, LoadShed, LoadShedTuning, NoPriority, Priority, Shared};
use crate::event::Telemetry;
use crate::shared::{telemetry_builders, LazyState};

/// Applies [`LoadShed`] to a service.
///
/// All services made by one layer and its clones share one in-flight count and one limit,
/// built by the first `layer()`; builder methods configure them beforehand and never fork or
/// reset them (see [the rule](crate#shared-state)).
pub struct LoadShedLayer<P = NoPriority> {
    random_rate: f64,
    thresholds: [f64; 4],
    algo: Option<LimitAlgorithm>,
    priority: P,
    telemetry: Telemetry,
    tuning: Option<Arc<dyn LoadShedTuning>>,
    state: LazyState<Shared>,
}

impl<P: Clone> Clone for LoadShedLayer<P> {
    fn clone(&self) -> Self {
        Self {
            random_rate: self.random_rate,
            thresholds: self.thresholds,
            algo: self.algo,
            priority: self.priority.clone(),
            telemetry: self.telemetry.clone(),
            tuning: self.tuning.clone(),
            state: self.state.clone(),
        }
    }
}

impl<P> std::fmt::Debug for LoadShedLayer<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadShedLayer")
            .field("random_rate", &self.random_rate)
            .field("thresholds", &self.thresholds)
            .field("algo", &self.algo)
            .field("telemetry", &self.telemetry)
            .finish()
    }
}

const DEFAULT_THRESHOLDS: [f64; 4] = [0.5, 0.75, 0.9, 1.0];

impl LoadShedLayer {
    fn base(random_rate: f64, algo: Option<LimitAlgorithm>) -> Self {
        Self {
            random_rate,
            thresholds: DEFAULT_THRESHOLDS,
            algo,
            priority: NoPriority,
            telemetry: Telemetry::new("load_shed"),
            tuning: None,
            state: LazyState::new(),
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
    #[track_caller]
    fn settings_changed(mut self, method: &str) -> Self {
        self.state = self.state.unbuilt(method);
        self
    }

    /// Also shed a fraction `rate` of non-critical calls at random.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn with_random(mut self, rate: f64) -> Self {
        self.random_rate = rate;
        self.settings_changed("with_random")
    }

    /// Take priorities from `priority` ([`HeaderPriority`](super::HeaderPriority),
    /// [`PriorityFrom`](super::PriorityFrom), or your own). Keeps the shared state: the
    /// in-flight count and the limit do not depend on where priorities come from.
    pub fn priority<P2>(self, priority: P2) -> LoadShedLayer<P2> {
        LoadShedLayer {
            random_rate: self.random_rate,
            thresholds: self.thresholds,
            algo: self.algo,
            priority,
            telemetry: self.telemetry,
            tuning: self.tuning,
            state: self.state,
        }
    }

    /// Fraction of the limit up to which calls of `priority` are admitted.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn threshold(mut self, priority: Priority, fraction: f64) -> Self {
        self.thresholds[priority as usize] = if fraction.is_finite() { fraction.max(0.0) } else { 1.0 };
        self.settings_changed("threshold")
    }

    /// Read the random rate and the concurrency limit at each call from `tuning` (dynamic
    /// configuration, e.g. `lift_config::load_shed_tuning`): a change applies to the calls that
    /// start after it; the in-flight count and an adaptive limit's state are kept.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn tuning(mut self, tuning: impl LoadShedTuning) -> Self {
        self.tuning = Some(Arc::new(tuning));
        self.settings_changed("tuning")
    }

    telemetry_builders!(settings_changed);

    pub(super) fn shared(&self) -> Arc<Shared> {
        self.state.get_or_init(|| {
            Shared::new(
                self.random_rate,
                self.thresholds,
                self.algo,
                self.telemetry.clone(),
                self.tuning.clone(),
            )
        })
    }
}

impl<S, P: Clone> Layer<S> for LoadShedLayer<P> {
    type Service = LoadShed<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            priority: self.priority.clone(),
            shared: self.shared(),
        }
    }
}
