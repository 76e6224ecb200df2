//! What one environment remembers between calls: known denials and the previous windows'
//! counts, per hashed key, for at most `max_keys` keys.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Per limit of a key.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Epoch ms until which this limit denies the key without asking the table (0: unknown).
    deny_until: u64,
    /// End of the window that denial is in (for `reset`).
    deny_window_end: u64,
    /// The previous window's start and final count (sliding windows).
    prev: Option<(u64, u64)>,
    /// Epoch ms after which this slot holds nothing useful.
    useful_until: u64,
}

/// A denial known locally: which limit, until when, and its window's end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KnownDenial {
    pub(crate) limit: usize,
    pub(crate) until: u64,
    pub(crate) window_end: u64,
}

/// Bounded map from hashed key to its slots (one per limit). One short lock per lookup: the
/// alternative it saves is a network round trip. When full, entries with nothing useful left
/// are dropped; if none can be, the new key is simply not remembered (it costs round trips,
/// never memory).
#[derive(Debug)]
pub(crate) struct LocalState {
    map: Mutex<HashMap<String, Box<[Slot]>>>,
    /// The latest `deny_until` ever recorded: past it, no denial is in force for any key, and
    /// a lookup costs one atomic load (no hashing, no lock).
    latest_denial: AtomicU64,
    limits: usize,
    max_keys: usize,
}

impl LocalState {
    pub(crate) fn new(limits: usize, max_keys: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            latest_denial: AtomicU64::new(0),
            limits,
            max_keys: max_keys.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Box<[Slot]>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any key may be denied at `now` (if not, [`denied`](Self::denied) is `None` for
    /// every key).
    #[inline]
    pub(crate) fn may_deny(&self, now: u64) -> bool {
        self.latest_denial.load(Ordering::Relaxed) > now
    }

    /// A denial of `key` still in force at `now`, if any.
    pub(crate) fn denied(&self, key: &str, now: u64) -> Option<KnownDenial> {
        if !self.may_deny(now) {
            return None;
        }
        let map = self.lock();
        let slots = map.get(key)?;
        slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.deny_until > now)
            .max_by_key(|(_, s)| s.deny_until)
            .map(|(limit, s)| KnownDenial {
                limit,
                until: s.deny_until,
                window_end: s.deny_window_end,
            })
    }

    /// Remember that `limit` denies `key` until `until`.
    pub(crate) fn deny(&self, key: &str, limit: usize, until: u64, window_end: u64, now: u64) {
        self.latest_denial.fetch_max(until, Ordering::Relaxed);
        self.update(key, limit, now, |s| {
            s.deny_until = until;
            s.deny_window_end = window_end;
            s.useful_until = s.useful_until.max(until);
        });
    }

    /// The previous window's count for `key` and `limit`, if read during this window.
    pub(crate) fn prev(&self, key: &str, limit: usize, prev_start: u64) -> Option<u64> {
        let map = self.lock();
        match map.get(key)?.get(limit)?.prev {
            Some((start, count)) if start == prev_start => Some(count),
            _ => None,
        }
    }

    /// Remember the previous window's count until the current window (`until`) ends.
    pub(crate) fn set_prev(&self, key: &str, limit: usize, prev_start: u64, count: u64, until: u64, now: u64) {
        self.update(key, limit, now, |s| {
            s.prev = Some((prev_start, count));
            s.useful_until = s.useful_until.max(until);
        });
    }

    /// Number of keys remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn update(&self, key: &str, limit: usize, now: u64, f: impl FnOnce(&mut Slot)) {
        let mut map = self.lock();
        if let Some(slots) = map.get_mut(key) {
            if let Some(s) = slots.get_mut(limit) {
                f(s);
            }
            return;
        }
        if map.len() >= self.max_keys {
            map.retain(|_, slots| slots.iter().any(|s| s.useful_until > now));
            if map.len() >= self.max_keys {
                return;
            }
        }
        let mut slots = vec![Slot::default(); self.limits].into_boxed_slice();
        if let Some(s) = slots.get_mut(limit) {
            f(s);
        }
        map.insert(key.to_owned(), slots);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_drops_what_is_no_longer_useful_and_never_grows_past_its_bound() {
        let local = LocalState::new(1, 2);
        assert!(!local.may_deny(0));
        local.deny("a", 0, 1_000, 1_000, 0);
        assert!(local.may_deny(999) && !local.may_deny(1_000));
        local.deny("b", 0, 5_000, 5_000, 0);
        // Full, nothing expired: "c" is not remembered.
        local.deny("c", 0, 5_000, 5_000, 10);
        assert_eq!(local.len(), 2);
        assert!(local.denied("c", 10).is_none());
        // "a"'s denial ended: it makes room.
        local.deny("c", 0, 5_000, 5_000, 2_000);
        assert_eq!(local.len(), 2);
        assert_eq!(local.denied("c", 2_000).map(|d| d.until), Some(5_000));
        assert!(local.denied("b", 5_000).is_none());
    }
}
