//! [`BulkheadTuning`]: the concurrency limit read at each call (dynamic configuration).

/// Where a bulkhead reads its limit at each call, from the one it was built with. A partition
/// whose limit changes is resized before the call takes its permit: a larger limit admits more
/// calls at once; a smaller one admits no new call until the calls in flight are under it
/// (permits of calls in flight are absorbed as they finish, never lost and never added twice).
/// The wait and `max_keys` stay as built.
pub trait BulkheadTuning: Send + Sync + 'static {
    /// The limit in force (at least 1 is used).
    fn max_concurrent(&self, built: usize) -> usize;
}

impl<F: Fn(usize) -> usize + Send + Sync + 'static> BulkheadTuning for F {
    fn max_concurrent(&self, built: usize) -> usize {
        self(built)
    }
}
