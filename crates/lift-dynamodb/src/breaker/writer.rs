//! The background task that writes transitions, so `publish` only queues.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::backend::{Backend, Write};
use super::cache::Entry;

/// How many transitions may wait; past that, new ones are dropped (and logged): the local
/// breaker goes on deciding, the fleet only learns later.
pub(crate) const QUEUE: usize = 1024;

/// The sending side; the task ends when every sender is dropped (the store with it).
pub(crate) type Queue = mpsc::Sender<(Arc<Entry>, Write)>;

/// Starts the writer on `backend`'s runtime.
pub(crate) fn spawn(backend: Arc<Backend>) -> Queue {
    let (tx, mut rx) = mpsc::channel::<(Arc<Entry>, Write)>(QUEUE);
    let runtime = backend.runtime.clone();
    runtime.spawn(async move {
        while let Some((entry, write)) = rx.recv().await {
            backend.write(&entry, write).await;
        }
    });
    tx
}
