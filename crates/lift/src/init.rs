//! A function's start: [`main`] builds the app, reports a configuration error the way Lambda
//! expects (one JSON line, then the Runtime API's init error endpoint with `errorType`
//! `Lift.config`), and exits non-zero.

use std::fmt;
use std::process::ExitCode;

use crate::app::App;
use crate::error::BoxError;

/// The `errorType` of a configuration error reported at start.
pub const CONFIG_ERROR_TYPE: &str = "Lift.config";
/// The `errorType` of a failure of the runtime loop or the local server after start.
pub const RUNTIME_ERROR_TYPE: &str = "Lift.runtime";

/// A configuration error found at start (a missing or invalid variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Runs a Lift function as the process's `main`:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     lift::main(|| async {
///         let observability = lift::observability::Observability::from_env()?;
///         Ok(lift::App::new().observability(observability))
///     })
/// }
/// ```
///
/// The tokio runtime is chosen for how invocations arrive: current-thread on Lambda one
/// invocation at a time, multi-thread on Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY`
/// > 1) and for the local server; `LIFT_TOKIO_RUNTIME=current_thread|multi_thread` overrides it.
///
/// `build` runs inside the tokio runtime (so it can await: load SDK configuration, check a
/// table) and is the init phase: any error it returns is a configuration error. That error, and one from the start of [`App::run`] (a bad `PORT`,
/// missing Lambda variables), is printed as one JSON line on stdout with `errorType`
/// `Lift.config`, posted to the Runtime API's init error endpoint when running on Lambda, and
/// the process exits with a failure code. A later failure of the loop (the Runtime API gone, the
/// local server's listener failing) is one line `"the function stopped"` with `errorType`
/// `Lift.runtime` and a failure code; nothing is posted, since Lambda takes init errors only
/// during init.
pub fn main<F, Fut>(build: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<App, BoxError>>,
{
    // Current-thread on Lambda one invocation at a time, multi-thread otherwise
    // (`crate::tokio_runtime`).
    let flavor = match crate::tokio_runtime::choose(|k| std::env::var(k).ok()) {
        Ok(flavor) => flavor,
        Err(e) => {
            print_line(NOT_STARTED, CONFIG_ERROR_TYPE, &e);
            return ExitCode::FAILURE;
        }
    };
    let cores = || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let workers = crate::tokio_runtime::workers(|k| std::env::var(k).ok(), cores);
    let runtime = match crate::tokio_runtime::build(flavor, workers) {
        Ok(rt) => rt,
        Err(e) => {
            print_line(
                NOT_STARTED,
                RUNTIME_ERROR_TYPE,
                &format!("cannot start the tokio runtime: {e}"),
            );
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let app = match build().await {
            Ok(app) => app,
            Err(e) => return report(CONFIG_ERROR_TYPE, &e.to_string()).await,
        };
        match app.run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.is::<ConfigError>() => report(CONFIG_ERROR_TYPE, &e.to_string()).await,
            Err(e) => {
                // The loop or the server failed after the start: no init error to post (Lambda
                // takes one only before the first `/next`, and a Runtime API that failed would
                // not take it anyway); the line and the exit code say it.
                print_line(STOPPED, RUNTIME_ERROR_TYPE, &e.to_string());
                ExitCode::FAILURE
            }
        }
    })
}

/// Prints the error line, posts it to the init error endpoint when on Lambda, and gives the
/// failure exit code.
async fn report(error_type: &str, message: &str) -> ExitCode {
    print_line(NOT_STARTED, error_type, message);
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        if let Err(e) = post_init_error(&api, error_type, message).await {
            print_line(
                NOT_STARTED,
                RUNTIME_ERROR_TYPE,
                &format!("could not report the init error to Lambda: {e}"),
            );
        }
    }
    ExitCode::FAILURE
}

/// The JSON document Lambda's error endpoints take (also what the line on stdout carries).
fn error_document(error_type: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "errorType": error_type, "errorMessage": message, "stackTrace": [] })
}

const NOT_STARTED: &str = "the function could not start";
const STOPPED: &str = "the function stopped";

fn print_line(what: &str, error_type: &str, message: &str) {
    let line = serde_json::json!({
        "level": "ERROR",
        "message": what,
        "errorType": error_type,
        "errorMessage": message,
    });
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn post_init_error(api: &str, error_type: &str, message: &str) -> Result<(), BoxError> {
    use http_body_util::BodyExt;
    let endpoint: http::Uri = format!("http://{api}").parse()?;
    let client = lambda_runtime_api_client::Client::builder()
        .with_endpoint(endpoint)
        .build()?;
    let body = error_document(error_type, message).to_string();
    let req = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", error_type)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(lambda_runtime_api_client::body::Body::from(body))?;
    let res = tokio::time::timeout(std::time::Duration::from_secs(2), client.call(req)).await??;
    let status = res.status();
    let _ = res.into_body().collect().await;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the Runtime API answered {status}").into())
    }
}
