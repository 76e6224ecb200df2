//! [`Dynamic`]: a value read on the hot path and replaced, whole, in the background.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

/// A shared value that a configuration source replaces atomically while readers keep going.
///
/// Reading ([`load`](Self::load)) is one atomic load plus a thread-local debt slot (`arc-swap`'s
/// fast path, a few nanoseconds, no lock, no allocation); a reader sees either the whole old
/// value or the whole new one, never a mix, and keeps what it loaded for as long as it holds
/// it. Clones share the value.
///
/// [`changes`](Self::changes) counts the stores: a reader that derives something from the value
/// (a rate-limit store built for a quota) checks it with one relaxed atomic load per call and
/// reloads the value only when it moved.
pub struct Dynamic<T> {
    cell: Arc<Cell<T>>,
}

struct Cell<T> {
    value: ArcSwap<T>,
    /// Stores so far; bumped after each store (so a reader that sees the new count finds the
    /// new value).
    changes: AtomicU64,
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
        f.debug_tuple("Dynamic").field(&**self.cell.value.load()).finish()
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
            cell: Arc::new(Cell {
                value: ArcSwap::from_pointee(value),
                changes: AtomicU64::new(0),
            }),
        }
    }

    /// The current value, for a short read (hold it briefly: it pins that version).
    #[inline]
    pub fn load(&self) -> Guard<Arc<T>> {
        self.cell.value.load()
    }

    /// The current value as an `Arc`, to keep for the length of an invocation.
    #[inline]
    pub fn snapshot(&self) -> Arc<T> {
        self.cell.value.load_full()
    }

    /// How many times the value was replaced (one relaxed atomic load).
    #[inline]
    pub fn changes(&self) -> u64 {
        self.cell.changes.load(Ordering::Acquire)
    }

    /// Replaces the value: readers that start after this see `value`.
    pub fn store(&self, value: T) {
        self.store_arc(Arc::new(value));
    }

    /// Replaces the value with an `Arc` already built.
    pub fn store_arc(&self, value: Arc<T>) {
        self.cell.value.store(value);
        self.cell.changes.fetch_add(1, Ordering::Release);
    }
}
