//! The one table that holds a fleet's state: its design, how to reach it, how to create it.
//!
//! # Design
//!
//! One partition key, `id` (string), and no sort key; one TTL attribute, `expiration` (epoch
//! seconds). Each kind of state lives under its own key prefix:
//!
//! | kind | `id` |
//! |---|---|
//! | rate-limit window | `rl#<limiter>#<sha256(key)>#<period ms>#<window start ms>` |
//! | circuit-breaker state | `cb#<breaker>#<sha256(key)>` |
//! | WebSocket connection | `ws#<api>#c#<sha256(connection id)>` |
//! | a tenant's WebSocket connections | `ws#<api>#t#<sha256(tenant)>#<shard>` |
//! | idempotency record (Powertools' schema) | `idem#<sha256(function, tenant, scope, key)>` |
//!
//! This is also Powertools' idempotency table definition (`id` partition key, `expiration` TTL
//! attribute), so one table serves both. Client-supplied key material is hashed (SHA-256,
//! hex), so `#`, unicode or a 2 KB key can neither collide with another key nor exceed
//! DynamoDB's 2 KB partition-key limit.
//!
//! Neither DynamoDB's TTL nor the local servers remove expired items promptly (DynamoDB takes
//! up to days), so every reader treats an item whose `expiration` has passed as absent.
//!
//! # CloudFormation
//!
//! ```yaml
//! LiftTable:
//!   Type: AWS::DynamoDB::Table
//!   Properties:
//!     BillingMode: PAY_PER_REQUEST
//!     AttributeDefinitions:
//!       - { AttributeName: id, AttributeType: S }
//!     KeySchema:
//!       - { AttributeName: id, KeyType: HASH }
//!     TimeToLiveSpecification:
//!       AttributeName: expiration
//!       Enabled: true
//! ```

use std::fmt;
use std::time::Duration;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use sha2::{Digest, Sha256};

/// The partition key attribute.
pub const KEY_ATTRIBUTE: &str = "id";
/// The TTL attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expiration";

/// A table is missing, has the wrong key schema, or could not be reached or created.
#[derive(Debug)]
pub struct TableError(String);

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TableError {}

fn sdk_error<E, R>(what: &str, table: &str, e: SdkError<E, R>) -> TableError
where
    E: std::error::Error + 'static,
    R: fmt::Debug,
{
    TableError(format!("{what} table `{table}`: {}", DisplayErrorContext(e)))
}

/// The fleet table: a DynamoDB client and the table's name. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FleetTable {
    client: Client,
    name: String,
}

impl FleetTable {
    /// A table reached with `client` (no call is made).
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// A client from `aws_config`'s defaults (so `AWS_ENDPOINT_URL_DYNAMODB` or
    /// `AWS_ENDPOINT_URL` point it at a local server), for table `name`.
    pub async fn from_env(name: impl Into<String>) -> Self {
        let config = aws_config::load_from_env().await;
        Self::new(Client::new(&config), name)
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks at start that the table exists and has the fleet key schema (`id`, a string
    /// partition key, no sort key): a clear error now, not a failure per request later.
    pub async fn verify(&self) -> Result<(), TableError> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.name)
            .send()
            .await
            .map_err(|e| sdk_error("cannot describe", &self.name, e))?;
        let table = out
            .table()
            .ok_or_else(|| TableError(format!("table `{}` has no description", self.name)))?;
        let keys = table.key_schema();
        let hash_ok = keys
            .iter()
            .any(|k| k.attribute_name() == KEY_ATTRIBUTE && *k.key_type() == KeyType::Hash);
        let string_key = table
            .attribute_definitions()
            .iter()
            .any(|a| a.attribute_name() == KEY_ATTRIBUTE && *a.attribute_type() == ScalarAttributeType::S);
        if keys.len() != 1 || !hash_ok || !string_key {
            let found: Vec<String> = keys
                .iter()
                .map(|k| format!("{} ({})", k.attribute_name(), k.key_type().as_str()))
                .collect();
            return Err(TableError(format!(
                "table `{}` has key schema [{}]; Lift's fleet table needs one string partition key `{KEY_ATTRIBUTE}` and no sort key",
                self.name,
                found.join(", ")
            )));
        }
        Ok(())
    }

    /// Creates the table with the fleet design if it does not exist, waits until it is
    /// ACTIVE (at most `wait`), and turns TTL on where the server supports it. For development
    /// and tests; production tables come from infrastructure code (see the module docs).
    pub async fn create_if_missing(&self, wait: Duration) -> Result<(), TableError> {
        if self.verify().await.is_ok() {
            return Ok(());
        }
        let created = self
            .client
            .create_table()
            .table_name(&self.name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(KEY_ATTRIBUTE)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| TableError(e.to_string()))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(KEY_ATTRIBUTE)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| TableError(e.to_string()))?,
            )
            .send()
            .await;
        if let Err(e) = created {
            // Another process may have created it meanwhile: fine if it now verifies.
            let err = sdk_error("cannot create", &self.name, e);
            if self.verify().await.is_err() {
                return Err(err);
            }
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let status = self
                .client
                .describe_table()
                .table_name(&self.name)
                .send()
                .await
                .ok()
                .and_then(|o| o.table().and_then(|t| t.table_status().cloned()));
            if status == Some(TableStatus::Active) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(TableError(format!(
                    "table `{}` is not ACTIVE after {wait:?} (status {status:?})",
                    self.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| TableError(e.to_string()))?;
        if let Err(e) = self
            .client
            .update_time_to_live()
            .table_name(&self.name)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            // dynalite has no TTL API; stores treat expired items as absent anyway.
            tracing::debug!(table = %self.name, error = %DisplayErrorContext(e), "TTL not enabled");
        }
        self.verify().await
    }
}

/// The hex SHA-256 of client-supplied key material: fixed length, no separator inside.
pub fn hash_key(material: &[u8]) -> String {
    let digest = Sha256::digest(material);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Epoch seconds now (wall clock: what DynamoDB's TTL compares with).
pub fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_key_material_hashes_to_distinct_fixed_length_ids() {
        let a = hash_key(b"a#b");
        let b = hash_key("a\u{0}#b".as_bytes());
        let long = hash_key(&[b'x'; 2048]);
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(long.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            hash_key(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
