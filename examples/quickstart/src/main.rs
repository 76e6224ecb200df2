//! Runs the quick start: on Lambda when `AWS_LAMBDA_RUNTIME_API` is set, else locally on
//! `127.0.0.1:$PORT` (default 3000). Logs, EMF metrics and X-Ray tracing are configured from the
//! environment (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`, `AWS_XRAY_DAEMON_ADDRESS`...).

use lift::observability::Observability;

#[tokio::main]
async fn main() -> Result<(), lift::BoxError> {
    let observability = Observability::from_env()?;
    observability.install()?;
    quickstart::app().observability(observability).run().await
}
