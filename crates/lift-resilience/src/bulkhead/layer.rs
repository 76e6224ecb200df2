use std::time::Duration;

use tower::Layer;

use super::{Bulkhead, BulkheadTuning, Shared};
use crate::event::Telemetry;
use crate::shared::{telemetry_builders, LazyState};
use crate::{Global, PartitionKey};

/// Bulkhead settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkheadConfig {
    /// Calls in flight per partition. Default 64.
    pub max_concurrent: usize,
    /// How long a call may wait for a permit. Default zero (reject at once).
    pub max_wait: Duration,
    /// Maximum number of partitions; further keys share one overflow partition. Default 1024.
    pub max_keys: usize,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 64,
            max_wait: Duration::ZERO,
            max_keys: 1024,
        }
    }
}

/// Applies [`Bulkhead`] to a service.
///
/// Every service made by one layer and its clones shares the same partitions, built by the
/// first `layer()`; builder methods configure them beforehand and never fork or reset them
/// (see [the rule](crate#shared-state)).
pub struct BulkheadLayer<KF = Global, K = ()> {
    config: BulkheadConfig,
    key_fn: KF,
    telemetry: Telemetry,
    state: LazyState<Shared<K>>,
    tuning: Option<std::sync::Arc<dyn BulkheadTuning>>,
}

impl<KF: Clone, K> Clone for BulkheadLayer<KF, K> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            key_fn: self.key_fn.clone(),
            telemetry: self.telemetry.clone(),
            state: self.state.clone(),
            tuning: self.tuning.clone(),
        }
    }
}

impl<KF, K> std::fmt::Debug for BulkheadLayer<KF, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkheadLayer")
            .field("config", &self.config)
            .field("telemetry", &self.telemetry)
            .finish()
    }
}

impl BulkheadLayer<Global, ()> {
    /// A single global partition of `max_concurrent` permits, no wait.
    pub fn new(max_concurrent: usize) -> Self {
        Self::with_config(BulkheadConfig {
            max_concurrent,
            ..BulkheadConfig::default()
        })
    }

    /// A global bulkhead with `config`.
    pub fn with_config(config: BulkheadConfig) -> Self {
        Self {
            config,
            key_fn: Global,
            telemetry: Telemetry::new("bulkhead"),
            state: LazyState::new(),
            tuning: None,
        }
    }
}

impl<KF, K: PartitionKey> BulkheadLayer<KF, K> {
    #[track_caller]
    fn settings_changed(mut self, method: &str) -> Self {
        self.state = self.state.unbuilt(method);
        self
    }

    /// Partition calls by `key_fn`, e.g. `|r: &http::Request<B>| tenant_of(r)`.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn key<Req, KF2>(self, key_fn: KF2) -> BulkheadLayer<KF2, KF2::Key>
    where
        KF2: crate::KeyFn<Req>,
    {
        let _ = self.state.unbuilt("key");
        BulkheadLayer {
            config: self.config,
            key_fn,
            telemetry: self.telemetry,
            state: LazyState::new(),
            tuning: self.tuning,
        }
    }

    /// Longest wait for a permit.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.config.max_wait = max_wait;
        self.settings_changed("max_wait")
    }

    /// Bound on the number of partitions.
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.config.max_keys = max_keys;
        self.settings_changed("max_keys")
    }

    /// Read the concurrency limit through `tuning` at each call (dynamic configuration); each
    /// partition is resized when it changes, its calls in flight kept. See [`BulkheadTuning`].
    ///
    /// # Panics
    ///
    /// If the layer has already made services (see [the rule](crate#shared-state)).
    #[track_caller]
    pub fn tuning(mut self, tuning: impl BulkheadTuning) -> Self {
        self.tuning = Some(std::sync::Arc::new(tuning));
        self.settings_changed("tuning")
    }

    telemetry_builders!(settings_changed);

    /// Permits free in the partition of `key` (`None` if that partition does not exist yet).
    pub fn available(&self, key: &K) -> Option<usize> {
        self.state.get().and_then(|s| s.available(key))
    }

    /// Number of partitions held (the overflow partition excluded).
    pub fn partitions(&self) -> usize {
        self.state.get().map_or(0, |s| s.partitions.len())
    }

    pub(super) fn shared(&self) -> std::sync::Arc<Shared<K>> {
        self.state
            .get_or_init(|| Shared::new(self.config, self.telemetry.clone(), self.tuning.clone()))
    }
}

impl<S, KF: Clone, K: PartitionKey> Layer<S> for BulkheadLayer<KF, K> {
    type Service = Bulkhead<S, KF, K>;

    fn layer(&self, inner: S) -> Self::Service {
        Bulkhead {
            inner,
            key_fn: self.key_fn.clone(),
            shared: self.shared(),
        }
    }
}
