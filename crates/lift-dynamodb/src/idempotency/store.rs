//! [`DynamoIdempotencyStore`]: claim, complete and release on the fleet table.

use std::fmt;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;

use super::item::{StoredRecord, CLAIM, DATA, IN_PROGRESS_EXPIRATION, STATUS, VALIDATION};
use crate::{FleetTable, KEY_ATTRIBUTE, TTL_ATTRIBUTE};

/// The key prefix of idempotency items.
pub const KEY_PREFIX: &str = "idem#";
/// The largest `data` stored: DynamoDB's 400 KB item limit, read as 400,000 bytes (moto
/// refuses items over 405,000; DynamoDB's own limit is 409,600), less 2 KB for the other
/// attributes and their names. A larger result is refused, never truncated.
pub const MAX_DATA_BYTES: usize = 400_000 - 2048;

/// How many times a claim is retried when the record that blocked it is gone (or stale) by
/// the time it is read: each retry is another conditional write, never a blind one.
const CLAIM_ATTEMPTS: usize = 3;

/// The table did not answer, or answered an error.
#[derive(Debug, Clone)]
pub struct IdempotencyStoreError(pub String);

impl fmt::Display for IdempotencyStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "idempotency table: {}", self.0)
    }
}

impl std::error::Error for IdempotencyStoreError {}

fn failed<E, R>(e: SdkError<E, R>) -> IdempotencyStoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    IdempotencyStoreError(DisplayErrorContext(e).to_string())
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimResult {
    /// The key is the caller's.
    Claimed,
    /// A live record holds it.
    Held(StoredRecord),
}

/// Idempotency records on the fleet table. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DynamoIdempotencyStore {
    client: Client,
    table: String,
}

impl DynamoIdempotencyStore {
    /// The store on `table` (its client, SDK retries included; the caller bounds each call).
    pub fn new(table: &FleetTable) -> Self {
        Self {
            client: table.client().clone(),
            table: table.name().to_owned(),
        }
    }

    /// The item id of record `id`: `idem#<id>`.
    pub fn item_id(id: &str) -> String {
        let mut s = String::with_capacity(KEY_PREFIX.len() + id.len());
        s.push_str(KEY_PREFIX);
        s.push_str(id);
        s
    }

    /// Claims `id` with one conditional `PutItem`; see the module docs.
    #[allow(clippy::too_many_arguments)]
    pub async fn claim(
        &self,
        id: &str,
        token: &str,
        validation: Option<&str>,
        expiration: u64,
        in_progress_expiration: u64,
        now_ms: u64,
    ) -> Result<ClaimResult, IdempotencyStoreError> {
        let mut last = None;
        for _ in 0..CLAIM_ATTEMPTS {
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item(KEY_ATTRIBUTE, AttributeValue::S(Self::item_id(id)))
                .item(TTL_ATTRIBUTE, AttributeValue::N(expiration.to_string()))
                .item(
                    IN_PROGRESS_EXPIRATION,
                    AttributeValue::N(in_progress_expiration.to_string()),
                )
                .item(STATUS, AttributeValue::S("INPROGRESS".into()))
                .item(CLAIM, AttributeValue::S(token.to_owned()))
                .condition_expression(
                    "attribute_not_exists(#id) OR #exp <= :now OR (#st = :inprogress AND #ipe <= :now_ms)",
                )
                .expression_attribute_names("#id", KEY_ATTRIBUTE)
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_names("#st", STATUS)
                .expression_attribute_names("#ipe", IN_PROGRESS_EXPIRATION)
                .expression_attribute_values(":now", AttributeValue::N((now_ms / 1000).to_string()))
                .expression_attribute_values(":now_ms", AttributeValue::N(now_ms.to_string()))
                .expression_attribute_values(":inprogress", AttributeValue::S("INPROGRESS".into()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            if let Some(v) = validation {
                put = put.item(VALIDATION, AttributeValue::S(v.to_owned()));
            }
            let err = match put.send().await {
                Ok(_) => return Ok(ClaimResult::Claimed),
                Err(e) => e,
            };
            let held = match err.as_service_error() {
                Some(s) if s.is_conditional_check_failed_exception() => {
                    let old = match s {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                            c.item().and_then(StoredRecord::from_item)
                        }
                        _ => None,
                    };
                    match old {
                        Some(r) => Some(r),
                        // The server did not return the old item (dynalite): read it.
                        None => self.get(id).await?,
                    }
                }
                _ => return Err(failed(err)),
            };
            match held {
                Some(r) if !r.is_stale(now_ms) => return Ok(ClaimResult::Held(r)),
                // Gone or stale by the time it was read: claim again (conditionally).
                other => last = other,
            }
        }
        match last {
            Some(r) => Ok(ClaimResult::Held(r)),
            None => Err(IdempotencyStoreError("the claim kept racing with other writers".into())),
        }
    }

    /// Replaces the caller's claim with the completed record. `Ok(false)` when the claim is no
    /// longer the caller's (nothing written).
    pub async fn complete(
        &self,
        id: &str,
        token: &str,
        data: &str,
        validation: Option<&str>,
        expiration: u64,
    ) -> Result<bool, IdempotencyStoreError> {
        // An update, as Powertools does it: the claim's `in_progress_expiration` stays.
        let mut set = String::from("SET #st = :completed, #data = :data, #exp = :exp");
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(Self::item_id(id)))
            .condition_expression("#claim = :token AND #st = :inprogress")
            .expression_attribute_names("#claim", CLAIM)
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#data", DATA)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()))
            .expression_attribute_values(":inprogress", AttributeValue::S("INPROGRESS".into()))
            .expression_attribute_values(":completed", AttributeValue::S("COMPLETED".into()))
            .expression_attribute_values(":data", AttributeValue::S(data.to_owned()))
            .expression_attribute_values(":exp", AttributeValue::N(expiration.to_string()));
        if let Some(v) = validation {
            set.push_str(", #val = :val");
            update = update
                .expression_attribute_names("#val", VALIDATION)
                .expression_attribute_values(":val", AttributeValue::S(v.to_owned()));
        }
        match update.update_expression(set).send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(failed(e)),
        }
    }

    /// Deletes the caller's claim (no-op if it is no longer theirs).
    pub async fn release(&self, id: &str, token: &str) -> Result<(), IdempotencyStoreError> {
        let sent = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(Self::item_id(id)))
            .condition_expression("#claim = :token AND #st = :inprogress")
            .expression_attribute_names("#claim", CLAIM)
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()))
            .expression_attribute_values(":inprogress", AttributeValue::S("INPROGRESS".into()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(failed(e)),
        }
    }

    /// The record under `id` as stored (stale or not), read consistently.
    pub async fn get(&self, id: &str) -> Result<Option<StoredRecord>, IdempotencyStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(Self::item_id(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(failed)?;
        Ok(out.item().and_then(StoredRecord::from_item))
    }
}
