//! The local server: serves the HTTP routes and accepts raw events the way the Lambda
//! emulators do, on `POST /2015-03-31/functions/function/invocations`.
//!
//! It stands in for Lambda, so it behaves like it where clients can tell: a request body is
//! read whole (up to 6 MB, within [`LocalConfig::body_timeout`]) before the request reaches the
//! routes and their middleware, as Lambda delivers an event whole; slow or idle clients are
//! disconnected ([`LocalConfig::header_timeout`]); and on Ctrl-C or SIGTERM it stops
//! accepting, lets in-flight requests finish, and returns.

mod body;
mod config;
mod routes;
mod server;
mod signal;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use config::{LocalConfig, LocalConfigError};
pub use routes::{lambda_context, router, INVOKE_PATH};
pub use signal::shutdown_signal;

use crate::function::Lift;

/// Reads `PORT` (default 3000). A value that is not a port is an error, not a panic.
pub fn port_from_env() -> Result<u16, crate::BoxError> {
    Ok(LocalConfig::from_env()?.port)
}

/// Serves `lift` on `addr` with the settings of [`LocalConfig::from_env`] until Ctrl-C or
/// SIGTERM, then shuts down gracefully and returns.
pub async fn serve(lift: Lift, addr: SocketAddr) -> Result<(), crate::BoxError> {
    let config = LocalConfig::from_env()?;
    serve_with_shutdown(lift, addr, config, shutdown_signal()).await
}

/// Serves `lift` on `addr` until `shutdown` resolves; then stops accepting, lets in-flight
/// requests finish for up to [`LocalConfig::shutdown_grace`], and returns, so the caller can
/// flush its logs. `config.port` is not read: `addr` says where to listen.
pub async fn serve_with_shutdown(
    lift: Lift,
    addr: SocketAddr,
    config: LocalConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), crate::BoxError> {
    let listener = TcpListener::bind(addr).await?;
    serve_listener(lift, listener, config, shutdown).await
}

/// [`serve_with_shutdown`] on a listener the caller bound (port 0 in tests).
pub async fn serve_listener(
    lift: Lift,
    listener: TcpListener,
    config: LocalConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), crate::BoxError> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "Lift local server listening (raw events: POST {INVOKE_PATH})");
    }
    server::serve_router(listener, router(lift), &config, shutdown).await
}
