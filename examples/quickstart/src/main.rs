//! Runs the quick start: on Lambda when `AWS_LAMBDA_RUNTIME_API` is set, else locally on
//! `127.0.0.1:$PORT` (default 3000). Logs, EMF metrics and X-Ray tracing are configured from the
//! environment (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`, `AWS_XRAY_DAEMON_ADDRESS`...).
//!
//! A configuration error (a bad `POWERTOOLS_*` value, a bad X-Ray address, a bad `PORT`) is
//! printed as one JSON line with `errorType` `Lift.config`, reported to Lambda's init error
//! endpoint when running there, and the process exits non-zero.

use lift::observability::Observability;

/// With the `mimalloc` feature, mimalloc rather than the system's (glibc) malloc. An invocation
/// allocates a few dozen times, and glibc's allocate-and-free pair costs several times
/// mimalloc's: under callgrind a whole-stack HTTP API `GET` takes 72.3k instructions with glibc
/// and 64.1k with mimalloc, an SQS batch of ten 237k and 181k; on the Runtime API loop the
/// function spends about 5 % less CPU per invocation. But mimalloc's start (its arena, and the
/// huge page it asks for) adds about 0.25 ms to a cold start (1.62 ms against 1.37 ms to the
/// first `/next` here), so the default stays glibc's; `docs/benchmarks.md` has the figures.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lift::main(|| async {
        // With dynamic configuration each invocation may carry its own log level.
        let observability = Observability::builder()
            .with_env()?
            .dynamic_level(quickstart::config::enabled())
            .build()?;
        // Installed before the settings are read, so what starts with them (the configuration
        // poller's first fetch, the fleet table's checks) logs through it.
        let _ = observability.install();
        let settings = quickstart::Settings::from_env().await?;
        Ok(quickstart::app_with(settings).observability(observability))
    })
}
