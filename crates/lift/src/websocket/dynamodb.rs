//! The fleet table as a [`ConnectionStore`]: `lift_dynamodb::DynamoConnectionStore`.
//!
//! The trait lives here and the store in `lift-dynamodb` (which cannot depend on `lift`: `lift`
//! depends on it), so the impl is here, behind the `dynamodb` feature.

use lift_dynamodb::connections::{StoreError, StoredConnection};
use lift_dynamodb::DynamoConnectionStore;

use super::{Connection, ConnectionStore, ConnectionStoreError, StoreFuture};

/// Every failure, the table's timeout included, becomes `Unavailable` with a message naming
/// the table (`TimedOut` is the invocation's deadline).
fn convert(e: StoreError) -> ConnectionStoreError {
    ConnectionStoreError::Unavailable(e.to_string())
}

fn to_lift(c: StoredConnection) -> Connection {
    Connection {
        connection_id: c.connection_id,
        tenant: c.tenant,
        subject: c.subject,
        expiration: c.expiration,
    }
}

impl ConnectionStore for DynamoConnectionStore {
    fn put<'a>(&'a self, connection: &'a Connection) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let stored = StoredConnection::new(
                connection.connection_id.clone(),
                connection.tenant.clone(),
                connection.subject.clone(),
                connection.expiration,
            );
            DynamoConnectionStore::put(self, &stored).await.map_err(convert)
        })
    }

    fn get<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>> {
        Box::pin(async move {
            DynamoConnectionStore::get(self, connection_id)
                .await
                .map(|c| c.map(to_lift))
                .map_err(convert)
        })
    }

    fn remove<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>> {
        Box::pin(async move {
            DynamoConnectionStore::remove(self, connection_id)
                .await
                .map(|c| c.map(to_lift))
                .map_err(convert)
        })
    }

    fn unlist<'a>(&'a self, tenant: Option<&'a str>, connection_id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            DynamoConnectionStore::unlist(self, tenant, connection_id)
                .await
                .map_err(convert)
        })
    }

    fn tenant_connections<'a>(&'a self, tenant: Option<&'a str>) -> StoreFuture<'a, Vec<String>> {
        Box::pin(async move {
            DynamoConnectionStore::tenant_connections(self, tenant)
                .await
                .map_err(convert)
        })
    }
}
