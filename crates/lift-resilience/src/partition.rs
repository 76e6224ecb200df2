//! A bounded, sharded map from partition key to partition state.
//!
//! * Zero-sized keys (such as `()` from [`Global`](crate::key::Global)) skip the map: one
//!   pre-built partition, no lock, no hashing.
//! * Other keys: 16 shards, each a `std::sync::RwLock<HashMap>`. A lookup of an existing key
//!   takes one shard's read lock (an uncontended atomic add), hashes the key and clones an
//!   `Arc`. The write lock is taken only to insert a new key.
//! * The number of keys never exceeds `max_keys`: a slot is reserved with an atomic counter
//!   before inserting. When the map is full, idle partitions (no call in flight, state
//!   equivalent to a fresh one) are evicted, at most once per second; if none is idle, the new
//!   key shares a single overflow partition (its events report the key as `"<overflow>"`).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;

const SHARDS: usize = 16;
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Partition state that can tell whether it may be evicted.
pub(crate) trait Evictable {
    /// True when dropping this partition and re-creating it later loses nothing observable.
    /// Only called while no one but the map holds the partition.
    fn is_idle(&self, now: Instant) -> bool;
}

type Shard<K, V> = RwLock<HashMap<K, Arc<V>>>;
type Make<K, V> = Box<dyn Fn(Option<&K>) -> V + Send + Sync>;

pub(crate) struct Partitions<K, V> {
    single: Option<Arc<V>>,
    shards: Box<[Shard<K, V>]>,
    hasher: RandomState,
    len: AtomicUsize,
    max_keys: usize,
    overflow: Arc<V>,
    base: Instant,
    last_sweep_ms: AtomicU64,
    make: Make<K, V>,
}

impl<K, V> Partitions<K, V>
where
    K: Hash + Eq + Clone,
    V: Evictable,
{
    pub(crate) fn new(max_keys: usize, make: impl Fn(Option<&K>) -> V + Send + Sync + 'static) -> Self {
        let single = if std::mem::size_of::<K>() == 0 {
            Some(Arc::new(make(None)))
        } else {
            None
        };
        let overflow = Arc::new(make(None));
        Self {
            single,
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            len: AtomicUsize::new(0),
            max_keys: max_keys.max(1),
            overflow,
            base: Instant::now(),
            last_sweep_ms: AtomicU64::new(0),
            make: Box::new(make),
        }
    }

    /// Number of keys held (the overflow partition and the zero-sized-key partition excluded).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// The partition of `key`, if it exists (no insertion).
    pub(crate) fn peek(&self, key: &K) -> Option<Arc<V>> {
        if let Some(single) = &self.single {
            return Some(single.clone());
        }
        let shard = &self.shards[self.shard_of(key)];
        let map = shard.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    #[inline]
    fn shard_of(&self, key: &K) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    /// The partition of `key`, created if needed.
    #[inline]
    pub(crate) fn get(&self, key: &K) -> Arc<V> {
        if let Some(single) = &self.single {
            return single.clone();
        }
        let idx = self.shard_of(key);
        {
            let map = self.shards[idx].read().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = map.get(key) {
                return v.clone();
            }
        }
        self.insert_slow(idx, key)
    }

    #[cold]
    fn insert_slow(&self, idx: usize, key: &K) -> Arc<V> {
        if !self.reserve() {
            self.sweep();
            if !self.reserve() {
                return self.overflow.clone();
            }
        }
        let mut map = self.shards[idx].write().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = map.get(key) {
            // Someone inserted it meanwhile: give the reserved slot back.
            self.len.fetch_sub(1, Ordering::AcqRel);
            return v.clone();
        }
        let v = Arc::new((self.make)(Some(key)));
        map.insert(key.clone(), v.clone());
        v
    }

    fn reserve(&self) -> bool {
        self.len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_keys).then_some(n + 1)
            })
            .is_ok()
    }

    /// Evict idle partitions, at most once per [`SWEEP_EVERY`]. One shard lock at a time.
    fn sweep(&self) {
        let now = Instant::now();
        let now_ms = now.duration_since(self.base).as_millis() as u64 + 1;
        let last = self.last_sweep_ms.load(Ordering::Acquire);
        if last != 0 && now_ms.saturating_sub(last) < SWEEP_EVERY.as_millis() as u64 {
            return;
        }
        if self
            .last_sweep_ms
            .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        for shard in self.shards.iter() {
            let mut map = shard.write().unwrap_or_else(|e| e.into_inner());
            let before = map.len();
            map.retain(|_, v| Arc::strong_count(v) > 1 || !v.is_idle(now));
            let removed = before - map.len();
            if removed > 0 {
                self.len.fetch_sub(removed, Ordering::AcqRel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    struct Cell(AtomicBool);
    impl Evictable for Cell {
        fn is_idle(&self, _now: Instant) -> bool {
            self.0.load(Ordering::Relaxed)
        }
    }

    #[test]
    fn zero_sized_keys_share_one_partition() {
        let p: Partitions<(), Cell> = Partitions::new(4, |_| Cell(AtomicBool::new(false)));
        assert!(Arc::ptr_eq(&p.get(&()), &p.get(&())));
        assert_eq!(p.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn bound_overflow_and_eviction() {
        let p: Partitions<u32, Cell> = Partitions::new(3, |_| Cell(AtomicBool::new(false)));
        let a = p.get(&1);
        assert!(Arc::ptr_eq(&a, &p.get(&1)));
        p.get(&2);
        p.get(&3);
        assert_eq!(p.len(), 3);
        // Full, nothing idle: the 4th key gets the overflow partition.
        let o = p.get(&4);
        assert!(Arc::ptr_eq(&o, &p.get(&5)));
        assert_eq!(p.len(), 3);
        // Mark key 2 idle: after the sweep interval, a new key takes its place.
        if let Some(c) = p.peek(&2) {
            c.0.store(true, Ordering::Relaxed);
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        let six = p.get(&6);
        assert!(!Arc::ptr_eq(&six, &o));
        assert_eq!(p.len(), 3);
        assert!(p.peek(&2).is_none());
        // A held partition is never evicted even if idle.
        a.0.store(true, Ordering::Relaxed);
        tokio::time::advance(Duration::from_secs(2)).await;
        p.get(&7);
        assert!(Arc::ptr_eq(&a, &p.get(&1)));
    }
}
