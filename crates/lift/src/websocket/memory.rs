//! [`MemoryConnectionStore`]: connections kept in the process.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::connection::epoch_secs;
use super::{Connection, ConnectionStore, StoreFuture};

/// Connections kept in this process: for one Lambda environment, local development and
/// tests. Another environment of the same function does not see them; use
/// `lift_dynamodb::DynamoConnectionStore` when connections must be reached from every
/// environment. One mutex guards both maps (each call holds it for a few map operations and
/// never across an await), so the record and the tenant list always agree.
#[derive(Debug, Default)]
pub struct MemoryConnectionStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Connection>,
    by_tenant: HashMap<Option<String>, HashSet<String>>,
}

impl Inner {
    fn unlist(&mut self, tenant: Option<&str>, connection_id: &str) {
        let key = tenant.map(str::to_owned);
        if let Some(ids) = self.by_tenant.get_mut(&key) {
            ids.remove(connection_id);
            if ids.is_empty() {
                self.by_tenant.remove(&key);
            }
        }
    }
}

impl MemoryConnectionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of connections recorded (expired ones included until they are removed).
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether no connection is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ConnectionStore for MemoryConnectionStore {
    fn put<'a>(&'a self, connection: &'a Connection) -> StoreFuture<'a, ()> {
        let mut inner = self.lock();
        if let Some(old) = inner.by_id.insert(connection.connection_id.clone(), connection.clone()) {
            inner.unlist(old.tenant.as_deref(), &old.connection_id);
        }
        inner
            .by_tenant
            .entry(connection.tenant.clone())
            .or_default()
            .insert(connection.connection_id.clone());
        Box::pin(std::future::ready(Ok(())))
    }

    fn get<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>> {
        let now = epoch_secs();
        let found = self
            .lock()
            .by_id
            .get(connection_id)
            .filter(|c| !c.is_expired_at(now))
            .cloned();
        Box::pin(std::future::ready(Ok(found)))
    }

    fn remove<'a>(&'a self, connection_id: &'a str) -> StoreFuture<'a, Option<Connection>> {
        let now = epoch_secs();
        let mut inner = self.lock();
        let removed = inner.by_id.remove(connection_id);
        if let Some(c) = &removed {
            inner.unlist(c.tenant.as_deref(), connection_id);
        }
        drop(inner);
        Box::pin(std::future::ready(Ok(removed.filter(|c| !c.is_expired_at(now)))))
    }

    fn unlist<'a>(&'a self, tenant: Option<&'a str>, connection_id: &'a str) -> StoreFuture<'a, ()> {
        self.lock().unlist(tenant, connection_id);
        Box::pin(std::future::ready(Ok(())))
    }

    fn tenant_connections<'a>(&'a self, tenant: Option<&'a str>) -> StoreFuture<'a, Vec<String>> {
        let now = epoch_secs();
        let inner = self.lock();
        let ids = inner
            .by_tenant
            .get(&tenant.map(str::to_owned))
            .map(|ids| {
                ids.iter()
                    .filter(|id| inner.by_id.get(*id).is_some_and(|c| !c.is_expired_at(now)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Box::pin(std::future::ready(Ok(ids)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn conn(id: &str, tenant: Option<&str>) -> Connection {
        Connection::new(id, tenant.map(str::to_owned), None, Duration::from_secs(60))
    }

    #[tokio::test]
    async fn connections_are_grouped_by_tenant_and_removed_from_their_group() {
        let store = MemoryConnectionStore::new();
        for c in [
            conn("a1", Some("acme")),
            conn("a2", Some("acme")),
            conn("g1", Some("globex")),
            conn("n1", None),
        ] {
            store.put(&c).await.unwrap();
        }
        let mut acme = store.tenant_connections(Some("acme")).await.unwrap();
        acme.sort();
        assert_eq!(acme, ["a1", "a2"]);
        assert_eq!(store.tenant_connections(None).await.unwrap(), ["n1"]);

        let removed = store.remove("a1").await.unwrap().unwrap();
        assert_eq!(removed.tenant.as_deref(), Some("acme"));
        assert_eq!(store.tenant_connections(Some("acme")).await.unwrap(), ["a2"]);
        assert_eq!(store.remove("a1").await.unwrap(), None, "a second $disconnect is fine");

        // Re-recording a connection under another tenant moves it.
        store.put(&conn("g1", Some("acme"))).await.unwrap();
        assert!(store.tenant_connections(Some("globex")).await.unwrap().is_empty());
        assert_eq!(store.len(), 3);
    }

    #[tokio::test]
    async fn expired_connections_are_absent() {
        let store = MemoryConnectionStore::new();
        let mut old = conn("old", Some("acme"));
        old.expiration = epoch_secs() - 1;
        store.put(&old).await.unwrap();
        assert_eq!(store.get("old").await.unwrap(), None);
        assert!(store.tenant_connections(Some("acme")).await.unwrap().is_empty());
    }
}
