//! [`DynamoConnectionStore`]: the calls behind `$connect`, `$disconnect` and a broadcast.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;

use super::item::{expiration_of, shard_of, Ids, CONNECTIONS};
use super::{StoreError, StoredConnection};
use crate::{epoch_secs, FleetTable, KEY_ATTRIBUTE, TTL_ATTRIBUTE};

/// The default bound on one store call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// WebSocket connections on the fleet table (see the [module docs](super) for the design).
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct DynamoConnectionStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    table: String,
    ids: Ids,
    shards: u32,
    timeout: Duration,
}

impl DynamoConnectionStore {
    /// The connections of WebSocket API `name` (part of every item id: APIs with different
    /// names sharing a table never see each other's connections) on `table`.
    ///
    /// Its client is the table's with the SDK's retries off: a retried call would outlast the
    /// store's timeout (and the `$connect` waiting on it), and a failed one has a clear cause.
    pub fn new(table: &FleetTable, name: &str) -> Self {
        let config = table
            .client()
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            inner: Arc::new(Inner {
                client: Client::from_conf(config),
                table: table.name().to_owned(),
                ids: Ids::new(name),
                shards: 1,
                timeout: DEFAULT_TIMEOUT,
            }),
        }
    }

    /// Spreads each tenant's list over `shards` items (default 1; at least 1). Every process
    /// sharing the table must use the same number.
    pub fn shards(self, shards: u32) -> Self {
        self.with(|i| i.shards = shards.max(1))
    }

    /// Bound on one store call (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|i| i.timeout = timeout)
    }

    fn with(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            client: shared.client.clone(),
            table: shared.table.clone(),
            ids: shared.ids.clone(),
            shards: shared.shards,
            timeout: shared.timeout,
        });
        change(&mut inner);
        Self { inner: Arc::new(inner) }
    }

    /// Records the connection and lists it under its tenant.
    pub async fn put(&self, connection: &StoredConnection) -> Result<(), StoreError> {
        let i = &self.inner;
        let id = i.ids.connection(&connection.connection_id);
        self.bounded(
            i.client
                .put_item()
                .table_name(&i.table)
                .set_item(Some(connection.to_item(id)))
                .send(),
        )
        .await?
        .map_err(|e| self.failed("PutItem", e))?;
        self.list(connection).await
    }

    /// The connection, if recorded and not expired.
    pub async fn get(&self, connection_id: &str) -> Result<Option<StoredConnection>, StoreError> {
        let i = &self.inner;
        let out = self
            .bounded(
                i.client
                    .get_item()
                    .table_name(&i.table)
                    .key(KEY_ATTRIBUTE, AttributeValue::S(i.ids.connection(connection_id)))
                    .consistent_read(true)
                    .send(),
            )
            .await?
            .map_err(|e| self.failed("GetItem", e))?;
        let now = epoch_secs();
        Ok(out
            .item()
            .and_then(StoredConnection::from_item)
            .filter(|c| c.expiration > now))
    }

    /// Forgets the connection and unlists it from its tenant; returns the record if there was
    /// one that had not expired.
    pub async fn remove(&self, connection_id: &str) -> Result<Option<StoredConnection>, StoreError> {
        let i = &self.inner;
        let out = self
            .bounded(
                i.client
                    .delete_item()
                    .table_name(&i.table)
                    .key(KEY_ATTRIBUTE, AttributeValue::S(i.ids.connection(connection_id)))
                    .return_values(ReturnValue::AllOld)
                    .send(),
            )
            .await?
            .map_err(|e| self.failed("DeleteItem", e))?;
        let Some(old) = out.attributes().and_then(StoredConnection::from_item) else {
            return Ok(None);
        };
        self.unlist(old.tenant.as_deref(), connection_id).await?;
        Ok((old.expiration > epoch_secs()).then_some(old))
    }

    /// Takes `connection_id` off `tenant`'s list (nothing happens if it is not there).
    pub async fn unlist(&self, tenant: Option<&str>, connection_id: &str) -> Result<(), StoreError> {
        let i = &self.inner;
        let list = i.ids.tenant_list(tenant, shard_of(connection_id, i.shards));
        let sent = self
            .bounded(
                i.client
                    .update_item()
                    .table_name(&i.table)
                    .key(KEY_ATTRIBUTE, AttributeValue::S(list))
                    .update_expression("DELETE #c :id")
                    // Never create a key-only item (it would have no TTL).
                    .condition_expression("attribute_exists(#c)")
                    .expression_attribute_names("#c", CONNECTIONS)
                    .expression_attribute_values(":id", AttributeValue::Ss(vec![connection_id.to_owned()]))
                    .send(),
            )
            .await?;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(self.failed("UpdateItem", e)),
        }
    }

    /// The ids listed under `tenant` (every shard read concurrently, strongly consistent).
    pub async fn tenant_connections(&self, tenant: Option<&str>) -> Result<Vec<String>, StoreError> {
        let i = &self.inner;
        let reads = (0..i.shards).map(|shard| self.read_list(i.ids.tenant_list(tenant, shard)));
        let lists = futures_util::future::try_join_all(reads).await?;
        Ok(lists.into_iter().flatten().collect())
    }

    async fn read_list(&self, list: String) -> Result<Vec<String>, StoreError> {
        let i = &self.inner;
        let out = self
            .bounded(
                i.client
                    .get_item()
                    .table_name(&i.table)
                    .key(KEY_ATTRIBUTE, AttributeValue::S(list))
                    .consistent_read(true)
                    .send(),
            )
            .await?
            .map_err(|e| self.failed("GetItem", e))?;
        let now = epoch_secs();
        let Some(item) = out.item().filter(|it| expiration_of(it).is_some_and(|e| e > now)) else {
            return Ok(Vec::new());
        };
        Ok(item
            .get(CONNECTIONS)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default())
    }

    /// Adds the connection to its tenant's list; replaces a list that has expired.
    async fn list(&self, connection: &StoredConnection) -> Result<(), StoreError> {
        let i = &self.inner;
        let list = i.ids.tenant_list(
            connection.tenant.as_deref(),
            shard_of(&connection.connection_id, i.shards),
        );
        let member = || AttributeValue::Ss(vec![connection.connection_id.clone()]);
        let expiration = AttributeValue::N(connection.expiration.to_string());
        // Twice at most: a concurrent connect may replace an expired list between our tries.
        for _ in 0..2 {
            let now = AttributeValue::N(epoch_secs().to_string());
            let added = self
                .bounded(
                    i.client
                        .update_item()
                        .table_name(&i.table)
                        .key(KEY_ATTRIBUTE, AttributeValue::S(list.clone()))
                        .update_expression("ADD #c :id SET #e = :e")
                        .condition_expression("attribute_not_exists(#e) OR #e > :now")
                        .expression_attribute_names("#c", CONNECTIONS)
                        .expression_attribute_names("#e", TTL_ATTRIBUTE)
                        .expression_attribute_values(":id", member())
                        .expression_attribute_values(":e", expiration.clone())
                        .expression_attribute_values(":now", now.clone())
                        .send(),
                )
                .await?;
            match added {
                Ok(_) => return Ok(()),
                Err(e) if is_condition_failure(&e) => {}
                Err(e) => return Err(self.failed("UpdateItem", e)),
            }
            // The list has expired: start a new one, unless someone else just did.
            let replaced = self
                .bounded(
                    i.client
                        .put_item()
                        .table_name(&i.table)
                        .item(KEY_ATTRIBUTE, AttributeValue::S(list.clone()))
                        .item(CONNECTIONS, member())
                        .item(TTL_ATTRIBUTE, expiration.clone())
                        .condition_expression("#e <= :now")
                        .expression_attribute_names("#e", TTL_ATTRIBUTE)
                        .expression_attribute_values(":now", now)
                        .send(),
                )
                .await?;
            match replaced {
                Ok(_) => return Ok(()),
                Err(e) if is_condition_failure(&e) => {}
                Err(e) => return Err(self.failed("PutItem", e)),
            }
        }
        Err(StoreError::Failed(format!(
            "table `{}`: the tenant list {list} kept changing while a connection was added",
            i.table
        )))
    }

    async fn bounded<F: Future>(&self, call: F) -> Result<F::Output, StoreError> {
        let after = self.inner.timeout;
        tokio::time::timeout(after, call)
            .await
            .map_err(|_| StoreError::TimedOut {
                table: self.inner.table.clone(),
                after,
            })
    }

    fn failed<E, R>(&self, op: &str, e: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        StoreError::Failed(format!(
            "{op} on table `{}`: {}",
            self.inner.table,
            DisplayErrorContext(e)
        ))
    }
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}
