use std::sync::Arc;

use tower::Layer;

use super::{LocalStore, NoHeaders, Quota, RateLimit, RateLimitHeaders, RateLimitStore};
use crate::event::Telemetry;
use crate::shared::telemetry_builders;
use crate::{Global, KeyFn, PartitionKey};

/// What to do when the store cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailMode {
    /// Admit the call (the default: availability over strictness).
    #[default]
    Open,
    /// Fail the call with the store's error.
    Closed,
}

/// Applies [`RateLimit`] to a service. All services made by one layer and its clones share its
/// store, made by the constructor; no builder method replaces it (see
/// [the rule](crate#shared-state)), so they may be called at any time.
///
/// Admitted calls' responses are left as they are unless [`headers`](RateLimitLayer::headers)
/// is set (then `http::Response`s get `RateLimit-*` and `X-RateLimit-*` headers).
pub struct RateLimitLayer<KF = Global, St = LocalStore<()>, H = NoHeaders> {
    key_fn: KF,
    store: Arc<St>,
    fail_mode: FailMode,
    telemetry: Telemetry,
    headers: H,
}

impl<KF: Clone, St, H: Clone> Clone for RateLimitLayer<KF, St, H> {
    fn clone(&self) -> Self {
        Self {
            key_fn: self.key_fn.clone(),
            store: self.store.clone(),
            fail_mode: self.fail_mode,
            telemetry: self.telemetry.clone(),
            headers: self.headers.clone(),
        }
    }
}

impl<KF, St: std::fmt::Debug, H> std::fmt::Debug for RateLimitLayer<KF, St, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer").field("store", &self.store).finish()
    }
}

impl RateLimitLayer {
    /// One global quota.
    pub fn new(quota: Quota) -> Self {
        Self {
            key_fn: Global,
            store: Arc::new(LocalStore::new(quota, 1)),
            fail_mode: FailMode::Open,
            telemetry: Telemetry::new("rate_limit"),
            headers: NoHeaders,
        }
    }

    /// A quota per key, in memory, for at most `max_keys` keys.
    pub fn keyed<Req, KF: KeyFn<Req>>(
        quota: Quota,
        key_fn: KF,
        max_keys: usize,
    ) -> RateLimitLayer<KF, LocalStore<KF::Key>> {
        RateLimitLayer {
            key_fn,
            store: Arc::new(LocalStore::new(quota, max_keys)),
            fail_mode: FailMode::Open,
            telemetry: Telemetry::new("rate_limit"),
            headers: NoHeaders,
        }
    }

    /// A quota per key kept in `store` (e.g. the DynamoDB store).
    pub fn with_store<Req, KF: KeyFn<Req>, St: RateLimitStore<KF::Key>>(
        key_fn: KF,
        store: St,
    ) -> RateLimitLayer<KF, St> {
        RateLimitLayer {
            key_fn,
            store: Arc::new(store),
            fail_mode: FailMode::Open,
            telemetry: Telemetry::new("rate_limit"),
            headers: NoHeaders,
        }
    }
}

impl<KF, St, H> RateLimitLayer<KF, St, H> {
    /// Decorate admitted responses with `headers`: [`RateLimitHeaders`] adds `RateLimit-Limit`,
    /// `RateLimit-Remaining` and `RateLimit-Reset`, and their `X-RateLimit-*` twins, to
    /// `http::Response`s.
    pub fn headers<H2>(self, headers: H2) -> RateLimitLayer<KF, St, H2> {
        RateLimitLayer {
            key_fn: self.key_fn,
            store: self.store,
            fail_mode: self.fail_mode,
            telemetry: self.telemetry,
            headers,
        }
    }

    /// Shorthand for [`headers(RateLimitHeaders)`](Self::headers).
    pub fn http_headers(self) -> RateLimitLayer<KF, St, RateLimitHeaders> {
        self.headers(RateLimitHeaders)
    }

    /// Fail open or closed when the store errs.
    pub fn fail_mode(mut self, mode: FailMode) -> Self {
        self.fail_mode = mode;
        self
    }

    telemetry_builders!();

    /// The store.
    pub fn store(&self) -> &Arc<St> {
        &self.store
    }
}

impl<KF, K: PartitionKey, H> RateLimitLayer<KF, LocalStore<K>, H> {
    /// Keys held by the local store.
    pub fn keys(&self) -> usize {
        self.store.keys()
    }
}

impl<S, KF: Clone, St, H: Clone> Layer<S> for RateLimitLayer<KF, St, H> {
    type Service = RateLimit<S, KF, St, H>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            key_fn: self.key_fn.clone(),
            store: self.store.clone(),
            fail_mode: self.fail_mode,
            telemetry: self.telemetry.clone(),
            headers: self.headers.clone(),
        }
    }
}
