//! [`LoadShedTuning`]: the random rate and the concurrency cap read at each call (dynamic
//! configuration).

/// Where a load shedder reads, at each call, the random rate and the cap on its concurrency
/// limit in force. The shedder keeps its state across a change: the in-flight count and an
/// adaptive limit's learned value stay; a cap only bounds what the limit admits.
pub trait LoadShedTuning: Send + Sync + 'static {
    /// The fraction (0–1) of non-critical calls shed at random, from the one built with.
    /// Out-of-range answers are clamped; a non-finite one sheds nothing at random.
    fn random_rate(&self, built: f64) -> f64 {
        built
    }

    /// The concurrency limit applied, from the current one (fixed or adaptive). Only a shedder
    /// built with a limit counts calls in flight, so only it can apply one; at least 1.
    fn limit(&self, current: usize) -> usize {
        current
    }
}
