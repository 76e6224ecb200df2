//! Load shedding: reject work early when the service is overloaded.
//!
//! Strategies, combinable in one layer:
//! * **random at a rate**: shed a fixed fraction of non-critical calls;
//! * **concurrency limit**: fixed, or adaptive from measured latency and in-flight work
//!   ([`LimitAlgorithm::Aimd`], [`LimitAlgorithm::Gradient`], Netflix concurrency-limits'
//!   algorithms and defaults);
//! * **priority** (from a header or a function): a call of priority `p` is admitted only while
//!   calls in flight are below `limit × threshold(p)` — by default 50 % for `Low`, 75 % for
//!   `Normal`, 90 % for `High`, 100 % for `Critical` — so critical traffic is shed last.
//!
//! No signal is faked: the limit moves only on the latency measured around the inner call,
//! the number of calls in flight when it started, and whether it failed. A cancelled call only
//! leaves the in-flight count (it produced no latency sample).
//!
//! # Compared with tower's `LoadShed`
//!
//! [`tower::load_shed::LoadShed`](https://docs.rs/tower/0.5/tower/load_shed/struct.LoadShed.html)
//! sheds a call when the inner service is **not ready**: it turns backpressure from inside
//! (a `ConcurrencyLimit`, a `Buffer` that is full) into an immediate error, and does no work of
//! its own per call. This layer does not look at readiness: it forwards `poll_ready` (an inner
//! service that is not ready makes it not ready, as any tower middleware) and decides **per
//! call**, from its own in-flight count against a fixed or adaptive limit, the call's priority
//! and a random rate. Use tower's when another layer already bounds the work and you only need
//! "fail instead of wait"; use this one when the limit itself must be found from measured
//! latency (AIMD, Gradient2), when some traffic must be shed before other traffic, or when the
//! rejection must say why ([`Overloaded::reason`]) and be counted in events. The two errors
//! differ too: tower's is `tower::load_shed::error::Overloaded`, which
//! [`rejection`](crate::rejection()) does not map; this crate's maps to 503 `overloaded` with
//! `Retry-After`.

mod error;
mod future;
mod layer;
mod limit;
mod priority;
mod tuning;

pub use error::Overloaded;
pub use future::ResponseFuture;
pub use layer::LoadShedLayer;
pub use limit::{AimdConfig, GradientConfig, LimitAlgorithm};
pub use priority::{HeaderPriority, NoPriority, Priority, PriorityFn, PriorityFrom};
pub use tuning::LoadShedTuning;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::time::Instant;
use tower::{BoxError, Service};

use crate::clock::{call_inner, Pass};
use crate::event::{ResilienceEvent, Telemetry};
use limit::LimitState;

/// A random rate in 0–1; a non-finite one sheds nothing.
fn valid_rate(rate: f64) -> f64 {
    if rate.is_finite() {
        rate.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Why a call was shed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShedReason {
    /// Random shedding at the configured rate.
    Random,
    /// Calls in flight reached the (priority-scaled) concurrency limit.
    ConcurrencyLimit,
}

pub(crate) struct Shared {
    random_rate: f64,
    thresholds: [f64; 4],
    has_limit: bool,
    adaptive: bool,
    // AIMD's whole state is the limit: it is updated with a compare-and-swap, no lock.
    aimd: Option<AimdConfig>,
    limit: AtomicUsize,
    in_flight: AtomicUsize,
    // Only Gradient2 takes this lock, once per completed call, for a few arithmetic
    // operations: its floating-point state must change as a unit.
    state: Mutex<LimitState>,
    telemetry: Telemetry,
    // Read at each call when set ([`LoadShedLayer::tuning`]); `None` costs one branch.
    tuning: Option<Arc<dyn LoadShedTuning>>,
}

impl Shared {
    fn new(
        random_rate: f64,
        thresholds: [f64; 4],
        algo: Option<LimitAlgorithm>,
        telemetry: Telemetry,
        tuning: Option<Arc<dyn LoadShedTuning>>,
    ) -> Self {
        let state = algo.map(LimitState::new);
        Self {
            random_rate: valid_rate(random_rate),
            thresholds,
            has_limit: state.is_some(),
            adaptive: state.as_ref().is_some_and(LimitState::is_adaptive),
            aimd: match algo {
                Some(LimitAlgorithm::Aimd(c)) => Some(c),
                _ => None,
            },
            limit: AtomicUsize::new(state.as_ref().map_or(usize::MAX, LimitState::limit)),
            in_flight: AtomicUsize::new(0),
            state: Mutex::new(state.unwrap_or(LimitState::Fixed(usize::MAX))),
            telemetry,
            tuning,
        }
    }

    fn shed(&self, reason: ShedReason, in_flight: usize, priority: Option<Priority>) -> BoxError {
        self.telemetry.emit(ResilienceEvent::Shed {
            name: self.telemetry.name(),
            reason,
            in_flight,
            limit: self.has_limit.then(|| self.limit.load(Ordering::Relaxed)),
            priority,
        });
        Box::new(Overloaded::new(reason))
    }

    pub(crate) fn complete(&self, started: Instant, in_flight_at_start: usize, dropped: Option<bool>) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        let (true, Some(dropped)) = (self.adaptive, dropped) else {
            return;
        };
        // Completion time: always a fresh reading.
        let rtt = Instant::now().saturating_duration_since(started);
        if let Some(config) = &self.aimd {
            let mut from = self.limit.load(Ordering::Acquire);
            loop {
                let to = limit::aimd_next(config, from, rtt, in_flight_at_start, dropped);
                if to == from {
                    return; // the common case: one load, no write
                }
                match self
                    .limit
                    .compare_exchange_weak(from, to, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        self.telemetry.emit(ResilienceEvent::LimitChanged {
                            name: self.telemetry.name(),
                            from,
                            to,
                        });
                        return;
                    }
                    Err(now) => from = now,
                }
            }
        }
        let (from, to) = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let from = s.limit();
            let to = s.sample(rtt, in_flight_at_start, dropped);
            self.limit.store(to, Ordering::Release);
            (from, to)
        };
        if from != to {
            self.telemetry.emit(ResilienceEvent::LimitChanged {
                name: self.telemetry.name(),
                from,
                to,
            });
        }
    }
}

/// Load-shedding service. See the [module docs](self).
pub struct LoadShed<S, P> {
    inner: S,
    priority: P,
    shared: Arc<Shared>,
}

impl<S: Clone, P: Clone> Clone for LoadShed<S, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            priority: self.priority.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: std::fmt::Debug, P> std::fmt::Debug for LoadShed<S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadShed").field("inner", &self.inner).finish()
    }
}

impl<S, P, Req> Service<Req> for LoadShed<S, P>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    P: PriorityFn<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let sh = &*self.shared;
        let priority = self.priority.priority(&req);
        let random_rate = match &sh.tuning {
            Some(t) => valid_rate(t.random_rate(sh.random_rate)),
            None => sh.random_rate,
        };
        if random_rate > 0.0 && priority != Some(Priority::Critical) && fastrand::f64() < random_rate {
            let n = sh.in_flight.load(Ordering::Relaxed);
            return ResponseFuture::rejected(sh.shed(ShedReason::Random, n, priority));
        }
        if !sh.has_limit {
            return ResponseFuture::passthrough(self.inner.call(req));
        }
        let mut limit = sh.limit.load(Ordering::Acquire);
        if let Some(t) = &sh.tuning {
            limit = t.limit(limit).max(1);
        }
        let threshold = priority.map_or(1.0, |p| sh.thresholds[p as usize]);
        let cap = ((limit as f64 * threshold) as usize).max(1);
        let before = sh.in_flight.fetch_add(1, Ordering::AcqRel);
        if before >= cap {
            sh.in_flight.fetch_sub(1, Ordering::AcqRel);
            return ResponseFuture::rejected(sh.shed(ShedReason::ConcurrencyLimit, before, priority));
        }
        // Kept for the rest of `call`: layers further in share this reading.
        let _pass = sh.adaptive.then(Pass::enter);
        let started = sh.adaptive.then(crate::clock::now);
        let fut = call_inner(|| self.inner.call(req));
        ResponseFuture::counted(fut, self.shared.clone(), started, before + 1)
    }
}

impl<S> LoadShed<S, NoPriority> {
    /// `inner` behind a load shedder with the concurrency limit `algo`: the same as
    /// `LoadShedLayer::limit(algo).layer(inner)`.
    pub fn new(inner: S, algo: LimitAlgorithm) -> Self {
        tower::Layer::layer(&LoadShedLayer::limit(algo), inner)
    }
}

impl<S, P> LoadShed<S, P> {
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

    /// Calls in flight through this layer.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Relaxed)
    }

    /// The concurrency limit in force (`None` without a limit).
    pub fn limit(&self) -> Option<usize> {
        self.shared.has_limit.then(|| self.shared.limit.load(Ordering::Relaxed))
    }
}
