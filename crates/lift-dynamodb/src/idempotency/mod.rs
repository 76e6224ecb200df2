//! Idempotency records on the fleet table, in Powertools' schema, for Lift's idempotency
//! policy (`lift::idempotency`, which implements its store trait for
//! [`DynamoIdempotencyStore`] with the `dynamodb` feature).
//!
//! # Items
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `id` | S | `idem#<sha256(function, tenant, scope, key)>` |
//! | `expiration` | N | epoch seconds; the TTL attribute |
//! | `in_progress_expiration` | N | epoch milliseconds: the claiming invocation's deadline |
//! | `status` | S | `INPROGRESS` or `COMPLETED` |
//! | `data` | S | the result (JSON), completed records only |
//! | `validation` | S | SHA-256 of the payload, when validated |
//! | `claim` | S | Lift's own: the claim's token, so only its holder completes or releases it |
//!
//! # Calls
//!
//! - claim: one conditional `PutItem` (`attribute_not_exists(id) OR expiration <= now OR
//!   (status = INPROGRESS AND in_progress_expiration <= now ms)`) with
//!   `ReturnValuesOnConditionCheckFailure=ALL_OLD`, so a repeat learns the live record in the
//!   same round trip; where the server does not return it (dynalite), one consistent
//!   `GetItem`;
//! - complete: one `UpdateItem` (status, data, expiration, validation), conditional on the
//!   claim still being the caller's;
//! - release: one `DeleteItem`, conditional the same way.

mod item;
mod store;

pub use item::{StoredRecord, CLAIM, DATA, IN_PROGRESS_EXPIRATION, STATUS, VALIDATION};
pub use store::{ClaimResult, DynamoIdempotencyStore, IdempotencyStoreError, KEY_PREFIX, MAX_DATA_BYTES};
