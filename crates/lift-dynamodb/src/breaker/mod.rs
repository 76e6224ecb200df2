//! Circuit-breaker state shared by a fleet: [`FleetBreakerStore`], lift-resilience's
//! [`BreakerStore`](lift_resilience::circuit_breaker::BreakerStore) on the fleet table.
//!
//! Each process keeps its own breaker (windows, thresholds, the state machine); the table
//! holds only what the fleet must agree on, one item per breaker partition:
//!
//! | attribute | meaning |
//! |---|---|
//! | `id` | `cb#<breaker>#<sha256(Debug of the partition key)>` |
//! | `open_until` | end of the shared open period, epoch ms; `0` once the fleet's probe closed it |
//! | `probe_owner`, `probe_until` | the process elected to probe in half-open, and its lease (epoch ms) |
//! | `expiration` | TTL, epoch s: `open_until` (or the close) plus a margin (default 10 min) |
//!
//! An item past its `expiration` counts as absent (servers keep expired items for days).
//!
//! # Writes: transitions only, each one conditional write
//!
//! `publish` queues; a background task writes, one `UpdateItem` per transition, whose
//! condition decides (never read-then-write):
//!
//! * **open** (a local breaker opened): `SET open_until = :until` (removing any probe) only if
//!   that moves `open_until` forward;
//! * **closed** (a trial call closed a local breaker): `SET open_until = 0` only if this process
//!   owns the probe, or no probe holds a live lease after the open period;
//! * **probe election** (see below).
//!
//! Transitions the store itself told the breaker of (`Transition::from_store`) are not written
//! back, half-open is not written (each process reaches it by the clock), and forced or
//! disabled states stay local. A closed breaker therefore writes nothing.
//!
//! # Reads: at most once per interval per key
//!
//! `remote_open` (asked on every call of a closed breaker) answers from the cache: a
//! read-locked lookup of the key's entry, a monotonic clock read (is a read due?) and an atomic
//! load; a wall-clock read only while an open period is known. When the key's entry is older
//! than the refresh interval (default 1 s) it starts one background `GetItem` (at most one in
//! flight per key) and answers from the old value meanwhile. A background task also refreshes
//! every key the process has met (four ticks per interval, each key still read at most once per
//! interval), so the first call after a quiet spell already knows what the fleet decided. So a
//! circuit opened in one process opens in every other within an interval and a quarter plus a
//! round trip, and a key costs at most one read per second per process. (A key a process has
//! never met is learnt on its first call, which is decided on local state.)
//!
//! # Half-open: one probe for the fleet
//!
//! When the shared open period ends, every process's breaker turns half-open and asks
//! [`probe`](lift_resilience::circuit_breaker::BreakerStore::probe) before admitting a trial
//! call. The store answers from its cache once the cache is less than an interval old (an open
//! breaker reads nothing, so at the end of the open period it first reads, rejecting meanwhile;
//! an answer to a call older than the one known is dropped): the fleet open again → open for the rest; closed by
//! the probe → close without a trial; a live probe lease → admit if it is ours, else wait
//! (reject); no live lease → start an election and wait. The election is one conditional
//! write, `SET probe_owner = :me, probe_until = now + lease IF open_until <= now AND (no
//! probe_until OR probe_until < now)`: exactly one process wins; the others re-read the item
//! and wait for its verdict, published as **closed** (everyone closes at their next read) or
//! **open** (everyone opens again). If the owner dies, its lease (default 10 s; keep it above a
//! trial call's timeout) lapses and another process is elected. The winner admits the
//! breaker's permitted trial calls (`permitted_calls_in_half_open`); the others none.
//!
//! # An unreachable store
//!
//! Every call is bounded (default 500 ms). After two failed calls in a row for a key (errors or
//! timeouts; reads are an interval apart) its half-open admits by local rules until the store
//! answers again: one slow answer does not let a second process probe, a store gone for an
//! interval does not keep the breaker shut. `remote_open` keeps its last answer (an open period
//! it knew of still ends on time). Failures are logged at most once per interval. Nothing blocks
//! a call: the breaker only ever reads the cache.
//!
//! # Several processes in one test
//!
//! Each store is one process of the fleet: give each its own client (and, by default, it gets
//! its own random process id, or set one with
//! [`process_id`](FleetBreakerStoreBuilder::process_id)), all on one table.

mod backend;
mod builder;
mod cache;
mod item;
mod store;
mod throttled_log;
mod writer;

pub use builder::FleetBreakerStoreBuilder;
pub use store::FleetBreakerStore;
