//! [`ConnectionStore`]: where WebSocket connections are recorded, and its error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::Connection;

/// The future a [`ConnectionStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ConnectionStoreError>> + Send + 'a>>;

/// Where WebSocket connections are recorded: by connection id, and grouped by tenant so a
/// broadcast reads one tenant's connections without scanning anything else.
///
/// [`MemoryConnectionStore`](super::MemoryConnectionStore) keeps them in the process;
/// `lift_dynamodb::DynamoConnectionStore` (feature `dynamodb`) in the fleet table. Every method
/// treats an expired connection as absent. Object safe: apps hold an `Arc<dyn ConnectionStore>`.
pub trait ConnectionStore: Send + Sync + 'static {
    /// Records `connection` (replacing a record with the same id) and lists it under its
    /// tenant.
    fn put<'a>(&'a self, connection: &'a Connection) -> StoreFuture<'a, ()>;

    /// The connection with this id, if recorded and not expired.
    fn get<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>>;

    /// Forgets the connection and takes it off its tenant's list; returns what was recorded
    /// (`None` when nothing was, which is not an error: `$disconnect` can come twice).
    fn remove<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>>;

    /// Takes `connection_id` off `tenant`'s list only (for an id listed without a record, such
    /// as one whose record expired).
    fn unlist<'a>(&'a self, tenant: Option<&'a str>, connection_id: &'a str) -> StoreFuture<'a, ()>;

    /// The ids of `tenant`'s connections (`None`: the connections recorded without a tenant).
    fn tenant_connections<'a>(&'a self, tenant: Option<&'a str>) -> StoreFuture<'a, Vec<String>>;
}

/// A connection store did not answer or answered with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionStoreError {
    /// No answer within the store's bound (or the invocation's remaining time).
    TimedOut {
        /// The bound that elapsed.
        after: Duration,
    },
    /// The store answered with an error or could not be reached (the message says which).
    Unavailable(String),
}

impl fmt::Display for ConnectionStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut { after } => write!(f, "connection store did not answer within {after:?}"),
            Self::Unavailable(e) => write!(f, "connection store unavailable: {e}"),
        }
    }
}

impl std::error::Error for ConnectionStoreError {}

impl<T: ConnectionStore + ?Sized> ConnectionStore for std::sync::Arc<T> {
    fn put<'a>(&'a self, connection: &'a Connection) -> StoreFuture<'a, ()> {
        (**self).put(connection)
    }
    fn get<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>> {
        (**self).get(connection_id)
    }
    fn remove<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>> {
        (**self).remove(connection_id)
    }
    fn unlist<'a>(&'a self, tenant: Option<&'a str>, connection_id: &'a str) -> StoreFuture<'a, ()> {
        (**self).unlist(tenant, connection_id)
    }
    fn tenant_connections<'a>(&'a self, tenant: Option<&'a str>) -> StoreFuture<'a, Vec<String>> {
        (**self).tenant_connections(tenant)
    }
}
