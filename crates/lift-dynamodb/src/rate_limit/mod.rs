//! A distributed rate limiter on the fleet table: [`DynamoRateLimitStore`] implements
//! lift-resilience's `RateLimitStore`, so `RateLimitLayer::with_store(key_fn, store)` limits
//! calls across every process that shares the table.
//!
//! # Design
//!
//! * **Windows.** Each [`Limit`] counts calls per key in windows aligned on the epoch, one
//!   item per window: `rl#<limiter>#<sha256(key bytes)>#<period ms>#<window start ms>`, with a
//!   `count` and an `expiration` (the window's end plus a period plus a minute, for TTL).
//!   Windows are keyed by their start, so an expired window is simply never read again.
//!   [`Window::Fixed`] admits `max` per window; [`Window::Sliding`] weights the previous
//!   window's count by the share of it still inside the last period, as `limited` does.
//! * **One write per admitted call per limit.** A check is one atomic conditional `UpdateItem`:
//!   `ADD count 1` under `attribute_not_exists(count) OR count < cap`, `SET expiration`,
//!   `ReturnValues UPDATED_NEW` (which gives `remaining`). Never read-then-write: the condition
//!   is evaluated by DynamoDB on the item itself, so concurrent processes can never admit more
//!   than `max` in a window. A full window fails the condition and writes nothing.
//! * **Sliding windows** need the previous window's final count: it is read once per key per
//!   window (a strongly consistent `GetItem`; concurrent first calls of a window may each read
//!   it) and remembered, since a finished window no longer changes — except at the boundary: a call that started in the previous window (or in a
//!   process whose clock is a little behind) may still count there after another process has
//!   read it. That race admits at most those few in-flight calls more than the formula, once
//!   per window.
//! * **Several limits on one key** (10 per second and 1000 per hour) are checked in order, each
//!   its own item. A later limit that denies does not undo the earlier limits' increments:
//!   the call then counts against those it passed (over-count, never over-admit). Undoing it
//!   atomically would need `TransactWriteItems`, which dynalite lacks, and a second write per
//!   denied call; put the limit most likely to deny first.
//! * **Denial cache.** Once a limit denies a key, the environment denies that key locally until
//!   the window ends (for a sliding window: until the previous window's weight has decayed
//!   enough), through `try_check`, with no round trip: a flood costs one write per environment
//!   per window. The map is bounded ([`DynamoRateLimitStoreBuilder::max_keys`]).
//! * **Keys.** Any key implementing `StoreKey` (strings, integers, IP addresses, options,
//!   tuples; your own types by writing their fields) is written as unambiguous bytes and
//!   hashed (SHA-256, hex): `#`, unicode or a 2 KB key can neither collide with another key nor
//!   exceed DynamoDB's key size.
//! * **Answers.** The same `Decision` the local store gives: the limit, the calls left in the
//!   window (the tightest limit's), `reset` = time to the window's end, and for a denial
//!   `retry_after`; so the layer answers 429 with `Retry-After` and `RateLimit-*` headers.
//! * **Bounded calls.** A check's calls are bounded by [`DEFAULT_TIMEOUT`] (configurable), and
//!   by the invocation's remaining time when the layer passes deadlines
//!   (`RateLimitLayer::request_deadline`). The SDK's retries are off for the store's client.
//!   Errors, throttling and timeouts are a [`StoreError`]: the layer's `FailMode` admits or
//!   rejects the call and reports a `RateLimitStoreFailed` event (`RateLimitStoreErrors` in
//!   Lift's metrics); the store logs a warning at most once per window of its shortest limit.
//! * **Clock.** Windows come from a wall clock in epoch milliseconds (every process must agree
//!   on window boundaries, so not a monotonic clock); tests inject one with
//!   [`DynamoRateLimitStoreBuilder::clock`].
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use lift_dynamodb::rate_limit::{DynamoRateLimitStore, Limit};
//! use lift_dynamodb::FleetTable;
//! use lift_resilience::rate_limit::{FailMode, RateLimitLayer};
//!
//! # async fn f() {
//! let table = FleetTable::from_env("lift").await;
//! let store = DynamoRateLimitStore::builder(&table, "quota", Limit::per_minute(20))
//!     .timeout(Duration::from_secs(1))
//!     .build();
//! let key = |req: &http::Request<String>| {
//!     req.headers().get("x-api-key").and_then(|v| v.to_str().ok()).map(str::to_owned)
//! };
//! let layer = RateLimitLayer::with_store(key, store)
//!     .fail_mode(FailMode::Open)
//!     .http_headers()
//!     .request_deadline();
//! # let _ = layer;
//! # }
//! ```

mod error;
mod limit;
mod local;
mod store;
mod table_ops;

pub use error::StoreError;
pub use limit::{Limit, Window};
pub use store::{system_millis, DynamoRateLimitStore, DynamoRateLimitStoreBuilder, DEFAULT_MAX_KEYS, DEFAULT_TIMEOUT};
