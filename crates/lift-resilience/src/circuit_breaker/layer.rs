use std::sync::Arc;

use tower::Layer;

use super::machine::Cell;
use super::{BreakerConfig, BreakerMetrics, BreakerState, BreakerStore, CircuitBreaker, LocalStore, NoFallback};
use crate::classify::DefaultClassifier;
use crate::event::Telemetry;
use crate::partition::Partitions;
use crate::{Global, KeyFn, PartitionKey, ResilienceListener};

pub(crate) struct Shared<K> {
    pub(crate) partitions: Partitions<K, Cell<K>>,
}

impl<K: PartitionKey> Shared<K> {
    fn new(config: BreakerConfig, telemetry: Telemetry, store: Arc<dyn BreakerStore<K>>) -> Self {
        Self {
            partitions: Partitions::new(config.max_keys, move |k: Option<&K>| {
                Cell::new(k.cloned(), config, telemetry.clone(), store.clone())
            }),
        }
    }
}

/// Applies [`CircuitBreaker`] to a service. All services made by one layer (and its clones)
/// share the same partitions; each builder call starts fresh state.
pub struct CircuitBreakerLayer<KF = Global, K = (), C = DefaultClassifier, F = NoFallback> {
    config: BreakerConfig,
    key_fn: KF,
    classifier: C,
    fallback: F,
    telemetry: Telemetry,
    store: Arc<dyn BreakerStore<K>>,
    shared: Arc<Shared<K>>,
}

impl<KF: Clone, K, C: Clone, F: Clone> Clone for CircuitBreakerLayer<KF, K, C, F> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            key_fn: self.key_fn.clone(),
            classifier: self.classifier.clone(),
            fallback: self.fallback.clone(),
            telemetry: self.telemetry.clone(),
            store: self.store.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<KF, K, C, F> std::fmt::Debug for CircuitBreakerLayer<KF, K, C, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("config", &self.config)
            .finish()
    }
}

impl CircuitBreakerLayer {
    /// A global breaker with `config`, the default classifier (errors fail, other layers'
    /// rejections are ignored) and no fallback.
    pub fn new(config: BreakerConfig) -> Self {
        let telemetry = Telemetry::new("circuit_breaker");
        let store: Arc<dyn BreakerStore<()>> = Arc::new(LocalStore);
        Self {
            config,
            key_fn: Global,
            classifier: DefaultClassifier,
            fallback: NoFallback,
            shared: Arc::new(Shared::new(config, telemetry.clone(), store.clone())),
            telemetry,
            store,
        }
    }
}

impl<KF, K: PartitionKey, C, F> CircuitBreakerLayer<KF, K, C, F> {
    fn rebuild(mut self) -> Self {
        self.shared = Arc::new(Shared::new(self.config, self.telemetry.clone(), self.store.clone()));
        self
    }

    /// Partition by `key_fn` (route, tenant, downstream). Resets the store to [`LocalStore`].
    pub fn key<Req, KF2: KeyFn<Req>>(self, key_fn: KF2) -> CircuitBreakerLayer<KF2, KF2::Key, C, F> {
        let store: Arc<dyn BreakerStore<KF2::Key>> = Arc::new(LocalStore);
        CircuitBreakerLayer {
            config: self.config,
            key_fn,
            classifier: self.classifier,
            fallback: self.fallback,
            shared: Arc::new(Shared::new(self.config, self.telemetry.clone(), store.clone())),
            telemetry: self.telemetry,
            store,
        }
    }

    /// Decide what counts as failure (e.g. [`HttpClassifier`](crate::HttpClassifier)).
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerLayer<KF, K, C2, F> {
        CircuitBreakerLayer {
            config: self.config,
            key_fn: self.key_fn,
            classifier,
            fallback: self.fallback,
            telemetry: self.telemetry,
            store: self.store,
            shared: self.shared,
        }
    }

    /// Answer rejected calls with `fallback` instead of the [`Open`](super::Open) error.
    pub fn fallback<F2>(self, fallback: F2) -> CircuitBreakerLayer<KF, K, C, F2> {
        CircuitBreakerLayer {
            config: self.config,
            key_fn: self.key_fn,
            classifier: self.classifier,
            fallback,
            telemetry: self.telemetry,
            store: self.store,
            shared: self.shared,
        }
    }

    /// Share state through `store`.
    pub fn store(mut self, store: impl BreakerStore<K>) -> Self {
        self.store = Arc::new(store);
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

    /// A handle to inspect and steer the partitions (shared with the services).
    pub fn handle(&self) -> BreakerHandle<K> {
        BreakerHandle {
            shared: self.shared.clone(),
        }
    }
}

impl<S, KF: Clone, K, C: Clone, F: Clone> Layer<S> for CircuitBreakerLayer<KF, K, C, F> {
    type Service = CircuitBreaker<S, KF, K, C, F>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker {
            inner,
            key_fn: self.key_fn.clone(),
            classifier: self.classifier.clone(),
            fallback: self.fallback.clone(),
            shared: self.shared.clone(),
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
