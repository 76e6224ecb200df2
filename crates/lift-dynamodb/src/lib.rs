//! DynamoDB backends for Lift's fleet state: distributed rate limits and shared circuit-breaker
//! state, in one table (see [`FleetTable`] for its design and CloudFormation snippet).
//!
//! The client is passed in ([`FleetTable::new`]) or built from `aws_config`'s defaults
//! ([`FleetTable::from_env`]), so `AWS_ENDPOINT_URL_DYNAMODB` points it at a local server.

pub mod breaker;
pub mod connections;
pub mod idempotency;
pub mod rate_limit;
mod readiness;
mod request_counter;
mod table;

pub use breaker::{FleetBreakerStore, FleetBreakerStoreBuilder};
pub use connections::DynamoConnectionStore;
pub use readiness::NotReady;
pub use request_counter::RequestCounter;
pub use table::{epoch_secs, hash_key, FleetTable, TableError, KEY_ATTRIBUTE, TTL_ATTRIBUTE};
