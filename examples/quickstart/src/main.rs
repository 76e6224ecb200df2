//! Runs the quick start: on Lambda when `AWS_LAMBDA_RUNTIME_API` is set, else locally on
//! `127.0.0.1:$PORT` (default 3000). Logs, EMF metrics and X-Ray tracing are configured from the
//! environment (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`, `AWS_XRAY_DAEMON_ADDRESS`...).
//!
//! A configuration error (a bad `POWERTOOLS_*` value, a bad X-Ray address, a bad `PORT`) is
//! printed as one JSON line with `errorType` `Lift.config`, reported to Lambda's init error
//! endpoint when running there, and the process exits non-zero.

use lift::observability::Observability;

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
