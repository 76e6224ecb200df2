//! Runs the quick start: on Lambda when `AWS_LAMBDA_RUNTIME_API` is set, else locally on
//! `127.0.0.1:$PORT` (default 3000).

#[tokio::main]
async fn main() -> Result<(), lift::BoxError> {
    tracing_subscriber::fmt().with_ansi(false).with_target(false).init();
    quickstart::app().run().await
}
