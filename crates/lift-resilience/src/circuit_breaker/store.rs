use std::fmt::Debug;
use std::time::Duration;

use super::BreakerState;

/// A state change of one partition, as published to a [`BreakerStore`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Transition {
    /// State before.
    pub from: BreakerState,
    /// State after.
    pub to: BreakerState,
    /// For `to == Open`: how long it stays open.
    pub open_for: Option<Duration>,
    /// The transition was learned from the store ([`BreakerStore::remote_open`] or
    /// [`BreakerStore::probe`]), not decided here: a store does not write it back.
    pub from_store: bool,
}

/// What a half-open partition of a shared breaker may do, as the store knows it
/// ([`BreakerStore::probe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Probe {
    /// Admit trial calls (this process holds the fleet's probe, or the store knows nothing and
    /// local rules apply).
    Admit,
    /// Another process probes (or the election is under way): reject, stay half-open.
    Wait,
    /// The fleet's probe succeeded: close without a trial call.
    Closed,
    /// The fleet is open again for this long: open without a trial call.
    Open(Duration),
}

/// Where breaker state is shared beyond this process (a fleet of Lambda instances).
///
/// The state machine itself is local and lock-light; a store shares its transitions:
/// [`publish`](BreakerStore::publish) is told of every transition (it must not block: a remote
/// store queues the write, e.g. a DynamoDB conditional update from a background task), and
/// [`remote_open`](BreakerStore::remote_open) is asked, for a closed partition, whether the
/// fleet has it open — answered from a cache the store refreshes itself. When the fleet says
/// open, the local breaker opens for the remaining time, so a fleet opens together. When the
/// open period ends, [`probe`](BreakerStore::probe) lets the fleet elect the one process that
/// sends trial calls; the others wait for its verdict.
///
/// `key` is `None` for the shared overflow partition.
pub trait BreakerStore<K>: Send + Sync + 'static {
    /// A local transition happened.
    fn publish(&self, key: Option<&K>, transition: &Transition) {
        let _ = (key, transition);
    }

    /// If the fleet has this partition open: for how much longer.
    fn remote_open(&self, key: Option<&K>) -> Option<Duration> {
        let _ = key;
        None
    }

    /// Asked by a half-open partition before it admits a trial call, when
    /// [`is_shared`](BreakerStore::is_shared). Must not block: answered from the store's cache
    /// (a store may start an election in the background and answer [`Probe::Wait`] until it
    /// knows the result). The default admits, as a local breaker does.
    fn probe(&self, key: Option<&K>) -> Probe {
        let _ = key;
        Probe::Admit
    }

    /// Whether [`remote_open`](BreakerStore::remote_open) can ever answer `Some` and
    /// [`probe`](BreakerStore::probe) anything but `Admit`; when false (the default) neither is
    /// called, so a local breaker's hot path is unchanged.
    fn is_shared(&self) -> bool {
        false
    }
}

/// Process-local state only (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStore;

impl<K: Debug> BreakerStore<K> for LocalStore {}

/// A shared store, e.g. `Arc<dyn BreakerStore<K>>` to choose local or fleet state at start
/// (`CircuitBreakerLayer<.., Arc<dyn BreakerStore<K>>>` is one type either way).
impl<K, S: BreakerStore<K> + ?Sized> BreakerStore<K> for std::sync::Arc<S> {
    fn publish(&self, key: Option<&K>, transition: &Transition) {
        (**self).publish(key, transition);
    }

    fn remote_open(&self, key: Option<&K>) -> Option<Duration> {
        (**self).remote_open(key)
    }

    fn probe(&self, key: Option<&K>) -> Probe {
        (**self).probe(key)
    }

    fn is_shared(&self) -> bool {
        (**self).is_shared()
    }
}
