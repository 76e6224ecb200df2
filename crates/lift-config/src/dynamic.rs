//! [`Dynamic`]: a value read on the hot path and replaced, whole, in the background.

use std::fmt;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

/// A shared value that a configuration source replaces atomically while readers keep going.
///
/// Reading ([`load`](Self::load)) is one atomic load plus a thread-local debt slot (`arc-swap`'s
/// fast path, a few nanoseconds, no lock, no allocation); a reader sees either the whole old
/// value or the whole new one, never a mix, and keeps what it loaded for as long as it holds
/// it. Clones share the value.
pub struct Dynamic<T> {
    cell: Arc<ArcSwap<T>>,
}

impl<T> Clone for Dynamic<T> {
    fn clone(&self) -> Self {
        Self {
            cell: self.cell.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Dynamic<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Dynamic").field(&**self.cell.load()).finish()
    }
}

impl<T: Default> Default for Dynamic<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Dynamic<T> {
    /// A value that starts as `value`.
    pub fn new(value: T) -> Self {
        Self {
            cell: Arc::new(ArcSwap::from_pointee(value)),
        }
    }

    /// The current value, for a short read (hold it briefly: it pins that version).
    #[inline]
    pub fn load(&self) -> Guard<Arc<T>> {
        self.cell.load()
    }

    /// The current value as an `Arc`, to keep for the length of an invocation.
    #[inline]
    pub fn snapshot(&self) -> Arc<T> {
        self.cell.load_full()
    }

    /// Replaces the value: readers that start after this see `value`.
    pub fn store(&self, value: T) {
        self.cell.store(Arc::new(value));
    }

    /// Replaces the value with an `Arc` already built.
    pub fn store_arc(&self, value: Arc<T>) {
        self.cell.store(value);
    }
}
