//! [`TimeoutTuning`]: the configured limit read at each call (dynamic configuration).

/// Where a timeout reads its configured limit at each call, from the one it was built with
/// (`None`: only the invocation deadline applies). The deadline margin stays as built.
pub trait TimeoutTuning: Send + Sync + 'static {
    /// The configured limit in force.
    fn configured(&self, built: Option<std::time::Duration>) -> Option<std::time::Duration>;
}

impl<F> TimeoutTuning for F
where
    F: Fn(Option<std::time::Duration>) -> Option<std::time::Duration> + Send + Sync + 'static,
{
    fn configured(&self, built: Option<std::time::Duration>) -> Option<std::time::Duration> {
        self(built)
    }
}
