//! The accept loop: hyper connections with header and keep-alive timeouts, bodies read whole
//! before the routes see them, a cap on open connections, and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use http::{header, HeaderValue};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::body::read_whole;
use super::config::LocalConfig;
use super::routes::error_response;

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish for up to `config.shutdown_grace`, and returns.
pub(crate) async fn serve_router(
    listener: TcpListener,
    router: Router,
    config: &LocalConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), crate::BoxError> {
    let mut http = http1::Builder::new();
    // hyper starts the header timer whenever the connection waits for a request head, so it
    // bounds both a trickled head (slowloris) and an idle keep-alive connection.
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    let edge = Arc::new(Edge {
        router,
        body_limit: config.body_limit,
        body_timeout: config.body_timeout,
    });
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let edge = edge.clone();
        let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            req.extensions_mut().insert(crate::http::PeerAddr(peer));
            edge.clone().call(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("Lift local server shutting down; waiting for in-flight requests");
    if tokio::time::timeout(config.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests still running after the grace period; dropping them");
    }
    Ok(())
}

/// What every connection shares: the routes and the body limits.
struct Edge {
    router: Router,
    body_limit: usize,
    body_timeout: std::time::Duration,
}

impl Edge {
    /// Reads the body whole, then hands the request to the routes; a body that is too large or
    /// too slow is answered here and the connection closed.
    async fn call(self: Arc<Self>, req: http::Request<Incoming>) -> Result<Response, Infallible> {
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match read_whole(body, declared, self.body_limit, self.body_timeout).await {
            Ok(bytes) => {
                let req = http::Request::from_parts(parts, Body::from(bytes));
                self.router.clone().oneshot(req).await
            }
            Err(err) => {
                let request_id = uuid::Uuid::new_v4().to_string();
                if err.status().is_server_error() {
                    tracing::error!(code = err.code(), request_id, "request refused");
                } else {
                    tracing::info!(code = err.code(), request_id, "request refused");
                }
                let mut res = error_response(&err, &request_id);
                // The rest of the body is never read: the connection cannot serve another request.
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                Ok(res)
            }
        }
    }
}
