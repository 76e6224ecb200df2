//! [`FleetBreakerStore`]: lift-resilience's [`BreakerStore`] on the fleet table.

use std::sync::Arc;
use std::time::Duration;

use lift_resilience::circuit_breaker::{BreakerState, BreakerStore, Probe, Transition};
use lift_resilience::PartitionKey;
use tokio::sync::mpsc::error::TrySendError;

use super::backend::{epoch_ms, Backend, Write};
use super::builder::FleetBreakerStoreBuilder;
use super::cache::Cache;
use super::item::Item;
use super::writer::{self, Queue};
use crate::FleetTable;

/// Circuit-breaker state shared by a fleet through the [fleet table](FleetTable): a circuit
/// opened in one process opens in every other within the refresh interval, and half-open sends
/// trial calls from one elected process. See the [module docs](crate::breaker) for the design.
///
/// Give it to [`CircuitBreakerLayer::store`](lift_resilience::CircuitBreakerLayer::store); `K`
/// is the layer's partition key (its `Debug` output names the item).
pub struct FleetBreakerStore<K> {
    backend: Arc<Backend>,
    cache: Arc<Cache<K>>,
    queue: Queue,
}

impl<K> std::fmt::Debug for FleetBreakerStore<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetBreakerStore")
            .field("table", &self.backend.table.name())
            .field("breaker", &self.backend.breaker)
            .field("process_id", &self.backend.me)
            .finish()
    }
}

impl<K: PartitionKey> FleetBreakerStore<K> {
    /// The store of breaker `breaker` (a name unique in the table, e.g. the route's breaker
    /// `"flaky"`), with the default settings.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn new(table: FleetTable, breaker: impl Into<String>) -> Self {
        Self::builder(table, breaker).build()
    }

    /// A builder for a store with other settings.
    pub fn builder(table: FleetTable, breaker: impl Into<String>) -> FleetBreakerStoreBuilder<K> {
        FleetBreakerStoreBuilder::new(table, breaker.into())
    }

    pub(crate) fn from_builder(b: FleetBreakerStoreBuilder<K>) -> Self {
        let me = b.process_id.unwrap_or_else(|| format!("{:016x}", fastrand::u64(..)));
        let runtime = tokio::runtime::Handle::current();
        let backend = Arc::new(Backend::new(b.table, b.breaker.clone(), me, b.settings, runtime));
        let cache = Arc::new(Cache::new(b.breaker, b.max_keys));
        spawn_refresher(&backend, &cache);
        Self {
            queue: writer::spawn(backend.clone()),
            cache,
            backend,
        }
    }

    /// This process's id in probe elections.
    pub fn process_id(&self) -> &str {
        &self.backend.me
    }
}

/// Keeps every key this process has met fresh, one read per interval each, so the first call
/// after a quiet spell already knows what the fleet decided meanwhile (an on-call refresh alone
/// would let that call through on stale state). Ends when the store is dropped.
fn spawn_refresher<K: PartitionKey>(backend: &Arc<Backend>, cache: &Arc<Cache<K>>) {
    let (backend, cache) = (backend.clone(), Arc::downgrade(cache));
    // Ticks four times per interval; `refresh_if_due` still reads each key at most once per
    // interval, so what a process knows is at most an interval and a quarter old.
    let every = (backend.settings.refresh_interval / 4).max(std::time::Duration::from_millis(10));
    backend.runtime.clone().spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(cache) = cache.upgrade() else { return };
            for entry in cache.entries() {
                backend.refresh_if_due(&entry);
            }
        }
    });
}

impl<K: PartitionKey> BreakerStore<K> for FleetBreakerStore<K> {
    fn publish(&self, key: Option<&K>, transition: &Transition) {
        if transition.from_store {
            return; // the fleet already has it
        }
        let write = match (transition.to, transition.open_for) {
            (BreakerState::Open, Some(open_for)) => {
                let ms = u64::try_from(open_for.as_millis()).unwrap_or(u64::MAX);
                Write::Open(epoch_ms().saturating_add(ms))
            }
            (BreakerState::Closed, _) => Write::Closed,
            _ => return, // half-open is decided by each process; forced states stay local
        };
        let entry = self.cache.entry(key);
        if let Err(TrySendError::Full(_)) = self.queue.try_send((entry, write)) {
            self.backend.log_failure("write queue full, transition dropped");
        }
    }

    #[inline]
    fn remote_open(&self, key: Option<&K>) -> Option<Duration> {
        let until = self.cache.with(key, |entry| {
            self.backend.refresh_if_due(entry);
            entry.open_until()
        });
        if until == 0 {
            return None;
        }
        let now = epoch_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    fn probe(&self, key: Option<&K>) -> Probe {
        let entry = self.cache.entry(key);
        self.backend.refresh_if_due(&entry);
        let known = *entry.known();
        if known.unreachable() {
            return Probe::Admit; // local rules
        }
        let interval = u64::try_from(self.backend.settings.refresh_interval.as_millis()).unwrap_or(u64::MAX);
        if !known.is_fresh(self.backend.now_ms(), interval) {
            return Probe::Wait; // a read is under way (bounded by the call timeout)
        }
        match known.item {
            Item::Unknown => Probe::Wait,
            Item::Absent => Probe::Admit, // the fleet shares nothing about it: local rules
            Item::Present(shared) => {
                let now = epoch_ms();
                if shared.open_until == 0 {
                    return Probe::Closed;
                }
                if shared.open_until > now {
                    return Probe::Open(Duration::from_millis(shared.open_until - now));
                }
                match shared.probe {
                    Some(lease) if lease.until > now && lease.mine => Probe::Admit,
                    Some(lease) if lease.until > now => Probe::Wait,
                    _ => {
                        self.backend.elect(&entry);
                        Probe::Wait
                    }
                }
            }
        }
    }

    fn is_shared(&self) -> bool {
        true
    }
}
