//! Runs the quick start: on Lambda when `AWS_LAMBDA_RUNTIME_API` is set, else locally on
//! `127.0.0.1:$PORT` (default 3000). Logs, EMF metrics and X-Ray tracing are configured from the
//! environment (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`, `AWS_XRAY_DAEMON_ADDRESS`...).
//!
//! A configuration error (a bad `POWERTOOLS_*` value, a bad X-Ray address, a bad `PORT`) is
//! printed as one JSON line with `errorType` `Lift.config`, reported to Lambda's init error
//! endpoint when running there, and the process exits non-zero.

use lift::observability::Observability;

/// mimalloc rather than the system's (glibc) malloc: an invocation allocates a few dozen times
/// (the event's strings, the request, the response), and glibc's allocate-and-free pair costs
/// several times mimalloc's. Under callgrind one HTTP API `GET` through the whole stack took
/// 73.7k instructions with glibc and 65.5k with mimalloc; an SQS batch of ten, 240k and 182k.
/// `docs/benchmarks.md` measures the bare echo with each allocator too. Delete these two lines
/// to keep the system allocator; nothing else depends on it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lift::main(|| async {
        // With dynamic configuration each invocation may carry its own log level.
        let observability = Observability::builder()
            .with_env()?
            .dynamic_level(quickstart::config::enabled())
            .build()?;
        let settings = quickstart::Settings::from_env().await?;
        Ok(quickstart::app_with(settings).observability(observability))
    })
}
