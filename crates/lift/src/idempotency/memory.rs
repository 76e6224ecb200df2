//! [`MemoryStore`]: idempotency records in this process (the embedded default), bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::store::{ClaimOutcome, ClaimRequest, Completion, IdempotencyStore, Record, Status, StoreError, StoreFuture};

/// The default number of records kept.
pub const DEFAULT_MAX_RECORDS: usize = 10_000;

/// Records in a map behind one short lock, at most `max_records` of them. When full, stale
/// records go first, then the tenth of the completed records closest to expiry (a repeat of
/// one of those would run again: the bound is on memory, documented); claims in progress are never evicted, and a
/// claim that finds the map full of them fails with [`StoreError::Full`] (503, nothing runs).
#[derive(Debug)]
pub struct MemoryStore {
    records: Mutex<HashMap<Arc<str>, Record>>,
    max_records: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_RECORDS)
    }
}

impl MemoryStore {
    /// A store holding at most `max_records` records (at least one).
    pub fn new(max_records: usize) -> Self {
        Self {
            records: Mutex::new(HashMap::new()),
            max_records: max_records.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The record under `id`, stale or not (for tests and inspection).
    pub fn get(&self, id: &str) -> Option<Record> {
        self.lock().get(id).cloned()
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn claim_now(&self, req: ClaimRequest) -> Result<ClaimOutcome, StoreError> {
        let mut map = self.lock();
        if let Some(existing) = map.get(&req.id) {
            if !existing.is_stale(req.now_ms) {
                return Ok(ClaimOutcome::Held(existing.clone()));
            }
        } else if map.len() >= self.max_records {
            make_room(&mut map, req.now_ms);
            if map.len() >= self.max_records {
                return Err(StoreError::Full);
            }
        }
        map.insert(
            req.id,
            Record {
                status: Status::InProgress,
                expiration: req.expiration,
                in_progress_expiration: Some(req.in_progress_expiration),
                data: None,
                validation: req.validation,
                claim: Some(req.token),
            },
        );
        Ok(ClaimOutcome::Claimed)
    }

    fn complete_now(&self, c: Completion) -> Result<(), StoreError> {
        let mut map = self.lock();
        match map.get_mut(&c.id) {
            Some(r) if r.status == Status::InProgress && r.claim.as_deref() == Some(&*c.token) => {
                *r = Record {
                    status: Status::Completed,
                    expiration: c.expiration,
                    in_progress_expiration: r.in_progress_expiration,
                    data: Some(c.data),
                    validation: c.validation,
                    claim: Some(c.token),
                };
                Ok(())
            }
            _ => Err(StoreError::ClaimLost),
        }
    }

    fn release_now(&self, id: &str, token: &str) {
        let mut map = self.lock();
        if map
            .get(id)
            .is_some_and(|r| r.status == Status::InProgress && r.claim.as_deref() == Some(token))
        {
            map.remove(id);
        }
    }
}

/// Drops every stale record; if none was, the tenth of the completed records expiring first
/// (at least one), so a full store pays one scan per tenth of its size, not one per claim.
fn make_room(map: &mut HashMap<Arc<str>, Record>, now_ms: u64) {
    let before = map.len();
    map.retain(|_, r| !r.is_stale(now_ms));
    if map.len() < before {
        return;
    }
    let mut completed: Vec<(u64, Arc<str>)> = map
        .iter()
        .filter(|(_, r)| r.status == Status::Completed)
        .map(|(k, r)| (r.expiration, k.clone()))
        .collect();
    if completed.is_empty() {
        return;
    }
    let evict = (before / 10).clamp(1, completed.len());
    if evict < completed.len() {
        completed.select_nth_unstable_by_key(evict - 1, |(exp, _)| *exp);
    }
    for (_, k) in completed.into_iter().take(evict) {
        map.remove(&k);
    }
}

impl IdempotencyStore for MemoryStore {
    fn claim(&self, request: ClaimRequest) -> StoreFuture<'_, ClaimOutcome> {
        let r = self.claim_now(request);
        Box::pin(std::future::ready(r))
    }

    fn complete(&self, completion: Completion) -> StoreFuture<'_, ()> {
        let r = self.complete_now(completion);
        Box::pin(std::future::ready(r))
    }

    fn release(&self, id: Arc<str>, token: Arc<str>) -> StoreFuture<'_, ()> {
        self.release_now(&id, &token);
        Box::pin(std::future::ready(Ok(())))
    }

    fn is_local(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(id: &str, token: &str, now_ms: u64) -> ClaimRequest {
        ClaimRequest {
            id: id.into(),
            token: token.into(),
            validation: None,
            expiration: now_ms / 1000 + 3600,
            in_progress_expiration: now_ms + 1000,
            now_ms,
        }
    }

    #[test]
    fn claims_complete_release_and_go_stale() {
        let s = MemoryStore::new(10);
        assert_eq!(s.claim_now(claim("a", "t1", 0)).ok(), Some(ClaimOutcome::Claimed));
        assert!(matches!(s.claim_now(claim("a", "t2", 10)), Ok(ClaimOutcome::Held(_))));
        // Past its in-progress expiration, another claim takes the key...
        assert_eq!(s.claim_now(claim("a", "t2", 1000)).ok(), Some(ClaimOutcome::Claimed));
        // ...and the first holder can neither complete nor release it.
        let done = |token: &str| Completion {
            id: "a".into(),
            token: token.into(),
            data: "x".into(),
            validation: None,
            expiration: 3601,
        };
        assert!(matches!(s.complete_now(done("t1")), Err(StoreError::ClaimLost)));
        s.release_now("a", "t1");
        assert_eq!(s.get("a").and_then(|r| r.claim).as_deref(), Some("t2"));
        assert!(s.complete_now(done("t2")).is_ok());
        assert_eq!(s.get("a").map(|r| r.status), Some(Status::Completed));
        s.release_now("a", "t2");
        assert!(s.get("a").is_some(), "a completed record is not released");
    }

    #[test]
    fn bounded_it_evicts_stale_then_oldest_completed_never_claims_in_progress() {
        let s = MemoryStore::new(2);
        assert!(s.claim_now(claim("a", "t", 0)).is_ok());
        assert!(s.claim_now(claim("b", "t", 900)).is_ok());
        assert!(matches!(s.claim_now(claim("c", "t", 950)), Err(StoreError::Full)));
        // `a` goes stale at 1000 ms: room is made.
        assert!(s.claim_now(claim("c", "t", 1500)).is_ok());
        assert_eq!(s.len(), 2);
        assert!(s.get("a").is_none());
    }

    #[test]
    fn full_of_completed_records_it_evicts_the_oldest_tenth_at_once() {
        let s = MemoryStore::new(20);
        for i in 0..20u64 {
            let id = format!("k{i}");
            let mut c = claim(&id, "t", 0);
            c.expiration = 100 + i;
            assert!(s.claim_now(c).is_ok());
            let done = Completion {
                id: id.as_str().into(),
                token: "t".into(),
                data: "d".into(),
                validation: None,
                expiration: 100 + i,
            };
            assert!(s.complete_now(done).is_ok());
        }
        assert!(s.claim_now(claim("new", "t", 10)).is_ok());
        assert_eq!(s.len(), 19, "two evicted, one added");
        assert!(s.get("k0").is_none() && s.get("k1").is_none() && s.get("k2").is_some());
    }
}
