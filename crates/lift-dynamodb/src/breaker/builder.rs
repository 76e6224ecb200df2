//! How a [`FleetBreakerStore`] is configured.

use std::marker::PhantomData;
use std::time::Duration;

use super::backend::Settings;
use super::FleetBreakerStore;
use crate::FleetTable;

/// Builds a [`FleetBreakerStore`]; every setting has a default.
#[derive(Debug, Clone)]
pub struct FleetBreakerStoreBuilder<K> {
    pub(crate) table: FleetTable,
    pub(crate) breaker: String,
    pub(crate) settings: Settings,
    pub(crate) process_id: Option<String>,
    pub(crate) max_keys: usize,
    pub(crate) key: PhantomData<fn() -> K>,
}

impl<K> FleetBreakerStoreBuilder<K> {
    pub(crate) fn new(table: FleetTable, breaker: String) -> Self {
        Self {
            table,
            breaker,
            settings: Settings {
                refresh_interval: Duration::from_secs(1),
                call_timeout: Duration::from_millis(500),
                probe_lease: Duration::from_secs(10),
                expiry_margin: Duration::from_secs(600),
            },
            process_id: None,
            max_keys: 10_000,
            key: PhantomData,
        }
    }

    /// How often a key's shared state is read at most (default 1 s): the delay before a
    /// circuit opened elsewhere opens here, and the read cost of a closed breaker.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.settings.refresh_interval = interval;
        self
    }

    /// Bound of every DynamoDB call (default 500 ms); a call past it counts as a failure and
    /// local state applies.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.settings.call_timeout = timeout;
        self
    }

    /// How long an elected probe holds its election (default 10 s): if its verdict has not
    /// been published by then (the process died), another process is elected. Keep it above
    /// the time a trial call can take (its timeout).
    pub fn probe_lease(mut self, lease: Duration) -> Self {
        self.settings.probe_lease = lease;
        self
    }

    /// How long an item outlives its open period (default 10 min) before it counts as absent
    /// and TTL may remove it.
    pub fn expiry_margin(mut self, margin: Duration) -> Self {
        self.settings.expiry_margin = margin;
        self
    }

    /// This process's id in probe elections (default: random, fresh per store). Two stores
    /// that share an id are one process to the fleet.
    pub fn process_id(mut self, id: impl Into<String>) -> Self {
        self.process_id = Some(id.into());
        self
    }

    /// Keys whose state is cached (default 10 000); past that the cache starts over.
    pub fn max_keys(mut self, n: usize) -> Self {
        self.max_keys = n.max(1);
        self
    }
}

impl<K: lift_resilience::PartitionKey> FleetBreakerStoreBuilder<K> {
    /// The store; its background writer runs on the current Tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn build(self) -> FleetBreakerStore<K> {
        FleetBreakerStore::from_builder(self)
    }
}
