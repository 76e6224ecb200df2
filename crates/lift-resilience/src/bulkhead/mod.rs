//! Bulkhead: at most `max_concurrent` calls in flight per partition (global, per tenant, per
//! route, ... through a [`KeyFn`]), with a bounded wait for a permit.
//!
//! Permits are `tokio::sync::Semaphore` permits. A waiter that times out or whose future is
//! dropped leaves the semaphore's queue without taking a permit (tokio returns any permit
//! assigned to a dropped waiter); a permit is returned when the response future completes or is
//! dropped. The success path (a free permit) takes no lock and allocates nothing; only a call
//! that has to wait boxes its wait.
//!
//! Because the partition depends on the request, permits are taken in `call`, not
//! `poll_ready`; a call that waits moves the (already ready) inner service into its future and
//! leaves a clone behind, so the inner service must be `Clone` (like tower's `Buffer`/`Retry`).

mod error;
mod future;
mod layer;
mod tuning;

pub use error::BulkheadFull;
pub use future::ResponseFuture;
pub use layer::{BulkheadConfig, BulkheadLayer};
pub use tuning::BulkheadTuning;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::{BoxError, Service};

use crate::event::{key_ref, ResilienceEvent, Telemetry};
use crate::partition::{Evictable, Partitions};
use crate::{Global, KeyFn, PartitionKey};

pub(crate) struct Cell<K> {
    key: Option<K>,
    semaphore: Semaphore,
    /// The limit in force. Invariant: available permits + calls in flight = `max` + `debt`.
    max: AtomicUsize,
    /// Permits to absorb as calls in flight finish, after the limit was lowered below them.
    debt: AtomicUsize,
    /// Serializes resizes (rare: only when the tuned limit changes).
    resize: std::sync::Mutex<()>,
}

impl<K> Evictable for Cell<K> {
    fn is_idle(&self, _now: Instant) -> bool {
        self.semaphore.available_permits() == self.max.load(Ordering::Acquire) + self.debt.load(Ordering::Acquire)
    }
}

impl<K: std::fmt::Debug> Cell<K> {
    fn reject(&self, telemetry: &Telemetry, waited: std::time::Duration) -> BoxError {
        telemetry.emit(ResilienceEvent::BulkheadRejected {
            name: telemetry.name(),
            key: key_ref(&self.key),
            max_concurrent: self.max.load(Ordering::Relaxed),
            waited,
        });
        Box::new(BulkheadFull::new(self.max.load(Ordering::Relaxed), waited))
    }

    /// Moves the limit to `want` (at least 1): raising it pays the debt first, then adds
    /// permits; lowering it forgets available permits and owes the rest.
    #[cold]
    fn resize(&self, want: usize) {
        let _one = self.resize.lock().unwrap_or_else(|e| e.into_inner());
        let cur = self.max.load(Ordering::Acquire);
        if want > cur {
            let mut grow = want - cur;
            let mut debt = self.debt.load(Ordering::Acquire);
            while debt > 0 && grow > 0 {
                let pay = debt.min(grow);
                match self
                    .debt
                    .compare_exchange(debt, debt - pay, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        grow -= pay;
                        break;
                    }
                    Err(d) => debt = d,
                }
            }
            if grow > 0 {
                self.semaphore.add_permits(grow);
            }
        } else if want < cur {
            let n = cur - want;
            let forgotten = self.semaphore.forget_permits(n);
            if n > forgotten {
                self.debt.fetch_add(n - forgotten, Ordering::AcqRel);
            }
        }
        self.max.store(want, Ordering::Release);
    }
}

/// A permit of a partition; returned on drop.
pub(crate) struct Permit<K>(Arc<Cell<K>>);

impl<K> Drop for Permit<K> {
    fn drop(&mut self) {
        let cell = &self.0;
        // A lowered limit is owed permits: this one pays instead of returning.
        let mut debt = cell.debt.load(Ordering::Acquire);
        while debt > 0 {
            match cell
                .debt
                .compare_exchange_weak(debt, debt - 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(d) => debt = d,
            }
        }
        cell.semaphore.add_permits(1);
    }
}

pub(crate) struct Shared<K> {
    config: BulkheadConfig,
    partitions: Partitions<K, Cell<K>>,
    telemetry: Telemetry,
    tuning: Option<Arc<dyn BulkheadTuning>>,
}

/// Bulkhead service. See the [module docs](self).
pub struct Bulkhead<S, KF, K> {
    inner: S,
    key_fn: KF,
    shared: Arc<Shared<K>>,
}

impl<S: Clone, KF: Clone, K> Clone for Bulkhead<S, KF, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            key_fn: self.key_fn.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: std::fmt::Debug, KF, K> std::fmt::Debug for Bulkhead<S, KF, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulkhead")
            .field("inner", &self.inner)
            .field("config", &self.shared.config)
            .finish()
    }
}

impl<S> Bulkhead<S, Global, ()> {
    /// `inner` behind a global bulkhead of `max_concurrent` calls, no wait: the same as
    /// `BulkheadLayer::new(max_concurrent).layer(inner)`.
    pub fn new(inner: S, max_concurrent: usize) -> Self {
        tower::Layer::layer(&BulkheadLayer::new(max_concurrent), inner)
    }
}

impl<S, KF, K> Bulkhead<S, KF, K> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming this one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<K: PartitionKey> Shared<K> {
    pub(crate) fn new(config: BulkheadConfig, telemetry: Telemetry, tuning: Option<Arc<dyn BulkheadTuning>>) -> Self {
        let max = config.max_concurrent.max(1);
        Self {
            config,
            partitions: Partitions::new(config.max_keys, move |k: Option<&K>| Cell {
                key: k.cloned(),
                semaphore: Semaphore::new(max),
                max: AtomicUsize::new(max),
                debt: AtomicUsize::new(0),
                resize: std::sync::Mutex::new(()),
            }),
            telemetry,
            tuning,
        }
    }

    /// Permits free in the partition of `key` (`None` if the partition does not exist).
    pub(crate) fn available(&self, key: &K) -> Option<usize> {
        self.partitions.peek(key).map(|c| c.semaphore.available_permits())
    }
}

impl<S, KF, K, Req> Service<Req> for Bulkhead<S, KF, K>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    KF: KeyFn<Req, Key = K>,
    K: PartitionKey,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, Req, K>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let key = self.key_fn.key(&req);
        let cell = self.shared.partitions.get(&key);
        if let Some(t) = &self.shared.tuning {
            let want = t.max_concurrent(self.shared.config.max_concurrent).max(1);
            if want != cell.max.load(Ordering::Acquire) {
                cell.resize(want);
            }
        }
        let acquired = match cell.semaphore.try_acquire() {
            Ok(p) => {
                p.forget();
                true
            }
            Err(_) => false,
        };
        match acquired {
            true => {
                let permit = Permit(cell);
                ResponseFuture::called(self.inner.call(req), permit)
            }
            false if self.shared.config.max_wait.is_zero() => {
                ResponseFuture::rejected(cell.reject(&self.shared.telemetry, std::time::Duration::ZERO))
            }
            false => {
                let clone = self.inner.clone();
                let svc = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::waiting(
                    cell,
                    self.shared.config.max_wait,
                    svc,
                    req,
                    self.shared.telemetry.clone(),
                )
            }
        }
    }
}
