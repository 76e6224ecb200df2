use std::time::Duration;

/// How a [`Limit`] counts its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// At most `max` calls per window; windows are aligned on the epoch (a one-minute window
    /// starts at each minute). Cheap and exact, but a burst of `max` at the end of one window and
    /// `max` at the start of the next admits `2 × max` within one period.
    Fixed,
    /// The current window's count plus the previous window's, weighted by the share of the
    /// previous window still inside the last `period` (`limited`'s sliding window counter): a
    /// call is admitted while `previous × (window end − now) / period + current + 1 ≤ max`.
    Sliding,
}

/// One limit on a key: at most `max` calls per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    max: u32,
    period: Duration,
    window: Window,
}

impl Limit {
    /// At most `max` calls per fixed window of `period` (rounded to whole milliseconds, at least
    /// one).
    pub fn fixed(max: u32, period: Duration) -> Self {
        Self {
            max,
            period,
            window: Window::Fixed,
        }
    }

    /// At most `max` calls per sliding window of `period` (see [`Window::Sliding`]).
    pub fn sliding(max: u32, period: Duration) -> Self {
        Self {
            max,
            period,
            window: Window::Sliding,
        }
    }

    /// At most `max` calls per fixed minute.
    pub fn per_minute(max: u32) -> Self {
        Self::fixed(max, Duration::from_secs(60))
    }

    /// The most calls per period.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// How it counts.
    pub fn window(&self) -> Window {
        self.window
    }

    /// The period in milliseconds, at least 1.
    pub(crate) fn period_ms(&self) -> u64 {
        u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX).max(1)
    }
}

/// The window of `period_ms` holding `now_ms`: `(start, end)`, epoch milliseconds.
pub(crate) fn window_of(now_ms: u64, period_ms: u64) -> (u64, u64) {
    let start = now_ms - now_ms % period_ms;
    (start, start.saturating_add(period_ms))
}

/// The most calls the current sliding window may hold at `now_ms` when the previous window
/// holds `prev`: `max − ⌈prev × (end − now) / period⌉` (so that `weighted + 1 ≤ max` for every
/// admitted call, in integers: no rounding in the caller's favour).
pub(crate) fn sliding_cap(max: u32, prev: u64, now_ms: u64, end: u64, period_ms: u64) -> u64 {
    let rest = u128::from(end.saturating_sub(now_ms).min(period_ms));
    let weighted = (u128::from(prev) * rest).div_ceil(u128::from(period_ms));
    u64::from(max).saturating_sub(u64::try_from(weighted).unwrap_or(u64::MAX))
}

/// Milliseconds from `now_ms` until a sliding window whose current count is `count` admits
/// again (at least 1): when the previous window's weight has decayed enough, else at the
/// window's end (a hint: the next window carries this one's weight).
pub(crate) fn sliding_wait(max: u32, prev: u64, count: u64, now_ms: u64, end: u64, period_ms: u64) -> u64 {
    let rest = end.saturating_sub(now_ms);
    let room = u64::from(max).saturating_sub(count);
    if prev == 0 || room == 0 {
        return rest.max(1);
    }
    // Admitted again once ⌈prev × rest' / period⌉ ≤ room − 1, i.e. rest' ≤ (room − 1) × period / prev.
    let ok_rest = u128::from(room - 1) * u128::from(period_ms) / u128::from(prev);
    let ok_rest = u64::try_from(ok_rest).unwrap_or(u64::MAX);
    rest.saturating_sub(ok_rest).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_on_the_epoch() {
        assert_eq!(window_of(61_500, 60_000), (60_000, 120_000));
        assert_eq!(window_of(60_000, 60_000), (60_000, 120_000));
        assert_eq!(window_of(59_999, 60_000), (0, 60_000));
    }

    #[test]
    fn sliding_cap_weights_the_previous_window_by_the_time_left_rounding_against_the_caller() {
        // 10 per second, 8 in the previous second, 250 ms into this one: 8 × 0.75 = 6 → 4.
        assert_eq!(sliding_cap(10, 8, 1_250, 2_000, 1_000), 4);
        // 8 × 0.7 = 5.6 → counts as 6 → 4 (never 5: 5.6 + 5 > 10 − 1).
        assert_eq!(sliding_cap(10, 8, 1_300, 2_000, 1_000), 4);
        // 8 × 0.5 = 4 → 6.
        assert_eq!(sliding_cap(10, 8, 1_500, 2_000, 1_000), 6);
        assert_eq!(sliding_cap(10, 0, 1_000, 2_000, 1_000), 10);
        assert_eq!(sliding_cap(10, 50, 1_000, 2_000, 1_000), 0);
    }

    #[test]
    fn sliding_wait_is_when_the_cap_first_exceeds_the_count() {
        // cap 4 at 1 250 with 8 before; count 4: admits again once ⌈8 × rest / 1000⌉ ≤ 5,
        // i.e. rest ≤ 625, i.e. at 1 375.
        let wait = sliding_wait(10, 8, 4, 1_250, 2_000, 1_000);
        assert_eq!(wait, 125);
        assert!(sliding_cap(10, 8, 1_250 + wait, 2_000, 1_000) > 4);
        assert_eq!(sliding_cap(10, 8, 1_250 + wait - 1, 2_000, 1_000), 4);
        // Full without the previous window: the window's end.
        assert_eq!(sliding_wait(10, 0, 10, 1_250, 2_000, 1_000), 750);
    }
}
