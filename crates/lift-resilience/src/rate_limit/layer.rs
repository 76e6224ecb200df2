use std::sync::Arc;

use tower::Layer;

use super::{LocalStore, NoDeadline, NoHeaders, Quota, RateLimit, RateLimitHeaders, RateLimitStore, RequestDeadline};
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
///
/// An asynchronous store is given no deadline unless
/// [`request_deadline`](RateLimitLayer::request_deadline) is set (then each call's own
/// [`Deadline`](crate::Deadline) bounds the store's call).
pub struct RateLimitLayer<KF = Global, St = LocalStore<()>, H = NoHeaders, D = NoDeadline> {
    key_fn: KF,
    store: Arc<St>,
    fail_mode: FailMode,
    telemetry: Telemetry,
    headers: H,
    deadline: D,
}

impl<KF: Clone, St, H: Clone, D: Clone> Clone for RateLimitLayer<KF, St, H, D> {
    fn clone(&self) -> Self {
        Self {
            key_fn: self.key_fn.clone(),
            store: self.store.clone(),
            fail_mode: self.fail_mode,
            telemetry: self.telemetry.clone(),
            headers: self.headers.clone(),
            deadline: self.deadline.clone(),
        }
    }
}

impl<KF, St: std::fmt::Debug, H, D> std::fmt::Debug for RateLimitLayer<KF, St, H, D> {
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
            deadline: NoDeadline,
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
            deadline: NoDeadline,
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
            deadline: NoDeadline,
        }
    }
}

impl<KF, St, H, D> RateLimitLayer<KF, St, H, D> {
    /// Decorate admitted responses with `headers`: [`RateLimitHeaders`] adds `RateLimit-Limit`,
    /// `RateLimit-Remaining` and `RateLimit-Reset`, and their `X-RateLimit-*` twins, to
    /// `http::Response`s.
    pub fn headers<H2>(self, headers: H2) -> RateLimitLayer<KF, St, H2, D> {
        RateLimitLayer {
            key_fn: self.key_fn,
            store: self.store,
            fail_mode: self.fail_mode,
            telemetry: self.telemetry,
            headers,
            deadline: self.deadline,
        }
    }

    /// Shorthand for [`headers(RateLimitHeaders)`](Self::headers).
    pub fn http_headers(self) -> RateLimitLayer<KF, St, RateLimitHeaders, D> {
        self.headers(RateLimitHeaders)
    }

    /// Hand each call's [`Deadline`](crate::Deadline) (for `http::Request`, its
    /// [`InvocationDeadline`](crate::InvocationDeadline)) to an asynchronous store through
    /// [`RateLimitStore::check_within`], so the store's call never outlives the invocation.
    /// The request type must then implement `Deadline`. Local stores answer synchronously and
    /// ignore it.
    pub fn request_deadline(self) -> RateLimitLayer<KF, St, H, RequestDeadline> {
        RateLimitLayer {
            key_fn: self.key_fn,
            store: self.store,
            fail_mode: self.fail_mode,
            telemetry: self.telemetry,
            headers: self.headers,
            deadline: RequestDeadline,
        }
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

impl<KF, K: PartitionKey, H, D> RateLimitLayer<KF, LocalStore<K>, H, D> {
    /// Keys held by the local store.
    pub fn keys(&self) -> usize {
        self.store.keys()
    }
}

impl<S, KF: Clone, St, H: Clone, D: Clone> Layer<S> for RateLimitLayer<KF, St, H, D> {
    type Service = RateLimit<S, KF, St, H, D>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            key_fn: self.key_fn.clone(),
            store: self.store.clone(),
            fail_mode: self.fail_mode,
            telemetry: self.telemetry.clone(),
            headers: self.headers.clone(),
            deadline: self.deadline.clone(),
        }
    }
}
