//! The per-partition state machine and its sliding windows.
//!
//! Admission in `Closed`, `MetricsOnly` and `Disabled` reads two atomics and takes no lock.
//! Recording an outcome takes the partition's `std::sync::Mutex` for a few nanoseconds (a ring
//! or bucket update and a rate check): the window's counters must change together with the
//! state decision, which is exactly what the Go version got wrong by writing under a read lock.
//! `Open`/`HalfOpen` admission also takes the lock, which is what makes half-open admit exactly
//! the permitted number of calls.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::tuning::Tuned;
use super::{BreakerConfig, BreakerState, BreakerStore, Open, Probe, SlidingWindow, Transition};
use crate::classify::Outcome;
use crate::event::{key_ref, ResilienceEvent, Telemetry};
use crate::partition::Evictable;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Counts {
    fn add(&mut self, bits: u8) {
        self.calls += 1;
        self.failures += u32::from(bits & FAIL != 0);
        self.slow += u32::from(bits & SLOW != 0);
    }

    fn sub(&mut self, other: Counts) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
}

const FAIL: u8 = 1;
const SLOW: u8 = 2;

struct CountWindow {
    ring: Box<[u8]>,
    head: usize,
    len: usize,
    totals: Counts,
}

impl CountWindow {
    fn record(&mut self, bits: u8) {
        let cap = self.ring.len();
        if self.len == cap {
            let old = self.ring[self.head];
            let mut c = Counts::default();
            c.add(old);
            self.totals.sub(c);
        } else {
            self.len += 1;
        }
        self.ring[self.head] = bits;
        self.head = (self.head + 1) % cap;
        self.totals.add(bits);
    }
}

#[derive(Clone, Copy, Default)]
struct Bucket {
    counts: Counts,
}

struct TimeWindow {
    buckets: Box<[Bucket]>,
    base: Instant,
    last_sec: u64,
    totals: Counts,
}

impl TimeWindow {
    fn advance(&mut self, now: Instant) -> u64 {
        let sec = now.saturating_duration_since(self.base).as_secs();
        if sec > self.last_sec {
            let n = self.buckets.len() as u64;
            let first = (self.last_sec + 1).max(sec.saturating_sub(n - 1));
            for s in first..=sec {
                let b = &mut self.buckets[(s % n) as usize];
                self.totals.sub(b.counts);
                *b = Bucket {
                    counts: Counts::default(),
                };
            }
            self.last_sec = sec;
        }
        sec
    }

    fn record(&mut self, now: Instant, bits: u8) {
        let sec = self.advance(now);
        let n = self.buckets.len() as u64;
        let b = &mut self.buckets[(sec % n) as usize];
        b.counts.add(bits);
        self.totals.add(bits);
    }
}

enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    fn new(w: SlidingWindow, now: Instant) -> Self {
        match w {
            SlidingWindow::Count(n) => Window::Count(CountWindow {
                ring: vec![0; n.max(1) as usize].into_boxed_slice(),
                head: 0,
                len: 0,
                totals: Counts::default(),
            }),
            SlidingWindow::Time(d) => {
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                Window::Time(TimeWindow {
                    buckets: vec![Bucket::default(); secs.max(1) as usize].into_boxed_slice(),
                    base: now,
                    last_sec: 0,
                    totals: Counts::default(),
                })
            }
        }
    }

    fn record(&mut self, now: Instant, bits: u8) -> Counts {
        match self {
            Window::Count(w) => {
                w.record(bits);
                w.totals
            }
            Window::Time(w) => {
                w.record(now, bits);
                w.totals
            }
        }
    }

    fn totals(&mut self, now: Instant) -> Counts {
        match self {
            Window::Count(w) => w.totals,
            Window::Time(w) => {
                w.advance(now);
                w.totals
            }
        }
    }
}

struct Machine {
    state: BreakerState,
    generation: u64,
    window: Window,
    half_open: Counts,
    admitted: u32,
    open_until: Instant,
    half_open_since: Instant,
    consecutive_opens: u32,
}

/// A call admitted by the breaker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Permit {
    generation: u64,
    state: BreakerState,
    start: Instant,
}

/// Snapshot of a partition's metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct BreakerMetrics {
    /// Current state.
    pub state: BreakerState,
    /// Calls in the window (closed / metrics-only) or trial calls recorded (half-open).
    pub calls: u32,
    /// Failed calls among them.
    pub failures: u32,
    /// Slow calls among them.
    pub slow_calls: u32,
    /// Trial calls admitted in the current half-open period.
    pub half_open_admitted: u32,
}

pub(crate) struct Cell<K> {
    key: Option<K>,
    config: Tuned,
    telemetry: Telemetry,
    store: Arc<dyn BreakerStore<K>>,
    shared_store: bool,
    fast: AtomicU8,
    generation: AtomicU64,
    machine: Mutex<Machine>,
}

/// (from, to, open for, learned from the store).
type Step = (BreakerState, BreakerState, Option<Duration>, bool);
type Transitions = [Option<Step>; 2];

/// A transition the store told us of (not to be written back).
fn learned(step: Step) -> Step {
    (step.0, step.1, step.2, true)
}

impl<K: std::fmt::Debug + 'static> Evictable for Cell<K> {
    fn is_idle(&self, now: Instant) -> bool {
        let mut m = self.lock();
        let t = m.window.totals(now);
        m.state == BreakerState::Closed && t.failures == 0 && t.slow == 0
    }
}

impl<K: std::fmt::Debug + 'static> Cell<K> {
    pub(crate) fn new(key: Option<K>, config: Tuned, telemetry: Telemetry, store: Arc<dyn BreakerStore<K>>) -> Self {
        let now = Instant::now();
        Self {
            key,
            shared_store: store.is_shared(),
            store,
            fast: AtomicU8::new(BreakerState::Closed as u8),
            generation: AtomicU64::new(0),
            machine: Mutex::new(Machine {
                state: BreakerState::Closed,
                generation: 0,
                window: Window::new(config.built.window, now),
                half_open: Counts::default(),
                admitted: 0,
                open_until: now,
                half_open_since: now,
                consecutive_opens: 0,
            }),
            config,
            telemetry,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        // A panic while holding the lock cannot leave the counters half-updated in a way that
        // breaks an invariant we rely on, so a poisoned lock is used as is.
        self.machine.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn state(&self) -> BreakerState {
        BreakerState::from_u8(self.fast.load(Ordering::Acquire))
    }

    pub(crate) fn metrics(&self) -> BreakerMetrics {
        let now = Instant::now();
        let mut m = self.lock();
        let c = if m.state == BreakerState::HalfOpen {
            m.half_open
        } else {
            m.window.totals(now)
        };
        BreakerMetrics {
            state: m.state,
            calls: c.calls,
            failures: c.failures,
            slow_calls: c.slow,
            half_open_admitted: m.admitted,
        }
    }

    /// Admit a call or reject it.
    #[inline]
    pub(crate) fn try_acquire(&self, now: Instant) -> Result<Permit, Open> {
        let generation = self.generation.load(Ordering::Acquire);
        let state = BreakerState::from_u8(self.fast.load(Ordering::Acquire));
        match state {
            BreakerState::Closed if self.shared_store => self.check_remote(now, generation),
            BreakerState::Closed | BreakerState::MetricsOnly | BreakerState::Disabled => Ok(Permit {
                generation,
                state,
                start: now,
            }),
            _ => self.acquire_slow(now),
        }
    }

    #[cold]
    fn check_remote(&self, now: Instant, generation: u64) -> Result<Permit, Open> {
        match self.store.remote_open(self.key.as_ref()) {
            Some(rem) if !rem.is_zero() => {
                let mut tr: Transitions = [None, None];
                let res = {
                    let mut m = self.lock();
                    if m.state == BreakerState::Closed {
                        tr[0] = Some(learned(self.transition(&mut m, BreakerState::Open, now, Some(rem))));
                    }
                    self.admit_locked(&mut m, now, &mut tr)
                };
                self.emit(&tr);
                res
            }
            _ => Ok(Permit {
                generation,
                state: BreakerState::Closed,
                start: now,
            }),
        }
    }

    #[cold]
    fn acquire_slow(&self, now: Instant) -> Result<Permit, Open> {
        let mut tr: Transitions = [None, None];
        let res = {
            let mut m = self.lock();
            self.admit_locked(&mut m, now, &mut tr)
        };
        self.emit(&tr);
        if let Err(open) = &res {
            self.telemetry.emit(ResilienceEvent::BreakerRejected {
                name: self.telemetry.name(),
                key: key_ref(&self.key),
                state: open.state(),
                retry_after: open.retry_after(),
            });
        }
        res
    }

    fn admit_locked(&self, m: &mut Machine, now: Instant, tr: &mut Transitions) -> Result<Permit, Open> {
        if m.state == BreakerState::Open {
            if now >= m.open_until {
                tr[0] = Some(self.transition(m, BreakerState::HalfOpen, now, None));
            } else {
                return Err(Open::new(BreakerState::Open, Some(m.open_until - now)));
            }
        }
        match m.state {
            BreakerState::ForcedOpen => Err(Open::new(BreakerState::ForcedOpen, None)),
            BreakerState::Open => Err(Open::new(
                BreakerState::Open,
                Some(m.open_until.saturating_duration_since(now)),
            )),
            BreakerState::HalfOpen => {
                let config = self.config.get();
                if let Some(max) = config.max_wait_in_half_open {
                    if now >= m.half_open_since + max {
                        tr[1] = Some(self.transition(m, BreakerState::Open, now, None));
                        return Err(Open::new(BreakerState::Open, Some(m.open_until - now)));
                    }
                }
                if self.shared_store {
                    // The fleet elects one process to send trial calls (see `BreakerStore::probe`).
                    match self.store.probe(self.key.as_ref()) {
                        Probe::Admit => {}
                        Probe::Closed => {
                            tr[1] = Some(learned(self.transition(m, BreakerState::Closed, now, None)));
                            return Ok(Permit {
                                generation: m.generation,
                                state: BreakerState::Closed,
                                start: now,
                            });
                        }
                        Probe::Open(rem) if !rem.is_zero() => {
                            tr[1] = Some(learned(self.transition(m, BreakerState::Open, now, Some(rem))));
                            return Err(Open::new(BreakerState::Open, Some(rem)));
                        }
                        _ => return Err(Open::new(BreakerState::HalfOpen, None)),
                    }
                }
                if m.admitted < config.permitted_calls_in_half_open.max(1) {
                    m.admitted += 1;
                    Ok(Permit {
                        generation: m.generation,
                        state: BreakerState::HalfOpen,
                        start: now,
                    })
                } else {
                    Err(Open::new(BreakerState::HalfOpen, None))
                }
            }
            state => Ok(Permit {
                generation: m.generation,
                state,
                start: now,
            }),
        }
    }

    fn judge(config: &BreakerConfig, c: Counts, min_calls: u32) -> bool {
        if c.calls == 0 || c.calls < min_calls {
            return false;
        }
        let calls = f64::from(c.calls);
        f64::from(c.failures) * 100.0 / calls >= config.failure_rate_threshold
            || f64::from(c.slow) * 100.0 / calls >= config.slow_call_rate_threshold
    }

    /// Record the outcome of an admitted call.
    pub(crate) fn record(&self, permit: Permit, outcome: Outcome, now: Instant) {
        if permit.state == BreakerState::Disabled {
            return;
        }
        let config = self.config.get();
        let mut bits = 0;
        if outcome == Outcome::Failure {
            bits |= FAIL;
        }
        if now.saturating_duration_since(permit.start) >= config.slow_call_duration {
            bits |= SLOW;
        }
        let mut tr: Transitions = [None, None];
        {
            let mut m = self.lock();
            if m.generation != permit.generation {
                return; // admitted before a transition: stale
            }
            match m.state {
                BreakerState::Closed | BreakerState::MetricsOnly => {
                    if outcome == Outcome::Ignored {
                        return;
                    }
                    let totals = m.window.record(now, bits);
                    let min = match config.window {
                        SlidingWindow::Count(n) => config.minimum_calls.min(n.max(1)),
                        SlidingWindow::Time(_) => config.minimum_calls,
                    };
                    if m.state == BreakerState::Closed && Self::judge(&config, totals, min) {
                        tr[0] = Some(self.transition(&mut m, BreakerState::Open, now, None));
                    }
                }
                BreakerState::HalfOpen => {
                    if outcome == Outcome::Ignored {
                        m.admitted = m.admitted.saturating_sub(1);
                        return;
                    }
                    m.half_open.add(bits);
                    let permitted = config.permitted_calls_in_half_open.max(1);
                    if m.half_open.calls >= permitted {
                        let to = if Self::judge(&config, m.half_open, permitted) {
                            BreakerState::Open
                        } else {
                            BreakerState::Closed
                        };
                        tr[0] = Some(self.transition(&mut m, to, now, None));
                    }
                }
                _ => {}
            }
        }
        self.emit(&tr);
    }

    /// Move to `to`; returns the step. Caller emits after unlocking.
    fn transition(&self, m: &mut Machine, to: BreakerState, now: Instant, open_for: Option<Duration>) -> Step {
        let from = m.state;
        m.state = to;
        m.generation += 1;
        let mut wait = None;
        match to {
            BreakerState::Open => {
                m.consecutive_opens = m.consecutive_opens.saturating_add(1);
                let w = open_for.unwrap_or_else(|| self.config.get().wait_in_open.wait(m.consecutive_opens));
                m.open_until = now + w;
                wait = Some(w);
            }
            BreakerState::HalfOpen => {
                m.half_open = Counts::default();
                m.admitted = 0;
                m.half_open_since = now;
            }
            BreakerState::Closed => {
                m.window = Window::new(self.config.built.window, now);
                m.consecutive_opens = 0;
            }
            _ => {
                m.window = Window::new(self.config.built.window, now);
            }
        }
        // State first, then generation (release): a reader that sees the new generation sees
        // the new state.
        self.fast.store(to as u8, Ordering::Release);
        self.generation.store(m.generation, Ordering::Release);
        (from, to, wait, false)
    }

    fn emit(&self, tr: &Transitions) {
        for (from, to, open_for, from_store) in tr.iter().flatten().copied() {
            self.store.publish(
                self.key.as_ref(),
                &Transition {
                    from,
                    to,
                    open_for,
                    from_store,
                },
            );
            self.telemetry.emit(ResilienceEvent::BreakerTransition {
                name: self.telemetry.name(),
                key: key_ref(&self.key),
                from,
                to,
            });
        }
    }

    /// Manual transition (forced open, disabled, metrics only, closed, ...).
    pub(crate) fn transition_to(&self, to: BreakerState) {
        let mut tr: Transitions = [None, None];
        {
            let mut m = self.lock();
            if m.state != to {
                tr[0] = Some(self.transition(&mut m, to, Instant::now(), None));
            }
        }
        self.emit(&tr);
    }
}
