//! `$connect` and `$disconnect`: recording and forgetting the connection of the event.

use std::time::Duration;

use http::StatusCode;

use super::{Connection, ConnectionStore, ConnectionStoreError, DEFAULT_CONNECTION_TTL};
use crate::{Context, Error, WebSocket};

/// The error code Lift answers with when the connection store fails (503).
pub const CONNECTION_STORE_UNAVAILABLE: &str = "connection_store_unavailable";

impl ConnectionStoreError {
    /// The answer for the client: 503 `connection_store_unavailable`, the cause in the
    /// message. (`?` alone would make it a 500 `internal_error`.)
    pub fn into_error(self) -> Error {
        Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            CONNECTION_STORE_UNAVAILABLE,
            self.to_string(),
        )
    }
}

/// In a `$connect` handler: records the event's connection with the invocation's tenant and
/// principal subject (set by whatever auth or tenant layer wraps the route), kept for
/// [`DEFAULT_CONNECTION_TTL`]. A store that fails or does not answer before the invocation's
/// deadline is a 503 `connection_store_unavailable`, so API Gateway refuses the connection
/// rather than accept one nobody can reach.
pub async fn connect(store: &dyn ConnectionStore, ctx: &Context, ws: &WebSocket) -> Result<Connection, Error> {
    connect_for(store, ctx, ws, DEFAULT_CONNECTION_TTL).await
}

/// [`connect`] with a TTL of your choice.
pub async fn connect_for(
    store: &dyn ConnectionStore,
    ctx: &Context,
    ws: &WebSocket,
    ttl: Duration,
) -> Result<Connection, Error> {
    if ws.connection_id.is_empty() {
        return Err(Error::bad_request(
            "not_websocket",
            "the WebSocket event has no connection id",
        ));
    }
    let connection = Connection::new(
        ws.connection_id.clone(),
        ctx.tenant().map(str::to_owned),
        ctx.principal().map(|p| p.subject.clone()),
        ttl,
    );
    within_deadline(ctx, store.put(&connection))
        .await
        .map_err(ConnectionStoreError::into_error)?;
    Ok(connection)
}

/// In a `$disconnect` handler: forgets the event's connection; returns what was recorded.
pub async fn disconnect(
    store: &dyn ConnectionStore,
    ctx: &Context,
    ws: &WebSocket,
) -> Result<Option<Connection>, Error> {
    within_deadline(ctx, store.remove(&ws.connection_id))
        .await
        .map_err(ConnectionStoreError::into_error)
}

/// Bounds a store call by the invocation's remaining time.
pub(crate) async fn within_deadline<T>(
    ctx: &Context,
    call: impl std::future::Future<Output = Result<T, ConnectionStoreError>>,
) -> Result<T, ConnectionStoreError> {
    match ctx.remaining() {
        Some(left) => tokio::time::timeout(left, call)
            .await
            .unwrap_or(Err(ConnectionStoreError::TimedOut { after: left })),
        None => call.await,
    }
}

/// Forgets a connection API Gateway answered 410 Gone for: its record (which also unlists it
/// from its tenant) or, when the record is already gone, its entry in `tenant`'s list.
#[cfg_attr(not(feature = "websocket-management"), allow(dead_code))]
pub(crate) async fn remove_gone(
    store: &dyn ConnectionStore,
    tenant: Option<&str>,
    connection_id: &str,
) -> Result<(), ConnectionStoreError> {
    match store.remove(connection_id).await? {
        Some(c) if c.tenant.as_deref() == tenant => Ok(()),
        _ => store.unlist(tenant, connection_id).await,
    }
}
