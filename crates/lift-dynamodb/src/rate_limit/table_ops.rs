//! The two calls the store makes: a conditional counter increment and a read of a finished
//! window's count.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;

use super::StoreError;
use crate::{KEY_ATTRIBUTE, TTL_ATTRIBUTE};

/// The counter attribute of a window item.
pub(crate) const COUNT_ATTRIBUTE: &str = "count";

/// One atomic conditional `UpdateItem`: `count += 1` if the window holds fewer than `cap`
/// calls (or none yet), and the item's expiration. `Some(new count)` when admitted, `None`
/// when the window is full (nothing written).
pub(crate) async fn increment(
    client: &Client,
    table: &str,
    id: String,
    cap: u64,
    expiration: u64,
) -> Result<Option<u64>, StoreError> {
    let sent = client
        .update_item()
        .table_name(table)
        .key(KEY_ATTRIBUTE, AttributeValue::S(id))
        .update_expression("SET #e = :e ADD #c :one")
        .condition_expression("attribute_not_exists(#c) OR #c < :cap")
        .expression_attribute_names("#c", COUNT_ATTRIBUTE)
        .expression_attribute_names("#e", TTL_ATTRIBUTE)
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":cap", AttributeValue::N(cap.to_string()))
        .expression_attribute_values(":e", AttributeValue::N(expiration.to_string()))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await;
    match sent {
        Ok(out) => {
            let count = out
                .attributes()
                .and_then(|a| a.get(COUNT_ATTRIBUTE))
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| StoreError::Failed("UpdateItem answered no count".into()))?;
            Ok(Some(count))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(e)),
    }
}

/// The count of a finished window (0 if it has no item). Strongly consistent.
pub(crate) async fn read_count(client: &Client, table: &str, id: String) -> Result<u64, StoreError> {
    let out = client
        .get_item()
        .table_name(table)
        .key(KEY_ATTRIBUTE, AttributeValue::S(id))
        .consistent_read(true)
        .projection_expression("#c")
        .expression_attribute_names("#c", COUNT_ATTRIBUTE)
        .send()
        .await
        .map_err(classify)?;
    Ok(out
        .item()
        .and_then(|i| i.get(COUNT_ATTRIBUTE))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0))
}

fn classify<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let throttled = matches!(
        e.code(),
        Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded")
    );
    let text = DisplayErrorContext(e).to_string();
    if throttled {
        StoreError::Throttled(text)
    } else {
        StoreError::Failed(text)
    }
}
