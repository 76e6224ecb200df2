use std::sync::Arc;

use tower::Layer;

use super::machine::Cell;
use super::tuning::{BreakerTuning, Tuned};
use super::{BreakerConfig, BreakerMetrics, BreakerState, BreakerStore, CircuitBreaker, LocalStore, NoFallback};
use crate::classify::DefaultClassifier;
use crate::event::Telemetry;
use crate::partition::Partitions;
use crate::shared::{telemetry_builders, LazyState};
use crate::{Global, KeyFn, PartitionKey};

pub(crate) struct Shared<K> {
    pub(crate) partitions: Partitions<K, Cell<K>>,
}

impl<K: PartitionKey> Shared<K> {
    fn new(config: Tuned, telemetry: Telemetry, store: Arc<dyn BreakerStore<K>>) -> Self {
        Self {
            partitions: Partitions::new(config.built.max_keys, move |k: Option<&K>| {
                Cell::new(k.cloned(), config.clone(), telemetry.clone(), store.clone())
            }),
        }
    }
}

/// Applies [`CircuitBreaker`] to a service.
///
/// All services made by one layer and its clones share the same partitions (and so the same
/// windows and states), built by the first `layer()` or [`handle`](Self::handle); builder
/// methods configure them beforehand and never fork or reset them (see
/// [the rule](crate#shared-state)). The store `St` is kept whatever the order of the builder
/// calls.
pub struct CircuitBreakerLayer<KF = Global, K = (), C = DefaultClassifier, F = NoFallback, St = LocalStore> {
    config: BreakerConfig,
    key_fn: KF,
    classifier: C,
    fallback: F,
    telemetry: Telemetry,
    store: Arc<St>,
    state: LazyState<Shared<K>>,
    tuning: Option<Arc<dyn BreakerTuning>>,
}

impl<KF: Clone, K, C: Clone, F: Clone, St> Clone for CircuitBreakerLayer<KF, K, C, F, St> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            key_fn: self.key_fn.clone(),
            classifier: self.classifier.clone(),
            fallback: self.fallback.clone(),
            telemetry: self.telemetry.clone(),
            store: self.store.clone(),
            state: self.state.clone(),
            tuning: self.tuning.clone(),
        }
    }
}

impl<KF, K, C, F, St> std::fmt::Debug for CircuitBreakerLayer<KF, K, C, F, St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("config", &self.config)
            .field("telemetry", &self.telemetry)
            .finish()
    }
}

impl CircuitBreakerLayer {
    /// A global breaker with `config`, the default classifier (errors fail, other layers'
    /// rejections are ignored) and no fallback.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            key_fn: Global,
            classifier: DefaultClassifier,
            fallback: NoFallback,
            telemetry: Telemetry::new("circuit_breaker"),
            store: Arc::new(LocalStore),
            state: LazyState::new(),
            tuning: None,
        }
    }
}

impl<KF, K, C, F, St> CircuitBreakerLayer<KF, K, C, F, St> {
    #[track_caller]
    fn settings_changed(mut self, method: &str) -> Self {
        self.state = self.state.unbuilt(method);
        self
    }

    /// Partition by `key_fn` (route, tenant, downstream). The store set with
    /// [`store`](Self::store), before or after, is kept.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn key<Req, KF2: KeyFn<Req>>(self, key_fn: KF2) -> CircuitBreakerLayer<KF2, KF2::Key, C, F, St> {
        let _ = self.state.unbuilt("key");
        CircuitBreakerLayer {
            config: self.config,
            key_fn,
            classifier: self.classifier,
            fallback: self.fallback,
            telemetry: self.telemetry,
            store: self.store,
            state: LazyState::new(),
            tuning: self.tuning,
        }
    }

    /// Decide what counts as failure (e.g. [`HttpClassifier`](crate::HttpClassifier)). Keeps
    /// the shared state: the classifier runs in the services.
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerLayer<KF, K, C2, F, St> {
        CircuitBreakerLayer {
            config: self.config,
            key_fn: self.key_fn,
            classifier,
            fallback: self.fallback,
            telemetry: self.telemetry,
            store: self.store,
            state: self.state,
            tuning: self.tuning,
        }
    }

    /// Answer rejected calls with `fallback` instead of the [`Open`](super::Open) error. Keeps
    /// the shared state: the fallback runs in the services.
    pub fn fallback<F2>(self, fallback: F2) -> CircuitBreakerLayer<KF, K, C, F2, St> {
        CircuitBreakerLayer {
            config: self.config,
            key_fn: self.key_fn,
            classifier: self.classifier,
            fallback,
            telemetry: self.telemetry,
            store: self.store,
            state: self.state,
            tuning: self.tuning,
        }
    }

    /// Share state through `store`.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn store<St2>(self, store: St2) -> CircuitBreakerLayer<KF, K, C, F, St2> {
        let state = self.state.unbuilt("store");
        CircuitBreakerLayer {
            config: self.config,
            key_fn: self.key_fn,
            classifier: self.classifier,
            fallback: self.fallback,
            telemetry: self.telemetry,
            store: Arc::new(store),
            state,
            tuning: self.tuning,
        }
    }

    /// Read the thresholds, slow-call duration, minimum calls, wait in open and half-open
    /// limits through `tuning` at each decision (dynamic configuration): changes apply to the
    /// calls that follow, and every partition keeps its state. See [`BreakerTuning`].
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn tuning(mut self, tuning: impl BreakerTuning) -> Self {
        self.tuning = Some(Arc::new(tuning));
        self.settings_changed("tuning")
    }

    telemetry_builders!(settings_changed);
}

impl<KF, K: PartitionKey, C, F, St: BreakerStore<K>> CircuitBreakerLayer<KF, K, C, F, St> {
    fn shared(&self) -> Arc<Shared<K>> {
        self.state.get_or_init(|| {
            let store: Arc<dyn BreakerStore<K>> = self.store.clone();
            let config = Tuned {
                built: self.config,
                tuning: self.tuning.clone(),
            };
            Shared::new(config, self.telemetry.clone(), store)
        })
    }

    /// A handle to inspect and steer the partitions (shared with the services). Builds the
    /// shared state if no service has yet.
    pub fn handle(&self) -> BreakerHandle<K> {
        BreakerHandle { shared: self.shared() }
    }
}

impl<S, KF: Clone, K: PartitionKey, C: Clone, F: Clone, St: BreakerStore<K>> Layer<S>
    for CircuitBreakerLayer<KF, K, C, F, St>
{
    type Service = CircuitBreaker<S, KF, K, C, F>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker {
            inner,
            key_fn: self.key_fn.clone(),
            classifier: self.classifier.clone(),
            fallback: self.fallback.clone(),
            shared: self.shared(),
        }
    }
}

/// Inspect and steer a breaker's partitions.
pub struct BreakerHandle<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for BreakerHandle<K> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<K> std::fmt::Debug for BreakerHandle<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BreakerHandle")
    }
}

impl<K: PartitionKey> BreakerHandle<K> {
    /// State of the partition of `key` (`None` if it does not exist yet).
    pub fn state(&self, key: &K) -> Option<BreakerState> {
        self.shared.partitions.peek(key).map(|c| c.state())
    }

    /// Metrics of the partition of `key`.
    pub fn metrics(&self, key: &K) -> Option<BreakerMetrics> {
        self.shared.partitions.peek(key).map(|c| c.metrics())
    }

    /// Move the partition of `key` (created if needed) to `state` by hand: `ForcedOpen`,
    /// `Disabled`, `MetricsOnly`, or back to `Closed`.
    pub fn transition(&self, key: &K, state: BreakerState) {
        self.shared.partitions.get(key).transition_to(state);
    }

    /// Number of partitions held (the overflow partition excluded).
    pub fn partitions(&self) -> usize {
        self.shared.partitions.len()
    }
}
