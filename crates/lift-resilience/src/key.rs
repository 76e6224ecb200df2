//! Partition keys: how a request is mapped to a partition (route, tenant, downstream, ...).

use std::fmt::Debug;
use std::hash::Hash;

/// Maps a request to the key of its partition.
///
/// Implemented for every `Fn(&Req) -> K` closure and for [`Global`] (one partition for all).
/// Keys should be cheap to clone (`Arc<str>`, integers, small enums): a clone happens once per
/// new partition, never per call, but computing the key happens on every call.
pub trait KeyFn<Req>: Send + Sync + 'static {
    /// The partition key.
    type Key: PartitionKey;

    /// The key of `req`.
    fn key(&self, req: &Req) -> Self::Key;
}

impl<Req, K, F> KeyFn<Req> for F
where
    F: Fn(&Req) -> K + Send + Sync + 'static,
    K: PartitionKey,
{
    type Key = K;

    #[inline]
    fn key(&self, req: &Req) -> K {
        self(req)
    }
}

/// A single partition shared by every request. Lookups through it take no lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Global;

impl<Req> KeyFn<Req> for Global {
    type Key = ();

    #[inline]
    fn key(&self, _req: &Req) {}
}

/// What a partition key must be: hashable, comparable, cloneable, printable in events.
pub trait PartitionKey: Hash + Eq + Clone + Debug + Send + Sync + 'static {}

impl<K: Hash + Eq + Clone + Debug + Send + Sync + 'static> PartitionKey for K {}
