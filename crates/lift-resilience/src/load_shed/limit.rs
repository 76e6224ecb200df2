//! Concurrency limit algorithms (Netflix concurrency-limits' AIMD and Gradient2, with their
//! defaults). They are fed only measured signals: each completed call's latency, the number of
//! calls in flight when it started, and whether it failed.

use std::time::Duration;

/// How the concurrency limit is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LimitAlgorithm {
    /// A fixed limit.
    Fixed(usize),
    /// Additive increase, multiplicative decrease.
    Aimd(AimdConfig),
    /// Netflix's Gradient2: compares short-term latency with a long-term average.
    Gradient(GradientConfig),
}

/// AIMD settings (Netflix `AIMDLimit` defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct AimdConfig {
    /// Starting limit. Default 20.
    pub initial: usize,
    /// Floor. Default 20.
    pub min: usize,
    /// Ceiling. Default 200.
    pub max: usize,
    /// Factor applied on a drop. Default 0.9.
    pub backoff_ratio: f64,
    /// Latency above which a call counts as a drop. Default 5 s.
    pub timeout: Duration,
}

impl Default for AimdConfig {
    fn default() -> Self {
        Self {
            initial: 20,
            min: 20,
            max: 200,
            backoff_ratio: 0.9,
            timeout: Duration::from_secs(5),
        }
    }
}

impl AimdConfig {
    /// Initial, min and max limits.
    pub fn limits(mut self, initial: usize, min: usize, max: usize) -> Self {
        self.initial = initial;
        self.min = min;
        self.max = max;
        self
    }

    /// Backoff ratio and latency timeout.
    pub fn backoff(mut self, ratio: f64, timeout: Duration) -> Self {
        self.backoff_ratio = ratio;
        self.timeout = timeout;
        self
    }
}

/// Gradient2 settings (Netflix `Gradient2Limit` defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct GradientConfig {
    /// Starting limit. Default 20.
    pub initial: usize,
    /// Floor. Default 20.
    pub min: usize,
    /// Ceiling. Default 200.
    pub max: usize,
    /// Smoothing of limit changes. Default 0.2.
    pub smoothing: f64,
    /// Headroom added to the limit. Default 4.
    pub queue_size: f64,
    /// Tolerated ratio of short to long latency. Default 1.5.
    pub rtt_tolerance: f64,
    /// Samples in the long-term average. Default 600.
    pub long_window: u32,
}

impl Default for GradientConfig {
    fn default() -> Self {
        Self {
            initial: 20,
            min: 20,
            max: 200,
            smoothing: 0.2,
            queue_size: 4.0,
            rtt_tolerance: 1.5,
            long_window: 600,
        }
    }
}

impl GradientConfig {
    /// Initial, min and max limits.
    pub fn limits(mut self, initial: usize, min: usize, max: usize) -> Self {
        self.initial = initial;
        self.min = min;
        self.max = max;
        self
    }
}

/// Netflix's `ExpAvgMeasurement`: a plain average over a warm-up, then an exponential one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpAvg {
    value: f64,
    sum: f64,
    count: u32,
    window: u32,
    warmup: u32,
}

impl ExpAvg {
    fn add(&mut self, sample: f64) -> f64 {
        if self.count < self.warmup {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / f64::from(self.count);
        } else {
            let factor = 2.0 / (f64::from(self.window) + 1.0);
            self.value = self.value * (1.0 - factor) + sample * factor;
        }
        self.value
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum LimitState {
    Fixed(usize),
    Aimd {
        config: AimdConfig,
        limit: usize,
    },
    Gradient {
        config: GradientConfig,
        estimated: f64,
        long_rtt: ExpAvg,
    },
}

/// AIMD's next limit after a call that took `rtt`, started with `in_flight` calls in flight.
#[inline]
pub(crate) fn aimd_next(config: &AimdConfig, limit: usize, rtt: Duration, in_flight: usize, dropped: bool) -> usize {
    let mut l = limit;
    if dropped || rtt > config.timeout {
        l = (l as f64 * config.backoff_ratio) as usize;
    } else if in_flight * 2 >= l {
        l += 1;
    }
    l.clamp(config.min.max(1), config.max.max(1))
}

impl LimitState {
    pub(crate) fn new(algo: LimitAlgorithm) -> Self {
        match algo {
            LimitAlgorithm::Fixed(n) => LimitState::Fixed(n.max(1)),
            LimitAlgorithm::Aimd(config) => LimitState::Aimd {
                config,
                limit: config.initial.clamp(config.min.max(1), config.max.max(1)),
            },
            LimitAlgorithm::Gradient(config) => LimitState::Gradient {
                config,
                estimated: config.initial.clamp(config.min.max(1), config.max.max(1)) as f64,
                long_rtt: ExpAvg {
                    value: 0.0,
                    sum: 0.0,
                    count: 0,
                    window: config.long_window.max(1),
                    warmup: 10,
                },
            },
        }
    }

    pub(crate) fn limit(&self) -> usize {
        match *self {
            LimitState::Fixed(n) => n,
            LimitState::Aimd { limit, .. } => limit,
            LimitState::Gradient { estimated, .. } => (estimated as usize).max(1),
        }
    }

    pub(crate) fn is_adaptive(&self) -> bool {
        !matches!(self, LimitState::Fixed(_))
    }

    /// Feed one completed call; returns the new limit.
    pub(crate) fn sample(&mut self, rtt: Duration, in_flight: usize, dropped: bool) -> usize {
        match self {
            LimitState::Fixed(n) => *n,
            LimitState::Aimd { config, limit } => {
                *limit = aimd_next(config, *limit, rtt, in_flight, dropped);
                *limit
            }
            LimitState::Gradient {
                config,
                estimated,
                long_rtt,
            } => {
                let short = rtt.as_secs_f64().max(1e-9);
                let long = long_rtt.add(short);
                if long / short > 2.0 {
                    long_rtt.value *= 0.95;
                }
                if (in_flight as f64) < *estimated / 2.0 {
                    return (*estimated as usize).max(1);
                }
                let gradient = (config.rtt_tolerance * long / short).clamp(0.5, 1.0);
                let mut new = *estimated * gradient + config.queue_size;
                new = *estimated * (1.0 - config.smoothing) + new * config.smoothing;
                *estimated = new.clamp(config.min.max(1) as f64, config.max.max(1) as f64);
                (*estimated as usize).max(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aimd_grows_by_one_and_backs_off() {
        let mut s = LimitState::new(LimitAlgorithm::Aimd(AimdConfig::default().limits(10, 1, 100)));
        assert_eq!(s.sample(Duration::from_millis(10), 5, false), 11);
        // App-limited (in flight < limit/2): no growth.
        assert_eq!(s.sample(Duration::from_millis(10), 1, false), 11);
        assert_eq!(s.sample(Duration::from_millis(10), 6, true), 9);
        // Latency above the timeout is a drop.
        assert_eq!(s.sample(Duration::from_secs(6), 6, false), 8);
    }

    #[test]
    fn gradient_shrinks_when_latency_rises_and_respects_bounds() {
        let mut s = LimitState::new(LimitAlgorithm::Gradient(GradientConfig::default().limits(50, 5, 100)));
        for _ in 0..20 {
            s.sample(Duration::from_millis(10), 50, false);
        }
        let steady = s.limit();
        assert!(steady >= 50, "steady latency with queue headroom grows: {steady}");
        for _ in 0..50 {
            s.sample(Duration::from_millis(100), 100, false);
        }
        assert!(
            s.limit() < steady,
            "latency x10 shrinks the limit: {} vs {steady}",
            s.limit()
        );
        for _ in 0..500 {
            s.sample(Duration::from_secs(10), 100, false);
        }
        assert!(s.limit() >= 5);
    }
}
