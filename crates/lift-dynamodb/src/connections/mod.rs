//! WebSocket connections on the fleet table: [`DynamoConnectionStore`] records who is
//! connected, by connection id and grouped by tenant, so a broadcast to one tenant reads that
//! tenant's list and nothing else. `lift` implements its `ConnectionStore` trait for it
//! (feature `dynamodb`).
//!
//! # Design
//!
//! The fleet table has one string partition key and no sort key or index, so a tenant's
//! connections cannot be *queried* by an attribute, and a `Scan` would read every item of
//! every kind in the table. Instead each tenant has its own list item, kept next to the
//! per-connection records:
//!
//! | item | `id` | attributes |
//! |---|---|---|
//! | connection | `ws#<name>#c#<sha256(connection id)>` | `connection_id`, `tenant`?, `subject`?, `expiration` |
//! | tenant list | `ws#<name>#t#<sha256(tenant)>#<shard>` (`…#t#-#<shard>` without a tenant) | `connections` (string set), `expiration` |
//!
//! * **`$connect`** writes the connection item (`PutItem`), then adds the id to its tenant's
//!   list: one atomic `UpdateItem` (`ADD connections :id SET expiration = :e`), which creates
//!   the list if needed and never loses a concurrent connect (no read-modify-write). A list
//!   whose `expiration` has passed is replaced instead (a conditional `PutItem`), so expired
//!   ids never come back to life.
//! * **`$disconnect`** deletes the connection item (`DeleteItem`, returning it, which names
//!   the tenant) and removes the id from that tenant's list (`DELETE connections :id`, only if
//!   the list exists, so no key-only item without TTL is ever created).
//! * **Broadcast** reads the tenant's list: one strongly consistent `GetItem` per shard
//!   (concurrently). Cost is one read of at most 400 KB per shard, whatever else the table
//!   holds.
//! * **Shards.** An item holds at most 400 KB: about 20,000 API Gateway connection ids. A
//!   tenant that may hold more, or that connects faster than one item accepts writes (about
//!   1,000 per second), spreads its list over [`shards`](DynamoConnectionStore::shards)
//!   items (`sha256(connection id) mod shards`); a broadcast then reads them all. Every process
//!   sharing a table must use the same shard count.
//! * **TTL.** Connection items expire with the connection (`expiration`, 2 hours and 5
//!   minutes by default: API Gateway's longest connection). A list's `expiration` is its
//!   latest connect's. Readers treat expired items as absent (neither DynamoDB's TTL nor the
//!   local servers delete them promptly).
//! * **Not transactional** (dynalite has no transactions): a crash between the two writes of
//!   a connect or a disconnect leaves at most an id listed without a record. Such an id is
//!   harmless: the next broadcast to it gets 410 Gone, and `lift`'s broadcast unlists it.
//! * **Bounded calls.** Each call is bounded by [`timeout`](DynamoConnectionStore::timeout)
//!   (default [`DEFAULT_TIMEOUT`]); failures are a [`StoreError`] naming the table and cause.

mod error;
mod item;
mod store;

pub use error::StoreError;
pub use item::StoredConnection;
pub use store::{DynamoConnectionStore, DEFAULT_TIMEOUT};
