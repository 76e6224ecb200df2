use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::Client;
use lift_resilience::rate_limit::{Decision, RateLimitStore, StoreKey};
use lift_resilience::{BoxError, PartitionKey};
use tokio::time::Instant;

use super::limit::{sliding_cap, sliding_wait, window_of};
use super::local::LocalState;
use super::table_ops::{increment, read_count};
use super::{Limit, StoreError, Window};
use crate::{hash_key, FleetTable};

/// The default bound on one check's calls to the table.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
/// The default number of keys whose denials and previous counts one environment remembers.
pub const DEFAULT_MAX_KEYS: usize = 10_000;

/// Epoch milliseconds now, from the system clock (the default clock).
pub fn system_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A rate-limit store on the fleet table: every process sharing the table shares the limits.
/// See the [module docs](super) for the design. Give it to
/// `RateLimitLayer::with_store(key_fn, store)`.
pub struct DynamoRateLimitStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DynamoRateLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoRateLimitStore")
            .field("table", &self.inner.table)
            .field("name", &self.inner.name)
            .field("limits", &self.inner.limits)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

struct Inner {
    client: Client,
    table: String,
    name: String,
    /// `rl#<name>#`
    prefix: String,
    limits: Box<[Limit]>,
    timeout: Duration,
    clock: Clock,
    local: LocalState,
    /// The last window (of the shortest limit) in which a failure was logged, plus one.
    logged: AtomicU64,
}

/// Builds a [`DynamoRateLimitStore`]: `DynamoRateLimitStore::builder(&table, "api", limit)`.
pub struct DynamoRateLimitStoreBuilder {
    table: FleetTable,
    name: String,
    limits: Vec<Limit>,
    timeout: Duration,
    clock: Clock,
    max_keys: usize,
}

impl std::fmt::Debug for DynamoRateLimitStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoRateLimitStoreBuilder")
            .field("name", &self.name)
            .field("limits", &self.limits)
            .finish()
    }
}

impl DynamoRateLimitStoreBuilder {
    /// Another limit on the same key (e.g. 10 per second and 1000 per hour): a call is
    /// admitted only if every limit admits it. A limit with the same period as an earlier one
    /// replaces it (the period is part of the item id).
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limits.retain(|l| l.period_ms() != limit.period_ms());
        self.limits.push(limit);
        self
    }

    /// Bound on one check's calls to the table (default [`DEFAULT_TIMEOUT`]); the invocation's
    /// remaining time bounds it further when the layer passes deadlines
    /// (`RateLimitLayer::request_deadline`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The wall clock windows are computed from, in epoch milliseconds (default
    /// [`system_millis`]). Every process sharing a table must agree on it, so only tests
    /// replace it.
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How many keys' denials and previous-window counts to remember (default
    /// [`DEFAULT_MAX_KEYS`]).
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// The store. Its client is the table's with the SDK's retries off: a rate limiter that
    /// retries a throttled table makes it worse, and the fail mode decides instead.
    pub fn build(self) -> DynamoRateLimitStore {
        let config = self
            .table
            .client()
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build();
        let limits: Box<[Limit]> = self.limits.into();
        DynamoRateLimitStore {
            inner: Arc::new(Inner {
                client: Client::from_conf(config),
                table: self.table.name().to_owned(),
                prefix: format!("rl#{}#", self.name),
                name: self.name,
                local: LocalState::new(limits.len(), self.max_keys),
                limits,
                timeout: self.timeout,
                clock: self.clock,
                logged: AtomicU64::new(0),
            }),
        }
    }
}

impl DynamoRateLimitStore {
    /// A store named `name` (part of every item id: limiters with different names never share
    /// counts) on `table`, with its first `limit`.
    pub fn builder(table: &FleetTable, name: impl Into<String>, limit: Limit) -> DynamoRateLimitStoreBuilder {
        DynamoRateLimitStoreBuilder {
            table: table.clone(),
            name: name.into(),
            limits: vec![limit],
            timeout: DEFAULT_TIMEOUT,
            clock: Arc::new(system_millis),
            max_keys: DEFAULT_MAX_KEYS,
        }
    }

    /// The limits, in the order they are checked.
    pub fn limits(&self) -> &[Limit] {
        &self.inner.limits
    }

    /// The item id of `key`'s window of `limit` that holds `at_ms` (epoch milliseconds):
    /// `rl#<name>#<sha256(key bytes)>#<period ms>#<window start ms>`.
    pub fn item_id<K: StoreKey>(&self, key: &K, limit: &Limit, at_ms: u64) -> String {
        let period = limit.period_ms();
        self.inner.id(&self.inner.hash(key), period, window_of(at_ms, period).0)
    }
}

impl Inner {
    fn hash<K: StoreKey>(&self, key: &K) -> String {
        let mut bytes = Vec::with_capacity(64);
        key.write_key(&mut bytes);
        hash_key(&bytes)
    }

    fn id(&self, hash: &str, period: u64, start: u64) -> String {
        format!("{}{hash}#{period}#{start}", self.prefix)
    }

    /// The answer without a round trip, if a denial is known.
    fn known_denial(&self, hash: &str, now: u64) -> Option<Decision> {
        let d = self.local.denied(hash, now)?;
        let limit = self.limits.get(d.limit)?;
        Some(Decision::new(
            false,
            limit.max(),
            0,
            Duration::from_millis(d.window_end.saturating_sub(now)),
            Some(Duration::from_millis(d.until - now)),
        ))
    }

    /// Every limit in order, one conditional increment each; the first to deny decides (the
    /// earlier ones have counted the call: over-count, never over-admit).
    async fn decide(&self, hash: &str) -> Result<Decision, StoreError> {
        let now = (self.clock)();
        if let Some(d) = self.known_denial(hash, now) {
            return Ok(d);
        }
        let mut admitted: Option<Decision> = None;
        for (i, limit) in self.limits.iter().enumerate() {
            let period = limit.period_ms();
            let (start, end) = window_of(now, period);
            let mut prev = 0;
            let cap = match limit.window() {
                Window::Fixed => u64::from(limit.max()),
                Window::Sliding => {
                    prev = self.prev_count(hash, i, start, period, now).await?;
                    sliding_cap(limit.max(), prev, now, end, period)
                }
            };
            // The item outlives the window by a period (a sliding successor reads it) and a minute.
            let expiration = end.saturating_add(period).div_ceil(1000) + 60;
            let counted = if cap == 0 {
                None
            } else {
                increment(&self.client, &self.table, self.id(hash, period, start), cap, expiration).await?
            };
            let reset = Duration::from_millis(end - now);
            match counted {
                Some(n) => {
                    let remaining = u32::try_from(cap.saturating_sub(n)).unwrap_or(u32::MAX);
                    let d = Decision::new(true, limit.max(), remaining, reset, None);
                    if admitted.is_none_or(|a| remaining < a.remaining) {
                        admitted = Some(d);
                    }
                }
                None => {
                    let wait = match limit.window() {
                        Window::Fixed => end - now,
                        Window::Sliding => sliding_wait(limit.max(), prev, cap, now, end, period),
                    };
                    self.local.deny(hash, i, now + wait, end, now);
                    return Ok(Decision::new(
                        false,
                        limit.max(),
                        0,
                        reset,
                        Some(Duration::from_millis(wait)),
                    ));
                }
            }
        }
        admitted.ok_or_else(|| StoreError::Failed("no limit configured".into()))
    }

    /// The previous window's final count: read once per key per window, then remembered.
    async fn prev_count(&self, hash: &str, i: usize, start: u64, period: u64, now: u64) -> Result<u64, StoreError> {
        let Some(prev_start) = start.checked_sub(period) else {
            return Ok(0);
        };
        if let Some(n) = self.local.prev(hash, i, prev_start) {
            return Ok(n);
        }
        let n = read_count(&self.client, &self.table, self.id(hash, period, prev_start)).await?;
        self.local.set_prev(hash, i, prev_start, n, start + period, now);
        Ok(n)
    }

    /// Log a failure at most once per window of the shortest limit.
    fn log_once(&self, e: &StoreError) {
        let shortest = self.limits.iter().map(Limit::period_ms).min().unwrap_or(1);
        let window = (self.clock)() / shortest + 1;
        if self.logged.swap(window, Ordering::Relaxed) != window {
            tracing::warn!(
                target: "lift_dynamodb",
                limiter = %self.name,
                table = %self.table,
                error = %e,
                "rate-limit store unavailable: calls are admitted (fail open) or rejected (fail closed) by the layer's fail mode; not logged again this window"
            );
        }
    }

    async fn check(self: Arc<Self>, hash: String, deadline: Option<Instant>) -> Result<Decision, BoxError> {
        let started = Instant::now();
        let bound = match deadline {
            Some(d) => d.min(started + self.timeout),
            None => started + self.timeout,
        };
        if bound <= started {
            // No time left: do not start a call that cannot finish.
            let e = StoreError::TimedOut { after: Duration::ZERO };
            self.log_once(&e);
            return Err(e.into());
        }
        let result = match tokio::time::timeout_at(bound, self.decide(&hash)).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::TimedOut {
                after: bound.saturating_duration_since(started),
            }),
        };
        result.map_err(|e| {
            self.log_once(&e);
            BoxError::from(e)
        })
    }
}

impl<K: PartitionKey + StoreKey> RateLimitStore<K> for DynamoRateLimitStore {
    type Future = Pin<Box<dyn Future<Output = Result<Decision, BoxError>> + Send>>;

    fn check(&self, key: &K) -> Self::Future {
        self.check_within(key, None)
    }

    fn check_within(&self, key: &K, deadline: Option<Instant>) -> Self::Future {
        Box::pin(self.inner.clone().check(self.inner.hash(key), deadline))
    }

    /// A known denial answers at once, with no round trip.
    fn try_check(&self, key: &K) -> Option<Result<Decision, BoxError>> {
        let now = (self.inner.clock)();
        // While no denial is in force anywhere, the admitted path costs no hashing here.
        if !self.inner.local.may_deny(now) {
            return None;
        }
        let hash = self.inner.hash(key);
        self.inner.known_denial(&hash, now).map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Region};

    fn table() -> FleetTable {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        FleetTable::new(Client::from_conf(config), "t")
    }

    #[test]
    fn a_limit_with_the_period_of_an_earlier_one_replaces_it() {
        let store = DynamoRateLimitStore::builder(&table(), "n", Limit::fixed(3, Duration::from_secs(1)))
            .limit(Limit::fixed(100, Duration::from_secs(60)))
            .limit(Limit::sliding(5, Duration::from_secs(1)))
            .build();
        assert_eq!(
            store.limits(),
            [
                Limit::fixed(100, Duration::from_secs(60)),
                Limit::sliding(5, Duration::from_secs(1))
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_time_left_fails_at_once_without_a_call() {
        let store = DynamoRateLimitStore::builder(&table(), "n", Limit::per_minute(1)).build();
        let past = Instant::now();
        tokio::time::advance(Duration::from_millis(1)).await;
        let err = RateLimitStore::<&str>::check_within(&store, &"k", Some(past))
            .await
            .unwrap_err();
        assert!(
            matches!(err.downcast_ref::<StoreError>(), Some(StoreError::TimedOut { after }) if after.is_zero()),
            "{err}"
        );
    }
}
