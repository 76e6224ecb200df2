//! Sending to a tenant's connections, and forgetting the ones that are gone.

use futures_util::stream::{self, StreamExt};

use super::lifecycle::remove_gone;
use super::{ConnectionStore, ConnectionStoreError, ManagementApi, ManagementError};

/// How many `PostToConnection` calls a broadcast keeps in flight.
pub const DEFAULT_BROADCAST_CONCURRENCY: usize = 16;

/// What a [`broadcast`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BroadcastReport {
    /// Connections the message was delivered to.
    pub sent: usize,
    /// Connections that answered 410 Gone, removed from the store.
    pub gone: Vec<String>,
    /// Connections the message could not be delivered to for another reason (throttled,
    /// timed out, refused), with the reason; they stay in the store.
    pub failed: Vec<(String, ManagementError)>,
}

/// Sends `data` to every connection of `tenant` (`None`: the connections recorded without a
/// tenant), [`DEFAULT_BROADCAST_CONCURRENCY`] at a time. A connection that answers 410 Gone is
/// removed from the store. Only reading the tenant's connections can fail the broadcast as a
/// whole; each send's outcome is in the report.
pub async fn broadcast(
    store: &dyn ConnectionStore,
    api: &ManagementApi,
    tenant: Option<&str>,
    data: &[u8],
) -> Result<BroadcastReport, ConnectionStoreError> {
    let ids = store.tenant_connections(tenant).await?;
    let outcomes: Vec<(String, Result<(), ManagementError>)> = stream::iter(ids)
        .map(|id| async move {
            let sent = api.send(&id, data).await;
            (id, sent)
        })
        .buffer_unordered(DEFAULT_BROADCAST_CONCURRENCY)
        .collect()
        .await;
    let mut report = BroadcastReport::default();
    for (id, outcome) in outcomes {
        match outcome {
            Ok(()) => report.sent += 1,
            Err(ManagementError::Gone) => {
                if let Err(e) = remove_gone(store, tenant, &id).await {
                    tracing::warn!(connection_id = %id, error = %e, "gone WebSocket connection not removed");
                }
                report.gone.push(id);
            }
            Err(e) => {
                tracing::warn!(connection_id = %id, error = %e, "WebSocket message not delivered");
                report.failed.push((id, e));
            }
        }
    }
    Ok(report)
}

/// Sends `data` to one connection; if it is gone (410), removes it from the store before
/// returning [`ManagementError::Gone`].
pub async fn send(
    store: &dyn ConnectionStore,
    api: &ManagementApi,
    connection_id: &str,
    data: &[u8],
) -> Result<(), ManagementError> {
    let sent = api.send(connection_id, data).await;
    if sent == Err(ManagementError::Gone) {
        match store.remove(connection_id).await {
            Ok(_) => {}
            Err(e) => tracing::warn!(connection_id, error = %e, "gone WebSocket connection not removed"),
        }
    }
    sent
}
