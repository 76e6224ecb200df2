//! Idempotency: exactly-once effects over at-least-once delivery, in one process or across a
//! fleet (see `docs/idempotency.md`).
//!
//! An [`Idempotency`] policy holds a store ([`MemoryStore`] in process, the embedded default;
//! `lift_dynamodb::idempotency::DynamoIdempotencyStore` fleet-wide with the `dynamodb`
//! feature) and is applied three ways:
//!
//! - [`IdempotencyLayer`] on HTTP routes, keyed on the `Idempotency-Key` header;
//! - [`Idempotency::records`] around record handlers, keyed on a [`Selection`] of the body;
//! - [`Idempotency::run`] around any piece of work, keyed on a [`Key`].
//!
//! The state machine is Powertools': a call claims its key with one atomic write (absent,
//! expired, or in progress past its `in_progress_expiration`, which is the claiming
//! invocation's deadline); a repeat learns the live record from the same write and replays
//! the result, or is refused while the first call runs (409 `idempotency_in_progress`), or
//! with another payload (422 `idempotency_key_reused`). A failure or panic deletes the claim.
//!
//! One concept per file: `key` (derivation), `store` (trait and record), `memory`, `cache`
//! (local cache of completed records), `policy` (the state machine), `http`, `records`, `run`,
//! `error` (codes).

mod cache;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod error;
mod http;
mod key;
mod memory;
mod policy;
mod records;
mod run;
mod store;

pub(crate) use error::Refusal;

pub use error::code;
pub use http::{IdempotencyLayer, IdempotencyService, IDEMPOTENCY_KEY_HEADER, MAX_KEY_LEN, REPLAYED_HEADER};
pub use key::{Key, Selection};
pub use memory::{MemoryStore, DEFAULT_MAX_RECORDS};
pub use policy::{Idempotency, IdempotencyBuilder, DEFAULT_EXPIRY, DEFAULT_LOCAL_CACHE, DEFAULT_STORE_TIMEOUT};
pub use records::IdempotentRecords;
pub use store::{ClaimOutcome, ClaimRequest, Completion, IdempotencyStore, Record, Status, StoreError, StoreFuture};
