//! The local cache: completed records this environment has seen, so a repeat is answered
//! without a round trip to a remote store. A completed record cannot change before it
//! expires (no claim can take a live completed key), so a cached copy is exact until then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A completed record's result and payload hash.
#[derive(Clone, Debug)]
pub(crate) struct Cached {
    pub(crate) data: Arc<str>,
    pub(crate) validation: Option<Arc<str>>,
    /// Epoch seconds.
    pub(crate) expiration: u64,
}

/// At most `max` entries behind one short lock; when full, expired entries go, then any one.
#[derive(Debug)]
pub(crate) struct LocalCache {
    map: Mutex<HashMap<Arc<str>, Cached>>,
    max: usize,
}

impl LocalCache {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            max,
        }
    }

    pub(crate) fn get(&self, id: &str, now_ms: u64) -> Option<Cached> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id)
            .filter(|c| c.expiration.saturating_mul(1000) > now_ms)
            .cloned()
    }

    pub(crate) fn insert(&self, id: Arc<str>, entry: Cached, now_ms: u64) {
        if self.max == 0 {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.max && !map.contains_key(&id) {
            map.retain(|_, c| c.expiration.saturating_mul(1000) > now_ms);
            if map.len() >= self.max {
                if let Some(k) = map.keys().next().cloned() {
                    map.remove(&k);
                }
            }
        }
        map.insert(id, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expiring() {
        let c = LocalCache::new(2);
        let e = |exp| Cached {
            data: "d".into(),
            validation: None,
            expiration: exp,
        };
        c.insert("a".into(), e(1), 0);
        c.insert("b".into(), e(10), 0);
        assert!(c.get("a", 500).is_some());
        assert!(c.get("a", 1000).is_none(), "expired");
        c.insert("c".into(), e(10), 2000);
        assert!(c.get("b", 2000).is_some() && c.get("c", 2000).is_some());
        c.insert("d".into(), e(10), 2000);
        let held = ["b", "c", "d"].iter().filter(|k| c.get(k, 2000).is_some()).count();
        assert_eq!(held, 2);
    }
}
