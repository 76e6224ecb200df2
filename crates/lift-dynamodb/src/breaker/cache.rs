//! What this process knows of each breaker item, and when it next asks.
//!
//! The hot path (`remote_open` of a closed breaker) reads two atomics of the key's entry after a
//! read-locked map lookup; everything else (half-open decisions, updates from the background
//! tasks) takes the entry's mutex.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use super::item::{item_id, Item};

/// One breaker item as this process knows it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) id: String,
    /// Mirror of the item's `open_until` (epoch ms, `0` when not open) for the hot path.
    open_until: AtomicU64,
    /// When the next read is due (ms on the store's monotonic clock).
    due: AtomicU64,
    /// A read is in flight (at most one per key).
    pub(crate) reading: AtomicBool,
    /// An election is in flight (at most one per key).
    pub(crate) electing: AtomicBool,
    known: Mutex<Known>,
}

/// The last answer, and how many calls about this item have failed since.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known {
    pub(crate) item: Item,
    /// When the call that gave `item` was sent (ms on the store's monotonic clock).
    pub(crate) as_of: Option<u64>,
    /// Consecutive calls without an answer (reset by an answer).
    pub(crate) failures: u32,
}

/// Failed calls in a row after which a half-open breaker follows local rules. One slow answer
/// (a loaded server past the call timeout) must not let a second process probe; a store that
/// stays away for an interval (reads are an interval apart) must not keep the breaker shut.
pub(crate) const FALLBACK_AFTER: u32 = 2;

impl Known {
    /// The store is considered unreachable: local rules apply.
    pub(crate) fn unreachable(&self) -> bool {
        self.failures >= FALLBACK_AFTER
    }

    /// Whether `item` is less than `interval` ms old at `now`: a half-open decision needs that
    /// (an open breaker reads nothing, so its cache may be as old as its open period).
    pub(crate) fn is_fresh(&self, now: u64, interval: u64) -> bool {
        self.as_of.is_some_and(|t| now < t.saturating_add(interval))
    }
}

impl Entry {
    fn new(id: String) -> Self {
        Self {
            id,
            open_until: AtomicU64::new(0),
            due: AtomicU64::new(0),
            reading: AtomicBool::new(false),
            electing: AtomicBool::new(false),
            known: Mutex::new(Known {
                item: Item::Unknown,
                as_of: None,
                failures: 0,
            }),
        }
    }

    pub(crate) fn known(&self) -> MutexGuard<'_, Known> {
        // Only plain values are written under this lock: a poisoned one is still consistent.
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shared open period's end (epoch ms), `0` if none is known.
    #[inline]
    pub(crate) fn open_until(&self) -> u64 {
        self.open_until.load(Ordering::Acquire)
    }

    /// Whether a read is due at `now` (monotonic ms).
    #[inline]
    pub(crate) fn is_due(&self, now: u64) -> bool {
        now >= self.due.load(Ordering::Relaxed)
    }

    /// The next read is due at `at` (monotonic ms).
    pub(crate) fn set_due(&self, at: u64) {
        self.due.store(at, Ordering::Relaxed);
    }

    /// Record an answer of the store to a call sent at `sent` (monotonic ms). An answer to an
    /// older call than the one known (a read that crossed a write) is dropped.
    pub(crate) fn learn(&self, item: Item, sent: u64) {
        let mut known = self.known();
        if known.as_of.is_some_and(|t| sent < t) {
            return;
        }
        known.item = item;
        known.as_of = Some(sent);
        known.failures = 0;
        let until = match item {
            Item::Present(shared) => shared.open_until,
            _ => 0,
        };
        self.open_until.store(until, Ordering::Release);
    }

    /// Record that the store did not answer.
    pub(crate) fn fail(&self) {
        let mut known = self.known();
        known.failures = known.failures.saturating_add(1);
    }
}

/// Entries by key, bounded: past `max` keys the map is emptied (the entries in use by a
/// background task stay alive in it), so hostile keys cannot grow it without bound.
pub(crate) struct Cache<K> {
    breaker: String,
    max: usize,
    overflow: OnceLock<Arc<Entry>>,
    keys: RwLock<HashMap<K, Arc<Entry>>>,
}

impl<K: Hash + Eq + Clone + std::fmt::Debug> Cache<K> {
    pub(crate) fn new(breaker: String, max: usize) -> Self {
        Self {
            breaker,
            max,
            overflow: OnceLock::new(),
            keys: RwLock::new(HashMap::new()),
        }
    }

    /// `f` of the entry of `key` (`None`: the overflow partition), created on first use. A
    /// known key costs a read-locked lookup (the hot path: no clone, no allocation).
    #[inline]
    pub(crate) fn with<R>(&self, key: Option<&K>, f: impl FnOnce(&Arc<Entry>) -> R) -> R {
        let Some(key) = key else {
            return f(self
                .overflow
                .get_or_init(|| Arc::new(Entry::new(item_id::<K>(&self.breaker, None)))));
        };
        if let Some(e) = self.keys.read().unwrap_or_else(|e| e.into_inner()).get(key) {
            return f(e);
        }
        let entry = {
            let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
            if keys.len() >= self.max && !keys.contains_key(key) {
                keys.clear();
            }
            keys.entry(key.clone())
                .or_insert_with(|| Arc::new(Entry::new(item_id(&self.breaker, Some(key)))))
                .clone()
        };
        f(&entry)
    }

    /// The entry of `key`, created on first use.
    pub(crate) fn entry(&self, key: Option<&K>) -> Arc<Entry> {
        self.with(key, Arc::clone)
    }

    /// Every entry met so far (a snapshot).
    pub(crate) fn entries(&self) -> Vec<Arc<Entry>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.values().chain(self.overflow.get()).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_and_keeps_one_entry_per_key() {
        let cache: Cache<u32> = Cache::new("b".into(), 3);
        let first = cache.entry(Some(&1));
        assert!(Arc::ptr_eq(&first, &cache.entry(Some(&1))));
        for k in 0..10 {
            cache.entry(Some(&k));
        }
        assert!(cache.keys.read().unwrap().len() <= 3);
        assert_ne!(cache.entry(None).id, cache.entry(Some(&1)).id);
    }

    #[test]
    fn one_failed_call_keeps_the_fleet_rules_two_in_a_row_fall_back_and_an_answer_restores() {
        let entry = Entry::new("cb#b#x".into());
        entry.fail();
        assert!(
            !entry.known().unreachable(),
            "one slow answer must not let this process probe"
        );
        entry.fail();
        assert!(entry.known().unreachable());
        entry.learn(Item::Absent, 10);
        assert!(!entry.known().unreachable());
    }

    #[test]
    fn an_answer_to_an_older_call_does_not_overwrite_a_newer_one_and_ages() {
        let entry = Entry::new("cb#b#x".into());
        let open = Item::Present(super::super::item::Shared {
            open_until: 5,
            probe: None,
        });
        entry.learn(open, 20); // a write sent at 20
        entry.learn(Item::Absent, 10); // a read sent at 10, answered later
        assert_eq!(entry.known().item, open);
        assert_eq!(entry.open_until(), 5);
        assert!(entry.known().is_fresh(1019, 1000));
        assert!(!entry.known().is_fresh(1020, 1000));
    }
}
