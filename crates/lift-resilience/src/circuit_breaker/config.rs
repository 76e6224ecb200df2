use std::time::Duration;

/// The breaker's states (resilience4j's model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BreakerState {
    /// Calls pass and are recorded; the breaker opens when a threshold is crossed.
    Closed = 0,
    /// Calls are rejected until the wait in open has passed.
    Open = 1,
    /// A limited number of trial calls pass; their outcome closes or re-opens the breaker.
    HalfOpen = 2,
    /// Calls pass and nothing is recorded (set by hand).
    Disabled = 3,
    /// Calls pass and are recorded, but the breaker never opens (set by hand).
    MetricsOnly = 4,
    /// Every call is rejected until another state is set by hand.
    ForcedOpen = 5,
}

impl BreakerState {
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Closed,
            1 => Self::Open,
            2 => Self::HalfOpen,
            3 => Self::Disabled,
            4 => Self::MetricsOnly,
            _ => Self::ForcedOpen,
        }
    }
}

/// The sliding window over which rates are computed in the closed state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlidingWindow {
    /// The last `n` calls.
    Count(u32),
    /// The calls of the last `d`, in one-second buckets (rounded up to whole seconds, at least
    /// one): a call leaves the window when its second is more than `d` old.
    Time(Duration),
}

/// How long the breaker stays open before letting trial calls through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitInOpen {
    /// Always the same wait.
    Fixed(Duration),
    /// `initial × multiplier^(n−1)` for the n-th consecutive opening (reset when the breaker
    /// closes), capped at `max`.
    Backoff {
        /// First wait.
        initial: Duration,
        /// Growth factor per consecutive opening.
        multiplier: f64,
        /// Cap.
        max: Duration,
    },
}

impl WaitInOpen {
    /// Wait for the `n`-th consecutive opening (1-based).
    pub fn wait(&self, n: u32) -> Duration {
        match *self {
            WaitInOpen::Fixed(d) => d,
            WaitInOpen::Backoff {
                initial,
                multiplier,
                max,
            } => {
                let exp = n.saturating_sub(1).min(64) as i32;
                let secs = initial.as_secs_f64() * multiplier.max(1.0).powi(exp);
                if !secs.is_finite() || secs >= max.as_secs_f64() {
                    max
                } else {
                    Duration::from_secs_f64(secs)
                }
            }
        }
    }
}

/// Circuit breaker settings. Defaults are resilience4j's.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Open when the failure rate (percent of recorded calls) is at or above this. Default 50.
    pub failure_rate_threshold: f64,
    /// Open when the slow-call rate (percent) is at or above this. Default 100.
    pub slow_call_rate_threshold: f64,
    /// A call at least this long is slow. Default 60 s.
    pub slow_call_duration: Duration,
    /// Window type and size. Default the last 100 calls.
    pub window: SlidingWindow,
    /// Calls recorded before rates are judged (capped at a count window's size). Default 100.
    pub minimum_calls: u32,
    /// Wait in open. Default fixed 60 s.
    pub wait_in_open: WaitInOpen,
    /// Trial calls in half-open. Default 10.
    pub permitted_calls_in_half_open: u32,
    /// Longest stay in half-open before re-opening (`None`: wait for all trial calls).
    pub max_wait_in_half_open: Option<Duration>,
    /// Bound on the number of partitions (further keys share an overflow partition). Default
    /// 1024.
    pub max_keys: usize,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration: Duration::from_secs(60),
            window: SlidingWindow::Count(100),
            minimum_calls: 100,
            wait_in_open: WaitInOpen::Fixed(Duration::from_secs(60)),
            permitted_calls_in_half_open: 10,
            max_wait_in_half_open: None,
            max_keys: 1024,
        }
    }
}

impl BreakerConfig {
    /// Failure-rate threshold in percent.
    pub fn failure_rate_threshold(mut self, percent: f64) -> Self {
        self.failure_rate_threshold = percent;
        self
    }

    /// Slow-call-rate threshold in percent and the duration from which a call is slow.
    pub fn slow_calls(mut self, percent: f64, duration: Duration) -> Self {
        self.slow_call_rate_threshold = percent;
        self.slow_call_duration = duration;
        self
    }

    /// Sliding window.
    pub fn window(mut self, window: SlidingWindow) -> Self {
        self.window = window;
        self
    }

    /// Minimum number of calls.
    pub fn minimum_calls(mut self, n: u32) -> Self {
        self.minimum_calls = n;
        self
    }

    /// Wait in open.
    pub fn wait_in_open(mut self, wait: WaitInOpen) -> Self {
        self.wait_in_open = wait;
        self
    }

    /// Trial calls in half-open.
    pub fn permitted_calls_in_half_open(mut self, n: u32) -> Self {
        self.permitted_calls_in_half_open = n;
        self
    }

    /// Longest stay in half-open.
    pub fn max_wait_in_half_open(mut self, d: Option<Duration>) -> Self {
        self.max_wait_in_half_open = d;
        self
    }

    /// Bound on partitions.
    pub fn max_keys(mut self, n: usize) -> Self {
        self.max_keys = n;
        self
    }
}
