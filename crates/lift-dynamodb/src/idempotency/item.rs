//! The attributes of an idempotency item and their decoding.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::TTL_ATTRIBUTE;

/// Epoch milliseconds after which an in-progress claim is abandoned.
pub const IN_PROGRESS_EXPIRATION: &str = "in_progress_expiration";
/// `INPROGRESS` or `COMPLETED`.
pub const STATUS: &str = "status";
/// The stored result.
pub const DATA: &str = "data";
/// The payload hash.
pub const VALIDATION: &str = "validation";
/// The claim's token (Lift's own attribute).
pub const CLAIM: &str = "claim";

/// An idempotency item as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// `INPROGRESS` or `COMPLETED`.
    pub status: String,
    /// Epoch seconds.
    pub expiration: u64,
    /// Epoch milliseconds.
    pub in_progress_expiration: Option<u64>,
    /// The result (completed records).
    pub data: Option<String>,
    /// The payload hash.
    pub validation: Option<String>,
    /// The claim's token.
    pub claim: Option<String>,
}

fn s(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn n(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<u64>().ok())
}

impl StoredRecord {
    /// Decodes an item; `None` when it lacks a status or an expiration.
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        Some(Self {
            status: s(item, STATUS)?,
            expiration: n(item, TTL_ATTRIBUTE)?,
            in_progress_expiration: n(item, IN_PROGRESS_EXPIRATION),
            data: s(item, DATA),
            validation: s(item, VALIDATION),
            claim: s(item, CLAIM),
        })
    }

    /// Whether the item counts as absent at `now_ms` (expired, or in progress past its
    /// `in_progress_expiration`): the same rule as the claim's condition.
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.expiration <= now_ms / 1000
            || (self.status == "INPROGRESS" && self.in_progress_expiration.is_some_and(|t| t <= now_ms))
    }
}
