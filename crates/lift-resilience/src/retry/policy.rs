use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use tower::retry::budget::{Budget, TpsBudget};
use tower::retry::Policy;

use super::{DefaultRetryClassifier, RetryClassify};
use crate::event::{ResilienceEvent, Telemetry};
use crate::shared::telemetry_builders;
use crate::Deadline;

/// Jitter applied to the exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Jitter {
    /// Exactly `base × 2^(n−1)`, capped.
    None,
    /// Uniform in `[0, base × 2^(n−1)]`, capped ("full jitter").
    Full,
    /// Uniform in `[base, 3 × previous]`, capped ("decorrelated jitter").
    Decorrelated,
}

/// Why a retryable failure was not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryStop {
    /// All attempts used.
    MaxAttempts,
    /// The retry budget is spent.
    Budget,
    /// Another attempt could not finish before the invocation deadline.
    Deadline,
}

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts in total, the first included. Default 3.
    pub max_attempts: u32,
    /// First backoff. Default 50 ms.
    pub base: Duration,
    /// Cap on one backoff. Default 2 s.
    pub max_backoff: Duration,
    /// Jitter. Default full.
    pub jitter: Jitter,
    /// Smallest time an attempt is expected to take (for the deadline check). Default 0: the
    /// last attempt's duration is used.
    pub min_attempt_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            jitter: Jitter::Full,
            min_attempt_time: Duration::ZERO,
        }
    }
}

impl RetryConfig {
    /// Attempts in total.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Base and cap of the backoff.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base = base;
        self.max_backoff = max;
        self
    }

    /// Jitter.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Smallest expected attempt time.
    pub fn min_attempt_time(mut self, d: Duration) -> Self {
        self.min_attempt_time = d;
        self
    }
}

/// A tower retry [`Policy`]. Cloned per request by tower (two `Arc`s and a few integers).
#[derive(Clone)]
pub struct RetryPolicy<C = DefaultRetryClassifier> {
    config: RetryConfig,
    budget: Option<Arc<TpsBudget>>,
    classifier: C,
    telemetry: Telemetry,
    attempts: u32,
    prev_backoff: Duration,
    attempt_started: Option<Instant>,
}

impl<C> std::fmt::Debug for RetryPolicy<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("config", &self.config)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl RetryPolicy {
    /// A tower [`TpsBudget`]: retries allowed are `min_per_sec` plus `retry_ratio` of the
    /// requests of the last `ttl` (clamped to 1–60 s; ratio to 0–1000).
    pub fn tps_budget(ttl: Duration, min_per_sec: u32, retry_ratio: f32) -> Arc<TpsBudget> {
        let ttl = ttl.clamp(Duration::from_secs(1), Duration::from_secs(60));
        let ratio = if retry_ratio.is_finite() {
            retry_ratio.clamp(0.0, 1000.0)
        } else {
            0.0
        };
        Arc::new(TpsBudget::new(ttl, min_per_sec.min(i32::MAX as u32 - 1), ratio))
    }

    /// A policy with `config`, no budget and the default classifier.
    pub fn new(config: RetryConfig) -> Self {
        Self {
            config,
            budget: None,
            classifier: DefaultRetryClassifier,
            telemetry: Telemetry::new("retry"),
            attempts: 0,
            prev_backoff: Duration::ZERO,
            attempt_started: None,
        }
    }
}

impl<C> RetryPolicy<C> {
    /// Decide what is retryable.
    pub fn classifier<C2>(self, classifier: C2) -> RetryPolicy<C2> {
        RetryPolicy {
            config: self.config,
            budget: self.budget,
            classifier,
            telemetry: self.telemetry,
            attempts: 0,
            prev_backoff: Duration::ZERO,
            attempt_started: None,
        }
    }

    /// Share a retry budget (shared by all clones of this policy).
    pub fn budget(mut self, budget: Arc<TpsBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    telemetry_builders!();

    /// The configuration.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The backoff before attempt `self.attempts + 1`.
    pub fn next_backoff(&mut self) -> Duration {
        let c = &self.config;
        let n = self.attempts.max(1);
        let exp = c
            .base
            .saturating_mul(1u32.checked_shl(n - 1).unwrap_or(u32::MAX))
            .min(c.max_backoff);
        let d = match c.jitter {
            Jitter::None => exp,
            Jitter::Full => exp.mul_f64(fastrand::f64()),
            Jitter::Decorrelated => {
                let prev = if self.prev_backoff.is_zero() {
                    c.base
                } else {
                    self.prev_backoff
                };
                let hi = prev.saturating_mul(3).max(c.base);
                let span = hi - c.base;
                (c.base + span.mul_f64(fastrand::f64())).min(c.max_backoff)
            }
        };
        self.prev_backoff = d;
        d
    }

    fn stop(&self, reason: RetryStop) {
        self.telemetry.emit(ResilienceEvent::RetryAbandoned {
            name: self.telemetry.name(),
            attempts: self.attempts,
            reason,
        });
    }
}

impl<Req, Res, E, C> Policy<Req, Res, E> for RetryPolicy<C>
where
    Req: Clone + Deadline,
    C: RetryClassify<Res, E>,
{
    type Future = Sleep;

    fn retry(&mut self, req: &mut Req, result: &mut Result<Res, E>) -> Option<Sleep> {
        if !self.classifier.is_retryable(result) {
            return None;
        }
        if self.attempts >= self.config.max_attempts {
            self.stop(RetryStop::MaxAttempts);
            return None;
        }
        let now = Instant::now();
        let backoff = self.next_backoff();
        if let Some(deadline) = req.deadline() {
            let took = self.attempt_started.map(|s| now - s).unwrap_or_default();
            let need = backoff + took.max(self.config.min_attempt_time);
            if now + need > deadline {
                self.stop(RetryStop::Deadline);
                return None;
            }
        }
        if let Some(b) = &self.budget {
            if !b.withdraw() {
                self.stop(RetryStop::Budget);
                return None;
            }
        }
        self.telemetry.emit(ResilienceEvent::Retry {
            name: self.telemetry.name(),
            attempt: self.attempts + 1,
            backoff,
        });
        Some(tokio::time::sleep(backoff))
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        // tower calls this right before each attempt, and asks `retry` after an attempt only
        // if this returned a copy: the last attempt is copied too, so that its failure reaches
        // `retry` and is reported as `RetryStop::MaxAttempts`.
        if self.attempts == 0 {
            if let Some(b) = &self.budget {
                b.deposit();
            }
        }
        self.attempts += 1;
        self.attempt_started = Some(crate::clock::now());
        Some(req.clone())
    }
}
