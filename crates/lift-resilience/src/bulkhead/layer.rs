use std::sync::Arc;
use std::time::Duration;

use tower::Layer;

use super::{Bulkhead, Shared};
use crate::event::Telemetry;
use crate::{Global, PartitionKey, ResilienceListener};

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

/// Applies [`Bulkhead`] to a service. Every service made by one layer (and its clones) shares
/// the same partitions; each builder call starts fresh state.
pub struct BulkheadLayer<KF = Global, K = ()> {
    config: BulkheadConfig,
    key_fn: KF,
    telemetry: Telemetry,
    shared: Arc<Shared<K>>,
}

impl<KF: Clone, K> Clone for BulkheadLayer<KF, K> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            key_fn: self.key_fn.clone(),
            telemetry: self.telemetry.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<KF, K> std::fmt::Debug for BulkheadLayer<KF, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkheadLayer").field("config", &self.config).finish()
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
        let telemetry = Telemetry::new("bulkhead");
        Self {
            config,
            key_fn: Global,
            shared: Arc::new(Shared::new(config, telemetry.clone())),
            telemetry,
        }
    }
}

impl<KF, K: PartitionKey> BulkheadLayer<KF, K> {
    fn rebuild(mut self) -> Self {
        self.shared = Arc::new(Shared::new(self.config, self.telemetry.clone()));
        self
    }

    /// Partition calls by `key_fn`, e.g. `|r: &http::Request<B>| tenant_of(r)`.
    pub fn key<Req, KF2>(self, key_fn: KF2) -> BulkheadLayer<KF2, KF2::Key>
    where
        KF2: crate::KeyFn<Req>,
    {
        BulkheadLayer {
            config: self.config,
            key_fn,
            shared: Arc::new(Shared::new(self.config, self.telemetry.clone())),
            telemetry: self.telemetry,
        }
    }

    /// Longest wait for a permit.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.config.max_wait = max_wait;
        self.rebuild()
    }

    /// Bound on the number of partitions.
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.config.max_keys = max_keys;
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

    /// Permits free in the partition of `key` (`None` if that partition does not exist yet).
    pub fn available(&self, key: &K) -> Option<usize> {
        self.shared.available(key)
    }

    /// Number of partitions held (the overflow partition excluded).
    pub fn partitions(&self) -> usize {
        self.shared.partitions.len()
    }
}

impl<S, KF: Clone, K> Layer<S> for BulkheadLayer<KF, K> {
    type Service = Bulkhead<S, KF, K>;

    fn layer(&self, inner: S) -> Self::Service {
        Bulkhead {
            inner,
            key_fn: self.key_fn.clone(),
            shared: self.shared.clone(),
        }
    }
}
