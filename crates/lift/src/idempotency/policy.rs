//! [`Idempotency`]: the policy (store, expiry, fail mode, local cache) and the state machine
//! every way of applying it shares: claim, then replay, refuse or run; after running,
//! complete or release.

use std::sync::Arc;
use std::time::Duration;

use super::cache::{Cached, LocalCache};
use super::error::Refusal;
use super::key::Key;
use super::memory::MemoryStore;
use super::store::{ClaimOutcome, ClaimRequest, Completion, IdempotencyStore, Status, StoreError};
use crate::context::Context;

/// How long a completed record is replayed (Powertools' default too).
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(3600);
/// The default bound on one store call (the invocation's remaining time bounds it further).
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// How many completed records the local cache keeps by default.
pub const DEFAULT_LOCAL_CACHE: usize = 1024;
/// A claim's lifetime when the invocation has no deadline (outside Lambda and the local server).
const NO_DEADLINE_CLAIM: Duration = Duration::from_secs(900);

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Epoch milliseconds from the system clock.
fn system_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// An idempotency policy: exactly-once effects for calls that share a key, within the
/// expiry. Cheap to clone (one `Arc`); share one per store.
///
/// Apply it with [`IdempotencyLayer`](super::IdempotencyLayer) on HTTP routes,
/// [`records`](Self::records) on record handlers, or [`run`](Self::run) around any piece of
/// work.
#[derive(Clone)]
pub struct Idempotency {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn IdempotencyStore>,
    function: Arc<str>,
    expiry: Duration,
    timeout: Duration,
    fail_open: bool,
    cache: Option<LocalCache>,
    clock: Clock,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("function", &self.inner.function)
            .field("expiry", &self.inner.expiry)
            .field("timeout", &self.inner.timeout)
            .field("fail_open", &self.inner.fail_open)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Idempotency`] policy: `Idempotency::builder(store).expiry(..).build()`.
pub struct IdempotencyBuilder {
    store: Arc<dyn IdempotencyStore>,
    function: Option<String>,
    expiry: Duration,
    timeout: Duration,
    fail_open: bool,
    cache: usize,
    clock: Clock,
}

impl std::fmt::Debug for IdempotencyBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyBuilder").finish_non_exhaustive()
    }
}

impl IdempotencyBuilder {
    /// How long a completed result is replayed (default one hour).
    pub fn expiry(mut self, expiry: Duration) -> Self {
        self.expiry = expiry;
        self
    }

    /// Bound on one store call (default 1 s); the invocation's remaining time bounds it too.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When the store cannot answer, run the work unprotected (logged as a warning) instead
    /// of refusing with 503 `idempotency_unavailable` (the default).
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// How many completed records this environment remembers to answer repeats without a
    /// round trip (default 1024; 0 turns the cache off; unused for in-process stores).
    pub fn local_cache(mut self, entries: usize) -> Self {
        self.cache = entries;
        self
    }

    /// The function name hashed into every key (default `AWS_LAMBDA_FUNCTION_NAME`, read
    /// once here; empty when unset).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.function = Some(name.into());
        self
    }

    /// The wall clock, in epoch milliseconds (default the system clock). Every process
    /// sharing a store must agree on it, so only tests replace it.
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The policy.
    pub fn build(self) -> Idempotency {
        let function = self
            .function
            .unwrap_or_else(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default());
        let cache = (!self.store.is_local() && self.cache > 0).then(|| LocalCache::new(self.cache));
        Idempotency {
            inner: Arc::new(Inner {
                store: self.store,
                function: function.into(),
                expiry: self.expiry,
                timeout: self.timeout,
                fail_open: self.fail_open,
                cache,
                clock: self.clock,
            }),
        }
    }
}

/// What [`Idempotency::begin`] decided.
pub(crate) enum Begin {
    /// The key is ours: run, then complete or release the claim.
    Run(Claim),
    /// A completed result.
    Replay(Arc<str>),
    /// The store failed and the policy fails open: run without protection.
    Unprotected,
}

impl Idempotency {
    /// A policy on `store` with the defaults.
    pub fn new(store: impl IdempotencyStore) -> Self {
        Self::builder(store).build()
    }

    /// A policy on a bounded in-process [`MemoryStore`] (the embedded default: one process).
    pub fn in_memory() -> Self {
        Self::new(MemoryStore::default())
    }

    /// A builder for a policy on `store`.
    pub fn builder(store: impl IdempotencyStore) -> IdempotencyBuilder {
        IdempotencyBuilder {
            store: Arc::new(store),
            function: None,
            expiry: DEFAULT_EXPIRY,
            timeout: DEFAULT_STORE_TIMEOUT,
            fail_open: false,
            cache: DEFAULT_LOCAL_CACHE,
            clock: Arc::new(system_millis),
        }
    }

    /// The function name hashed into keys.
    pub fn function_name(&self) -> &str {
        &self.inner.function
    }

    /// The record id `key` gets in `scope` for the invocation `ctx` (its tenant is part of it).
    pub fn record_id(&self, ctx: Option<&Context>, scope: &str, key: &Key) -> Arc<str> {
        key.id(&self.inner.function, ctx.and_then(Context::tenant), scope)
    }

    fn now(&self) -> u64 {
        (self.inner.clock)()
    }

    /// The bound of one store call: the timeout, or the invocation's remaining time if less.
    fn bound(&self, ctx: Option<&Context>) -> Duration {
        let left = ctx.and_then(Context::remaining).unwrap_or(Duration::MAX);
        self.inner.timeout.min(left)
    }

    async fn call<T>(&self, bound: Duration, fut: super::store::StoreFuture<'_, T>) -> Result<T, StoreError> {
        if bound.is_zero() {
            return Err(StoreError::TimedOut { after: bound });
        }
        match tokio::time::timeout(bound, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::TimedOut { after: bound }),
        }
    }

    /// Claims `key` in `scope`; see [`Begin`].
    pub(crate) async fn begin(&self, ctx: Option<&Context>, scope: &str, key: &Key) -> Result<Begin, Refusal> {
        let id = self.record_id(ctx, scope, key);
        let now = self.now();
        let validation = key.validation().cloned();
        if let Some(hit) = self.inner.cache.as_ref().and_then(|c| c.get(&id, now)) {
            return match (&hit.validation, &validation) {
                (Some(a), Some(b)) if a != b => Err(Refusal::KeyReused),
                _ => Ok(Begin::Replay(hit.data)),
            };
        }
        let in_progress_expiration = ctx
            .and_then(Context::deadline)
            .and_then(|d| d.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or_else(|| now + NO_DEADLINE_CLAIM.as_millis() as u64);
        let token: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
        let request = ClaimRequest {
            id: id.clone(),
            token: token.clone(),
            validation: validation.clone(),
            expiration: self.expiration(now),
            in_progress_expiration,
            now_ms: now,
        };
        let outcome = self.call(self.bound(ctx), self.inner.store.claim(request)).await;
        let held = match outcome {
            Ok(ClaimOutcome::Claimed) => {
                return Ok(Begin::Run(Claim {
                    policy: self.clone(),
                    id,
                    token,
                    validation,
                    bound: self.bound(ctx),
                    done: false,
                }))
            }
            Ok(ClaimOutcome::Held(record)) => record,
            Err(e) => return self.unavailable(&id, e),
        };
        if let (Some(stored), Some(ours)) = (&held.validation, &validation) {
            if stored != ours {
                return Err(Refusal::KeyReused);
            }
        }
        match (held.status, held.data) {
            (Status::Completed, Some(data)) => {
                if let Some(cache) = &self.inner.cache {
                    let entry = Cached {
                        data: data.clone(),
                        validation: held.validation,
                        expiration: held.expiration,
                    };
                    cache.insert(id, entry, now);
                }
                Ok(Begin::Replay(data))
            }
            // Our own claim, answered again by a retried request: it is ours.
            (Status::InProgress, _) if held.claim.as_deref() == Some(&*token) => Ok(Begin::Run(Claim {
                policy: self.clone(),
                id,
                token,
                validation,
                bound: self.bound(ctx),
                done: false,
            })),
            _ => {
                let until = held.in_progress_expiration.unwrap_or(now + 1000);
                Err(Refusal::InProgress {
                    retry_after: Duration::from_millis(until.saturating_sub(now)),
                })
            }
        }
    }

    fn unavailable(&self, id: &str, e: StoreError) -> Result<Begin, Refusal> {
        if self.inner.fail_open {
            tracing::warn!(
                target: "lift::idempotency",
                code = super::code::IDEMPOTENCY_UNAVAILABLE,
                record = id,
                error = %e,
                "idempotency store unavailable: running without protection (fail open)"
            );
            Ok(Begin::Unprotected)
        } else {
            tracing::warn!(
                target: "lift::idempotency",
                code = super::code::IDEMPOTENCY_UNAVAILABLE,
                record = id,
                error = %e,
                "idempotency store unavailable: call refused (fail closed)"
            );
            Err(Refusal::Unavailable { cause: e.to_string() })
        }
    }

    fn expiration(&self, now_ms: u64) -> u64 {
        (now_ms / 1000).saturating_add(self.inner.expiry.as_secs().max(1))
    }
}

/// A claim held by a running call. Completing or releasing it consumes it; dropped otherwise
/// (the work panicked or was cancelled), it is released in the background so a retry runs.
pub(crate) struct Claim {
    policy: Idempotency,
    id: Arc<str>,
    token: Arc<str>,
    validation: Option<Arc<str>>,
    bound: Duration,
    done: bool,
}

impl Claim {
    /// Stores the result in place of the claim. A result larger than the store holds is
    /// refused ([`Refusal::TooLarge`]) and the claim released; a store failure is logged (the
    /// work is done and its result is the caller's; the claim lapses at its deadline).
    pub(crate) async fn complete(mut self, data: String) -> Result<(), Refusal> {
        self.done = true;
        let limit = self.policy.inner.store.max_data_bytes();
        if data.len() > limit {
            let size = data.len();
            self.release_now().await;
            return Err(Refusal::TooLarge { size, limit });
        }
        let data: Arc<str> = data.into();
        let now = self.policy.now();
        let expiration = self.policy.expiration(now);
        let completion = Completion {
            id: self.id.clone(),
            token: self.token.clone(),
            data: data.clone(),
            validation: self.validation.clone(),
            expiration,
        };
        let p = &self.policy;
        match p.call(self.bound, p.inner.store.complete(completion)).await {
            Ok(()) => {
                if let Some(cache) = &p.inner.cache {
                    let entry = Cached {
                        data,
                        validation: self.validation.clone(),
                        expiration,
                    };
                    cache.insert(self.id.clone(), entry, now);
                }
            }
            Err(e) => tracing::error!(
                target: "lift::idempotency",
                record = %self.id,
                error = %e,
                "idempotency result not stored: a repeat after the claim lapses runs again"
            ),
        }
        Ok(())
    }

    /// Deletes the claim so the next call with the key runs.
    pub(crate) async fn release(mut self) {
        self.done = true;
        self.release_now().await;
    }

    async fn release_now(&self) {
        let p = &self.policy;
        let fut = p.inner.store.release(self.id.clone(), self.token.clone());
        if let Err(e) = p.call(self.bound.max(Duration::from_millis(100)), fut).await {
            tracing::error!(
                target: "lift::idempotency",
                record = %self.id,
                error = %e,
                "idempotency claim not released: the key stays busy until the claim's deadline"
            );
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let claim = Claim {
            policy: self.policy.clone(),
            id: self.id.clone(),
            token: self.token.clone(),
            validation: None,
            bound: self.policy.inner.timeout,
            done: true,
        };
        rt.spawn(async move { claim.release_now().await });
    }
}
