use std::future::{Future, Ready};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;
use tower::BoxError;

use super::Decision;
use crate::partition::{Evictable, Partitions};
use crate::PartitionKey;

/// Where rate-limit state lives. [`LocalStore`] keeps it in memory (GCRA through `governor`);
/// a distributed store (DynamoDB, atomic conditional writes) implements the same trait.
pub trait RateLimitStore<K>: Send + Sync + 'static {
    /// Future of an asynchronous check.
    type Future: Future<Output = Result<Decision, BoxError>> + Send + 'static;

    /// Take one cell for `key` (or tell why not).
    fn check(&self, key: &K) -> Self::Future;

    /// [`check`](RateLimitStore::check) for a call that must be done by `deadline` (the
    /// invocation's, when the layer is told where to find it: see
    /// [`RateLimitLayer::request_deadline`](super::RateLimitLayer::request_deadline)). A remote
    /// store bounds its call by it; the default ignores it.
    fn check_within(&self, key: &K, deadline: Option<tokio::time::Instant>) -> Self::Future {
        let _ = deadline;
        self.check(key)
    }

    /// A synchronous answer when the store has one (local stores always do). When it returns
    /// `Some`, [`check`](RateLimitStore::check) is not called and the call proceeds without
    /// waiting.
    fn try_check(&self, key: &K) -> Option<Result<Decision, BoxError>> {
        let _ = key;
        None
    }
}

/// A governor clock on tokio's clock (so tokio's paused clock drives it in tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    /// Inside a layer's `call`, the reading shared by the layers of that call.
    fn now(&self) -> std::time::Instant {
        crate::clock::now().into_std()
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, StateInformationMiddleware>;

pub(crate) struct Cell {
    limiter: Limiter,
    base: Instant,
    last_ms: AtomicU64,
    full_after: Duration,
}

impl Evictable for Cell {
    fn is_idle(&self, now: Instant) -> bool {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        now.saturating_duration_since(self.base) >= last + self.full_after
    }
}

/// In-memory GCRA per key (one `governor` direct limiter per key, lock-free), with a bound on
/// the number of keys. Keys idle long enough to have their quota fully restored are evicted
/// when the bound is reached; keys beyond the bound share one overflow limiter.
pub struct LocalStore<K> {
    quota: Quota,
    partitions: Partitions<K, Cell>,
}

impl<K> std::fmt::Debug for LocalStore<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore").field("quota", &self.quota).finish()
    }
}

impl<K: PartitionKey> LocalStore<K> {
    /// A store granting each key `quota`, holding at most `max_keys` keys.
    pub fn new(quota: Quota, max_keys: usize) -> Self {
        let base = Instant::now();
        let full_after = quota.replenish_interval().saturating_mul(quota.burst_size().get());
        Self {
            quota,
            partitions: Partitions::new(max_keys, move |_k: Option<&K>| Cell {
                limiter: RateLimiter::direct_with_clock(quota, TokioClock)
                    .with_middleware::<StateInformationMiddleware>(),
                base,
                last_ms: AtomicU64::new(0),
                full_after,
            }),
        }
    }

    /// Number of keys held (overflow excluded).
    pub fn keys(&self) -> usize {
        self.partitions.len()
    }

    /// The quota.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    #[inline]
    fn decide(&self, key: &K) -> Decision {
        let cell = self.partitions.get(key);
        let limit = self.quota.burst_size().get();
        let interval = self.quota.replenish_interval();
        match cell.limiter.check() {
            Ok(snapshot) => {
                if std::mem::size_of::<K>() != 0 {
                    // Only keyed stores evict (the global one has a single partition).
                    let now = crate::clock::now();
                    cell.last_ms.store(
                        now.saturating_duration_since(cell.base).as_millis() as u64,
                        Ordering::Relaxed,
                    );
                }
                let remaining = snapshot.remaining_burst_capacity();
                let reset = interval.saturating_mul(limit.saturating_sub(remaining));
                Decision::new(true, limit, remaining, reset, None)
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(TokioClock.now());
                let reset = wait + interval.saturating_mul(limit.saturating_sub(1));
                Decision::new(false, limit, 0, reset, Some(wait))
            }
        }
    }
}

impl<K: PartitionKey> RateLimitStore<K> for LocalStore<K> {
    type Future = Ready<Result<Decision, BoxError>>;

    fn check(&self, key: &K) -> Self::Future {
        std::future::ready(Ok(self.decide(key)))
    }

    #[inline]
    fn try_check(&self, key: &K) -> Option<Result<Decision, BoxError>> {
        Some(Ok(self.decide(key)))
    }
}

/// `n` requests per second, as a burst of `n` refilled evenly over a second.
pub fn per_second(n: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}
