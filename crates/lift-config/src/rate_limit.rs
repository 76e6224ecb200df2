//! [`DynamicStore`]: a rate-limit store whose quota follows the settings.

use std::fmt;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use lift_resilience::rate_limit::{Decision, RateLimitStore};

use crate::settings::Settings;
use crate::Dynamic;

struct Built<Q, St> {
    /// The settings' change count this store was checked against.
    version: u64,
    quota: Q,
    store: Arc<St>,
}

/// Wraps a rate-limit store (local GCRA, DynamoDB...) built from a quota `Q` chosen from the
/// settings: each call checks the settings' change count (one atomic load) besides loading
/// its store, and when a new document
/// changes the quota, the store is rebuilt once with it and calls that start afterwards use it.
///
/// What a rebuild keeps is the store's: a DynamoDB store keeps every window's count (they live
/// in the table, keyed without the limit), so a lower limit applies at once to calls already
/// counted; a local GCRA store starts its keys afresh under the new quota. A document that does
/// not change the quota rebuilds nothing.
pub struct DynamicStore<Q, St> {
    settings: Dynamic<Settings>,
    select: Arc<dyn Fn(&Settings) -> Q + Send + Sync>,
    build: Arc<dyn Fn(&Q) -> St + Send + Sync>,
    current: ArcSwap<Built<Q, St>>,
}

impl<Q: fmt::Debug, St> fmt::Debug for DynamicStore<Q, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicStore")
            .field("quota", &self.current.load().quota)
            .finish_non_exhaustive()
    }
}

impl<Q: PartialEq + Send + Sync + 'static, St: Send + Sync + 'static> DynamicStore<Q, St> {
    /// A store built by `build` from the quota `select` picks in `settings` (now, and again
    /// whenever a new document changes it).
    pub fn new(
        settings: Dynamic<Settings>,
        select: impl Fn(&Settings) -> Q + Send + Sync + 'static,
        build: impl Fn(&Q) -> St + Send + Sync + 'static,
    ) -> Self {
        let version = settings.changes();
        let now = settings.load();
        let quota = select(&now);
        let store = Arc::new(build(&quota));
        drop(now);
        Self {
            settings,
            select: Arc::new(select),
            build: Arc::new(build),
            current: ArcSwap::from_pointee(Built { version, quota, store }),
        }
    }

    /// The quota in force.
    pub fn quota(&self) -> Q
    where
        Q: Clone,
    {
        self.current().quota.clone()
    }

    /// The store for the settings in force.
    #[inline]
    fn current(&self) -> Guard<Arc<Built<Q, St>>> {
        let built = self.current.load();
        let version = self.settings.changes();
        if built.version == version {
            return built;
        }
        let quota = (self.select)(&self.settings.load());
        // Same quota: the same store (and its state), only the version noted.
        let store = if quota == built.quota {
            built.store.clone()
        } else {
            Arc::new((self.build)(&quota))
        };
        let next = Arc::new(Built { version, store, quota });
        self.current.compare_and_swap(&built, next);
        self.current.load()
    }
}

impl<K, Q, St> RateLimitStore<K> for DynamicStore<Q, St>
where
    Q: PartialEq + Send + Sync + 'static,
    St: RateLimitStore<K>,
{
    type Future = St::Future;

    fn check(&self, key: &K) -> Self::Future {
        self.current().store.check(key)
    }

    fn check_within(&self, key: &K, deadline: Option<tokio::time::Instant>) -> Self::Future {
        self.current().store.check_within(key, deadline)
    }

    #[inline]
    fn try_check(&self, key: &K) -> Option<Result<Decision, Box<dyn std::error::Error + Send + Sync>>> {
        self.current().store.try_check(key)
    }
}
