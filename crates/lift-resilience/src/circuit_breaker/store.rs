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
}

/// Where breaker state is shared beyond this process (a fleet of Lambda instances).
///
/// The state machine itself is local and lock-light; a store shares its transitions:
/// [`publish`](BreakerStore::publish) is told of every transition (it must not block: a remote
/// store queues the write, e.g. a DynamoDB conditional update from a background task), and
/// [`remote_open`](BreakerStore::remote_open) is asked, for a closed partition, whether the
/// fleet has it open — answered from a cache the store refreshes itself. When the fleet says
/// open, the local breaker opens for the remaining time, so a fleet opens together.
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

    /// Whether [`remote_open`](BreakerStore::remote_open) can ever answer `Some`; when false
    /// (the default) it is never called on the hot path.
    fn is_shared(&self) -> bool {
        false
    }
}

/// Process-local state only (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStore;

impl<K: Debug> BreakerStore<K> for LocalStore {}
